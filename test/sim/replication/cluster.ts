/**
 * The replication simulator: a partition on three brokers (real `core/replication` replicas) and
 * the controller, on the simulated network, disks and clocks of test/sim. One seed decides
 * everything, so a failure replays exactly with `npm run sim -- --replication --seed N`.
 *
 * Faults: crashes (a disk keeps only what was fsynced, maybe a torn prefix of the rest), restarts,
 * partitions, lossy and duplicating links, and session expiries of live brokers (the controller
 * then treats them as down: zombie leaders). The controller is the coordination service: it does
 * not crash and reaches every broker. Disks fsync in the background every few ms (group commit)
 * and the replica learns it through `Persisted`.
 *
 * Checked after every step: the invariants of core/replication/invariants.ts. At the end, after a
 * healed liveness phase in which a fresh acks=all write must succeed, a Jepsen-style check of the
 * client history against the final leader's log: every acknowledged acks=all write is there at
 * its offset, no value is at two offsets, and nothing was acknowledged at one offset twice.
 */
import {
  CONTROLLER,
  NONE,
  checkInvariants,
  controllerStep,
  defaultReplicaTimings,
  start,
  startController,
  step,
  type Acks,
  type ControllerInput,
  type ControllerSend,
  type ControllerState,
  type ControllerStep,
  type Durable,
  type Entry,
  type Input,
  type Message,
  type Output,
  type ReplicaConfig,
  type ReplicaState,
  type ReplicationBugs,
  type StepResult,
} from "../../../core/replication/index.ts"
import { makeClocks, type SimClock } from "../clock.ts"
import { SimDisk } from "../disk.ts"
import { EventQueue } from "../events.ts"
import { applyNetworkFault, randomFaultSchedule, type FaultEvent } from "../faults.ts"
import { SimNetwork, type Delivery, type NetworkConfig } from "../network.ts"
import { Prng } from "../prng.ts"

export interface ReplicationSimOptions {
  readonly seed: number
  readonly replicas?: number
  readonly minIsr?: number
  readonly chaosMs?: number
  readonly livenessMs?: number
  readonly tickMs?: number
  readonly produceEveryMs?: number
  readonly network?: Partial<NetworkConfig>
  readonly faults?: readonly FaultEvent[]
  readonly meanFaultGapMs?: number
  /** Most replicas down at once (default 1 of 3; 2 lets the ISR lose every member). */
  readonly maxDown?: number
  /** How long the controller takes to notice a crashed broker (its session expiring). */
  readonly sessionMs?: number
  readonly bugs?: ReplicationBugs
  readonly unclean?: boolean
  /** Keep every step's states, for trace validation. */
  readonly record?: boolean
  /** Record every core call (start/step, input, outputs) as conformance vectors. */
  readonly vectors?: boolean
  /** Stop once the recorded trace has this many steps (keeps traces checkable by TLC). */
  readonly maxTraceSteps?: number
}

/** One call of the replication core, as test/vectors/replication records it. */
export type ReplicationVectorEvent =
  | { readonly actor: number; readonly call: "start"; readonly durable: Durable; readonly now: number; readonly outputs: readonly Output[] }
  | { readonly actor: number; readonly call: "step"; readonly input: Input; readonly outputs: readonly Output[] }
  | { readonly actor: 0; readonly call: "controllerStart"; readonly outputs: readonly ControllerSend[] }
  | { readonly actor: 0; readonly call: "controllerStep"; readonly input: ControllerInput; readonly outputs: readonly ControllerSend[] }

type Ctrl = Extract<ControllerInput, { _tag: "BrokerDown" | "BrokerUp" }>

/** One recorded step: who stepped, on what, and everyone's state after it. */
export interface ReplicationTraceStep {
  readonly actor: number
  readonly action: string
  readonly controller: ControllerState
  readonly replicas: ReadonlyMap<number, ReplicaState>
  readonly sent: readonly { readonly from: number; readonly to: number; readonly message: Message }[]
  readonly acked: ReadonlyMap<number, string>
  /** What the actor stepped on (a replica's or the controller's input), if anything. */
  readonly input?: Input | ControllerInput
}

