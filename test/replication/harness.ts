/** A hand-driven replication cluster for the unit tests and the bug zoo's stories. */
import {
  CONTROLLER,
  checkInvariants,
  controllerStep,
  defaultReplicaTimings,
  start,
  startController,
  step,
  type ControllerState,
  type Durable,
  type Entry,
  type Input,
  type Message,
  type Output,
  type PartitionState,
  type ReplicaState,
  type ReplicationBugs,
  type Violation,
} from "../../core/replication/index.ts"

const enc = new TextEncoder()
const dec = new TextDecoder()
export const ids = [1, 2, 3]
export const config = (id: number, minIsr = 2, bugs?: ReplicationBugs) => ({ id, replicas: ids, minIsr, ...defaultReplicaTimings, ...(bugs ? { bugs } : {}) })
export const entry = (epoch: number, v: string): Entry => ({ epoch, data: enc.encode(v) })
export const values = (s: ReplicaState): string[] => s.log.toArray().map((e) => `${e.epoch}:${dec.decode(e.data)}`)

/** A hand-driven cluster: messages queue up until `deliver` runs them; persists confirm at once. */
export class Cluster {
  readonly r = new Map<number, ReplicaState>()
  ctrl: ControllerState
  queue: { from: number; to: number; message: Message }[] = []
  results: Output[] = []
  down = new Set<number>()
  now = 0
  private nextRequest = 1
  /** Called after every replica step (the bug zoo checks invariants there). */
  onStep: ((c: Cluster) => void) | undefined

  constructor(durables: Partial<Record<number, Durable>> = {}, minIsr = 2, bugs?: ReplicationBugs) {
    for (const id of ids) this.r.set(id, start(config(id, minIsr, bugs), durables[id] ?? { log: [], leaderEpoch: -1, hw: 0 }).state)
    const c = startController({ replicas: ids, unclean: false })
    this.ctrl = c.state
    for (const o of c.outputs) this.queue.push({ from: CONTROLLER, to: o.to, message: o.message })
  }

  feed(id: number, input: Input): readonly Output[] {
    if (this.down.has(id)) return []
    const res = step(this.r.get(id)!, input)
    this.r.set(id, res.state)
    let persisted = false
    for (const o of res.outputs) {
      if (o._tag === "Send") this.queue.push({ from: id, to: o.to, message: o.message })
      else if (o._tag === "ProduceResult") this.results.push(o)
      else if (o._tag === "Persist" && (o.append !== undefined || o.truncateTo !== undefined)) persisted = true
    }
    this.onStep?.(this)
    if (persisted) this.feed(id, { _tag: "Persisted", upTo: res.state.log.length })
    return res.outputs
  }

  control(input: Parameters<typeof controllerStep>[1]): void {
    const c = controllerStep(this.ctrl, input)
    this.ctrl = c.state
    for (const o of c.outputs) this.queue.push({ from: CONTROLLER, to: o.to, message: o.message })
  }

  /** Delivers queued messages (and what they cause) until none is left, or `rounds` run out. */
  deliver(rounds = 1000): void {
    for (let i = 0; i < rounds && this.queue.length > 0; i++) {
      const { from, to, message } = this.queue.shift()!
      if (to === CONTROLLER) this.control({ _tag: "Receive", from, message })
      else if (!this.down.has(to)) this.feed(to, { _tag: "Receive", from, message })
    }
  }

  tick(ms: number): void {
    this.now += ms
    for (const id of ids) this.feed(id, { _tag: "Tick", now: this.now })
  }

  produce(id: number, v: string, acks: 0 | 1 | -1 = -1): void {
    this.feed(id, { _tag: "Produce", requestId: this.nextRequest++, data: enc.encode(v), acks })
  }

  /** Lets `ms` pass in fetch-backoff steps, delivering as it goes (live followers keep fetching). */
  elapse(ms: number): void {
    for (let t = 0; t < ms; t += defaultReplicaTimings.fetchBackoffMs) {
      this.tick(defaultReplicaTimings.fetchBackoffMs)
      this.deliver()
    }
  }

  /** Lets fetches go round until quiet. */
  settle(): void {
    for (let i = 0; i < 20; i++) {
      this.deliver()
      this.tick(defaultReplicaTimings.fetchBackoffMs)
    }
    this.deliver()
  }
}

/** The invariants over this cluster (no acks tracked: the stories check logs and HWs). */
export const violation = (c: Cluster): Violation | undefined => checkInvariants({ controller: c.ctrl.partition, replicas: c.r, acked: new Map(), minIsr: 2 })

/**
 * KIP-279's example: replica 1 led epoch 1 and wrote a, b (b never replicated); replica 2 then
 * led epoch 2 and wrote c at offset 1. Now 1 leads epoch 3 and writes d; 2 and 3 follow it.
 */
export function kip279Story(bugs?: ReplicationBugs, onStep?: (c: Cluster) => void): Cluster {
  const durables: Record<number, Durable> = {
    1: { log: [entry(1, "a"), entry(1, "b")], leaderEpoch: 1, hw: 1 },
    2: { log: [entry(1, "a"), entry(2, "c")], leaderEpoch: 2, hw: 1 },
    3: { log: [entry(1, "a")], leaderEpoch: 2, hw: 1 },
  }
  const c = new Cluster(durables, 2, bugs)
  c.onStep = onStep
  c.queue = []
  const state: PartitionState = { leader: 1, leaderEpoch: 3, isr: [1, 2, 3], partitionEpoch: 9 }
  for (const id of ids) c.queue.push({ from: CONTROLLER, to: id, message: { _tag: "LeaderAndIsr", state } })
  c.deliver()
  c.produce(1, "d")
  c.settle()
  return c
}