export interface ReplicationSimResult {
  readonly seed: number
  readonly ok: boolean
  readonly violation?: { readonly check: string; readonly message: string; readonly step: number; readonly time: number }
  readonly steps: number
  readonly simulatedMs: number
  readonly produced: number
  readonly ackedAll: number
  readonly leaderChanges: number
  readonly crashes: number
  readonly truncations: number
  readonly isrChanges: number
  readonly finalLogLength: number
  readonly results: Readonly<Record<string, number>>
  readonly faults: readonly FaultEvent[]
  readonly trace?: readonly ReplicationTraceStep[]
  readonly initial?: ReplicationTraceStep
  readonly vectors?: readonly ReplicationVectorEvent[]
  /** The replica configuration every replica of the run had (vectors need it). */
  readonly replicaConfig: Omit<ReplicaConfig, "id">
}

type Ev =
  | { readonly kind: "deliver"; readonly d: Delivery<Message> }
  | { readonly kind: "tick"; readonly node: number; readonly incarnation: number }
  | { readonly kind: "sync"; readonly node: number; readonly incarnation: number }
  | { readonly kind: "ctrl"; readonly input: Ctrl }
  | { readonly kind: "resend" }
  | { readonly kind: "fault"; readonly f: FaultEvent }
  | { readonly kind: "produce" }
  | { readonly kind: "phase" }

/** What the disk of a replica holds: the `Persist` outputs, folded in order. */
function fold(records: readonly Extract<Output, { _tag: "Persist" }>[]): Durable {
  let log: Entry[] = []
  let leaderEpoch = -1
  let hw = 0
  for (const p of records) {
    if (p.truncateTo !== undefined) log = log.slice(0, p.truncateTo)
    if (p.append !== undefined) log = [...log, ...p.append]
    if (p.leaderEpoch !== undefined) leaderEpoch = p.leaderEpoch
    if (p.hw !== undefined) hw = p.hw
  }
  return { log, leaderEpoch, hw }
}

class Violation extends Error {
  constructor(
    readonly check: string,
    message: string,
  ) {
    super(message)
  }
}

const enc = new TextEncoder()
const dec = new TextDecoder()

export function runReplicationSim(o: ReplicationSimOptions): ReplicationSimResult {
  const ids = Array.from({ length: o.replicas ?? 3 }, (_, i) => i + 1)
  const minIsr = o.minIsr ?? 2
  const chaosMs = o.chaosMs ?? 3_000
  const livenessMs = o.livenessMs ?? 5_000
  const tickMs = o.tickMs ?? 10
  const produceEveryMs = o.produceEveryMs ?? 15
  const sessionMs = o.sessionMs ?? 150
  const root = new Prng(o.seed)
  const net = new SimNetwork<Message>({ minDelay: 1, maxDelay: 15, lossRate: 0.02, dupRate: 0.02, ...o.network }, root.fork())
  const clocks: Map<number, SimClock> = makeClocks(root.fork(), ids, { maxSkew: 0.05, maxOffset: 1_000 })
  const crashPrng = root.fork()
  const clientPrng = root.fork()
  const faultPrng = root.fork()
  const syncPrng = root.fork()
  const faults = o.faults ?? randomFaultSchedule(faultPrng, { nodes: ids, duration: chaosMs, meanGap: o.meanFaultGapMs ?? 300, ...(o.maxDown === undefined ? {} : { maxDown: o.maxDown }) })
  const config = (id: number): ReplicaConfig => ({ id, replicas: ids, minIsr, ...defaultReplicaTimings, lagTimeMaxMs: 400, fetchTimeoutMs: 100, ...(o.bugs ? { bugs: o.bugs } : {}) })
  const disks = new Map(ids.map((n) => [n, new SimDisk<Extract<Output, { _tag: "Persist" }>>()]))

  const q = new EventQueue<Ev>()
  const states = new Map<number, ReplicaState | undefined>()
  /** What a down replica's disk holds, as the invariants see it. */
  const views = new Map<number, ReplicaState>()
  const incarnation = new Map(ids.map((n) => [n, 0]))
  const expired = new Set<number>()
  let ctrl: ControllerState
  let now = 0
  let steps = 0
  let nextValue = 1
  let nextRequest = 1
  let crashes = 0
  let truncations = 0
  let isrChanges = 0
  let leaderChanges = 0
  let ackedAll = 0
  let liveness = false
  const acked = new Map<number, string>()
  /** Produce answers by outcome, for the run's summary. */
  const results = new Map<string, number>()
  const requests = new Map<number, { value: string; acks: Acks }>()
  const trace: ReplicationTraceStep[] = []
  const vectors: ReplicationVectorEvent[] = []
  const control = (input: ControllerInput): ControllerStep => {
    const r = controllerStep(ctrl, input)
    lastInput = input
    if (o.vectors) vectors.push({ actor: 0, call: "controllerStep", input, outputs: r.outputs })
    return r
  }
  let initial: ReplicationTraceStep | undefined
  let lastSent: { from: number; to: number; message: Message }[] = []

  let lastInput: Input | ControllerInput | undefined
  const traceFull = () => o.maxTraceSteps !== undefined && trace.length >= o.maxTraceSteps
  const snapshot = (actor: number, action: string): ReplicationTraceStep => ({
    actor,
    action,
    controller: ctrl,
    replicas: new Map(views),
    sent: lastSent,
    acked: new Map(acked),
    ...(lastInput === undefined ? {} : { input: lastInput }),
  })

  function check(actor: number, action: string): void {
    steps++
    if (o.record) trace.push(snapshot(actor, action))
    lastSent = []
    lastInput = undefined
    const bad = checkInvariants({
      controller: ctrl.partition,
      replicas: views,
      acked: new Map([...acked].map(([k, v]) => [k, enc.encode(v)])),
      minIsr,
    })
    if (bad !== undefined) throw new Violation(bad.name, bad.message)
  }

  function send(from: number, to: number, message: Message): void {
    lastSent.push({ from, to, message })
    for (const d of net.send(now, from, to, message)) q.push(d.at, { kind: "deliver", d })
  }

  function applyController(r: ControllerStep, action: string): void {
    const before = ctrl?.partition
    ctrl = r.state
    if (before !== undefined && before.leaderEpoch !== ctrl.partition.leaderEpoch) leaderChanges++
    if (before !== undefined && before.isr.join() !== ctrl.partition.isr.join()) isrChanges++
    for (const out of r.outputs) send(CONTROLLER, out.to, out.message)
    check(CONTROLLER, action)
  }

  /** Carries out a replica step's outputs, as an embedder must (see core/replication/replica.ts). */
  function execute(id: number, r: StepResult, action: string): void {
    const disk = disks.get(id)!
    for (const out of r.outputs) {
      if (out._tag === "Persist") {
        disk.append(out)
        if (out.truncateTo !== undefined) truncations++
        // The leader epoch must be durable before anything else this step does.
        if (out.leaderEpoch !== undefined) disk.sync()
      } else if (out._tag === "Send") send(id, out.to, out.message)
      else if (out._tag === "ProduceResult") {
        const req = requests.get(out.requestId)
        if (req === undefined) throw new Violation("Client", `answer to unknown request ${out.requestId}`)
        requests.delete(out.requestId)
        const k = out.error ?? `ok(acks=${req.acks})`
        results.set(k, (results.get(k) ?? 0) + 1)
        if (out.error === undefined && req.acks === -1) {
          const prev = acked.get(out.offset!)
          if (prev !== undefined && prev !== req.value) throw new Violation("AckedOffsetReused", `offset ${out.offset} acknowledged for ${prev} and for ${req.value}`)
          acked.set(out.offset!, req.value)
          ackedAll++
        }
      }
    }
    states.set(id, r.state)
    views.set(id, r.state)
    check(id, action)
  }

  function feed(id: number, input: Input, action: string): void {
    const s = states.get(id)
    if (s === undefined) return
    const r = step(s, input)
    lastInput = input
    if (o.vectors) vectors.push({ actor: id, call: "step", input, outputs: r.outputs })
    execute(id, r, action)
  }

  function boot(id: number): void {
    const disk = disks.get(id)!
    const durable = fold(disk.recover())
    incarnation.set(id, incarnation.get(id)! + 1)
    const at = clocks.get(id)!.local(now)
    const r = start(config(id), durable, at)
    if (o.vectors) vectors.push({ actor: id, call: "start", durable, now: at, outputs: r.outputs })
    execute(id, r, "Restart")
    q.push(clocks.get(id)!.globalAfter(now, tickMs), { kind: "tick", node: id, incarnation: incarnation.get(id)! })
    q.push(now + syncPrng.range(2, 20), { kind: "sync", node: id, incarnation: incarnation.get(id)! })
  }

  function crash(id: number): void {
    if (states.get(id) === undefined) return
    crashes++
    const disk = disks.get(id)!
    disk.crash(crashPrng)
    states.set(id, undefined)
    incarnation.set(id, incarnation.get(id)! + 1)
    // The invariants see what the disk kept: a replica that crashed is its durable prefix.
    views.set(id, start(config(id), fold(disk.durableRecords()), now).state)
    check(id, "Crash")
    q.push(now + sessionMs, { kind: "ctrl", input: { _tag: "BrokerDown", id } })
  }

  function produce(value: string, acks: Acks, to?: number): void {
    const leaders = ids.filter((r) => states.get(r)?.role === "Leader")
    const target = to ?? (leaders.length > 0 ? clientPrng.pick(leaders) : clientPrng.pick(ids))
    const requestId = nextRequest++
    requests.set(requestId, { value, acks })
    feed(target, { _tag: "Produce", requestId, data: enc.encode(value), acks }, "Produce")
    if (states.get(target) === undefined) requests.delete(requestId)
  }

  // Boot.
  for (const id of ids) {
    states.set(id, undefined)
    views.set(id, start(config(id), { log: [], leaderEpoch: -1, hw: 0 }).state)
  }
  ctrl = startController({ replicas: ids, unclean: o.unclean ?? false }).state
  initial = snapshot(CONTROLLER, "Init")
  for (const id of ids) boot(id)
  const started = startController({ replicas: ids, unclean: o.unclean ?? false })
  if (o.vectors) vectors.push({ actor: 0, call: "controllerStart", outputs: started.outputs })
  applyController(started, "ControllerStart")
  for (const f of faults) q.push(f.at, { kind: "fault", f })
  q.push(chaosMs, { kind: "phase" })
  q.push(produceEveryMs, { kind: "produce" })
  q.push(200, { kind: "resend" })

  let violation: ReplicationSimResult["violation"]
  let probe: string | undefined
  let probeAt = 0
  let finalLogLength = 0
  const end = chaosMs + livenessMs
  try {
    for (let x = q.pop(); x !== undefined && x.time <= end; x = q.pop()) {
      now = x.time
      if (traceFull()) break
      const e = x.e
      switch (e.kind) {
        case "deliver": {
          if (!net.deliver(e.d)) break
          const input: Input = { _tag: "Receive", from: e.d.from, message: e.d.msg }
          if (e.d.to === CONTROLLER) applyController(control({ _tag: "Receive", from: e.d.from, message: e.d.msg }), `Controller${e.d.msg._tag}`)
          else feed(e.d.to, input, `Receive${e.d.msg._tag}`)
          break
        }
        case "tick": {
          if (incarnation.get(e.node) !== e.incarnation || states.get(e.node) === undefined) break
          feed(e.node, { _tag: "Tick", now: clocks.get(e.node)!.local(now) }, "Tick")
          q.push(clocks.get(e.node)!.globalAfter(now, tickMs), { kind: "tick", node: e.node, incarnation: e.incarnation })
          break
        }
        case "sync": {
          if (incarnation.get(e.node) !== e.incarnation || states.get(e.node) === undefined) break
          const disk = disks.get(e.node)!
          disk.sync()
          feed(e.node, { _tag: "Persisted", upTo: fold(disk.durableRecords()).log.length }, "Persisted")
          q.push(now + syncPrng.range(2, 20), { kind: "sync", node: e.node, incarnation: e.incarnation })
          break
        }
        case "ctrl": {
          if (e.input._tag === "BrokerUp" && ctrl.live.includes(e.input.id)) {
            // Its old session has not expired yet: register once it has.
            q.push(now + 50, { kind: "ctrl", input: e.input })
            break
          }
          applyController(control(e.input), `Controller${e.input._tag}`)
          break
        }
        case "resend":
          applyController(control({ _tag: "Resend" }), "ControllerResend")
          q.push(now + 200, { kind: "resend" })
          break
        case "produce":
          if (!liveness) produce(`v${nextValue++}`, clientPrng.pick([-1, -1, -1, 1, 0] as const))
          q.push(now + produceEveryMs, { kind: "produce" })
          break
        case "fault": {
          const f = e.f
          if (f.kind === "isolate" && states.get(f.node) !== undefined && faultPrng.chance(0.5)) {
            // Cut off long enough for its session to expire: the controller counts it down
            // while it still runs (a zombie), until the network heals.
            expired.add(f.node)
            q.push(now + sessionMs, { kind: "ctrl", input: { _tag: "BrokerDown", id: f.node } })
          }
          if (f.kind === "heal") for (const r of expired) q.push(now + 20, { kind: "ctrl", input: { _tag: "BrokerUp", id: r } })
          if (f.kind === "heal") expired.clear()
          if (applyNetworkFault(net, f)) break
          if (f.kind === "crash") crash(f.node)
          else if (f.kind === "restart" && states.get(f.node) === undefined) {
            boot(f.node)
            q.push(now + 20, { kind: "ctrl", input: { _tag: "BrokerUp", id: f.node } })
          }
          break
        }
        case "phase": {
          liveness = true
          net.heal()
          net.setFaults({ lossRate: 0, dupRate: 0 })
          for (const r of expired) q.push(now + 20, { kind: "ctrl", input: { _tag: "BrokerUp", id: r } })
          expired.clear()
          for (const id of ids)
            if (states.get(id) === undefined) {
              boot(id)
              q.push(now + 20, { kind: "ctrl", input: { _tag: "BrokerUp", id } })
            }
          break
        }
      }
      if (liveness) {
        // A fresh acks=all write must succeed once things calm down; retry on errors.
        if (probe !== undefined && [...acked.values()].includes(probe)) break
        const leader = ctrl.partition.leader
        if (leader !== NONE && states.get(leader)?.role === "Leader" && (probe === undefined || now - probeAt >= 300)) {
          probe = `live${o.seed}.${now}`
          probeAt = now
          produce(probe, -1, leader)
        }
      }
    }
    const cut = traceFull()
    if (!cut && liveness && (probe === undefined || ![...acked.values()].includes(probe)))
      throw new Violation("Liveness", `no acks=all write succeeded within ${livenessMs} ms after healing (leader ${ctrl.partition.leader}, ISR ${ctrl.partition.isr.join(",")})`)
    // Jepsen-style check of the client history against the final leader's log (a run cut
    // short for trace validation has no final state to check).
    const final = cut ? undefined : views.get(ctrl.partition.leader)!
    finalLogLength = final?.log.length ?? 0
    const seen = new Map<string, number>()
    final?.log.toArray().forEach((e, i) => {
      const v = dec.decode(e.data)
      const other = seen.get(v)
      if (other !== undefined) throw new Violation("NoDuplicates", `${v} is at offsets ${other} and ${i}`)
      seen.set(v, i)
    })
    if (final !== undefined)
      for (const [offset, v] of acked) if (seen.get(v) !== offset) throw new Violation("AckedReadBack", `acked ${v} at ${offset}, the final log has it at ${seen.get(v) ?? "no offset"}`)
  } catch (err) {
    if (err instanceof Violation) violation = { check: err.check, message: err.message, step: steps, time: now }
    else violation = { check: "Assertion", message: err instanceof Error ? `${err.message}\n${err.stack}` : String(err), step: steps, time: now }
  }
  return {
    seed: o.seed,
    ok: violation === undefined,
    ...(violation === undefined ? {} : { violation }),
    steps,
    simulatedMs: now,
    produced: nextValue - 1,
    ackedAll,
    leaderChanges,
    crashes,
    truncations,
    isrChanges,
    finalLogLength,
    results: Object.fromEntries(results),
    faults,
    ...(o.record ? { trace, ...(initial ? { initial } : {}) } : {}),
    ...(o.vectors ? { vectors } : {}),
    replicaConfig: (({ id: _, ...rest }) => rest)(config(1)),
  }
}
