/**
 * The Zab cluster simulator: real `core/consensus` nodes on the simulated network, disks and
 * clocks of test/sim. One seed decides everything, so any failure replays exactly with
 * `npm run sim -- --seed N`.
 *
 * A run has a chaos phase (faults from a schedule: crashes, restarts, partitions, lossy links)
 * and a liveness phase (everything healed and calm: a leader must be established and a fresh
 * proposal must reach every node). After every step the TypeScript invariants are checked on
 * the spec-level view of the whole cluster; optionally each step is recorded for trace validation.
 *
 * With `compactEveryMs`, every node's "application" (the history it was delivered) snapshots and
 * compacts its log at random delivered points. Its snapshot is that history itself, so the spec
 * view can expand a base back into the entries it stands for and every check runs unchanged.
 */
import {
  makeConfig,
  recoverDurable,
  specMessage,
  specNode,
  start,
  step,
  type BugFlags,
  type Durable,
  defaultTiming,
  type Input,
  type Message,
  type NodeState,
  type Output,
  type Persist,
  type SpecMessage,
  type SpecNode,
  type StepResult,
  type Snapshot,
  type Txn,
} from "../../../core/consensus/index.ts"
import { SpecRecorder, type TraceStep } from "./recorder.ts"
export type { TraceStep }
import { makeClocks, type SimClock } from "../clock.ts"
import { SimDisk } from "../disk.ts"
import { EventQueue } from "../events.ts"
import { applyNetworkFault, randomFaultSchedule, type FaultEvent } from "../faults.ts"
import { SimNetwork, type Delivery, type NetworkConfig } from "../network.ts"
import { Prng } from "../prng.ts"

export interface ZabSimOptions {
  readonly seed: number
  readonly voters?: number
  readonly observers?: number
  /** Length of the chaos phase, simulated ms. */
  readonly chaosMs?: number
  /** Time allowed for recovery and progress once everything is healed. */
  readonly livenessMs?: number
  readonly tickMs?: number
  readonly proposeEveryMs?: number
  readonly maxBatch?: number
  readonly network?: Partial<NetworkConfig>
  /** Explicit fault schedule (from fast-check); otherwise one is drawn from the seed. */
  readonly faults?: readonly FaultEvent[]
  readonly meanFaultGapMs?: number
  readonly bugs?: BugFlags
  /** Record every step for trace validation. */
  readonly record?: boolean
  /** Stop at the first step whose trace would exceed this many lines (keeps traces checkable). */
  readonly maxTraceSteps?: number
  /** Record every core call (start/step, input, outputs) as conformance vectors. */
  readonly vectors?: boolean
  /** Every this many ms, each live node compacts its log at a random delivered entry. Off when absent. */
  readonly compactEveryMs?: number
}

/** One call of the core, as conformance vectors record it (see test/vectors/README.md). */
export type VectorEvent =
  | { readonly node: number; readonly call: "start"; readonly durable: Durable; readonly outputs: readonly Output[] }
  | { readonly node: number; readonly call: "step"; readonly input: Input; readonly outputs: readonly Output[] }

export interface ZabSimResult {
  readonly seed: number
  readonly label: string
  readonly ok: boolean
  readonly steps: number
  readonly simulatedMs: number
  readonly violation?: { readonly check: string; readonly message: string; readonly step: number; readonly time: number }
  readonly committed: number
  readonly proposals: number
  readonly crashes: number
  readonly trace?: readonly TraceStep[]
  readonly initial?: ReadonlyMap<number, SpecNode>
  readonly voters: readonly number[]
  readonly observers: readonly number[]
  readonly maxEpoch: number
  readonly maxBatch: number
  readonly values: readonly string[]
  /** Every client batch, in proposal order (trace validation restricts the spec's batches to these). */
  readonly batches: readonly (readonly string[])[]
  readonly faults: readonly FaultEvent[]
  readonly vectors?: readonly VectorEvent[]
  readonly timing: { readonly heartbeatTicks: number; readonly syncLimitTicks: number; readonly initLimitTicks: number }
  /** Compactions carried out (with `compactEveryMs`). */
  readonly compactions: number
  /** Deliveries that handed the application a snapshot (a restart or a SNAP from a compacted leader). */
  readonly snapshotsDelivered: number
}

/** The simulated application's snapshot: the history it was delivered, as JSON. */
export const encodeHistory = (txns: readonly Txn[]): Uint8Array =>
  new TextEncoder().encode(JSON.stringify(txns.map((t) => [t.zxid, new TextDecoder().decode(t.data)])))
export const expandHistory = (s: Snapshot): readonly Txn[] =>
  (JSON.parse(new TextDecoder().decode(s.data)) as [number, string][]).map(([zxid, v]) => ({ zxid, data: new TextEncoder().encode(v) }))

type Ev =
  | { readonly kind: "deliver"; readonly d: Delivery<Message> }
  | { readonly kind: "tick"; readonly node: number; readonly incarnation: number }
  | { readonly kind: "fault"; readonly f: FaultEvent }
  | { readonly kind: "propose" }
  | { readonly kind: "phase"; readonly to: "liveness" }
  | { readonly kind: "compact" }

interface SimNode {
  state: NodeState | undefined // undefined while crashed
  incarnation: number
  view: SpecNode
  /** Crash strikes in the middle of this node's next persisting step (the record may be lost or torn). */
  crashMidPersist: boolean
  /** What this incarnation delivered to its application, from the first transaction on. */
  delivered: Txn[]
}

class Violation extends Error {
  constructor(
    readonly check: string,
    message: string,
  ) {
    super(message)
  }
}

export function runZabSim(o: ZabSimOptions): ZabSimResult {
  const nVoters = o.voters ?? 3
  const nObservers = o.observers ?? 1
  const chaosMs = o.chaosMs ?? 3_000
  const livenessMs = o.livenessMs ?? 4_000
  const tickMs = o.tickMs ?? 10
  const proposeEveryMs = o.proposeEveryMs ?? 40
  const maxBatch = o.maxBatch ?? 3
  const voters = Array.from({ length: nVoters }, (_, i) => i + 1)
  const observers = Array.from({ length: nObservers }, (_, i) => nVoters + i + 1)
  const all = [...voters, ...observers]

  const root = new Prng(o.seed)
  const net = new SimNetwork<Message>(
    { minDelay: 1, maxDelay: 20, lossRate: 0.02, dupRate: 0.02, ...o.network },
    root.fork(),
  )
  const clocks: Map<number, SimClock> = makeClocks(root.fork(), all, { maxSkew: 0.05, maxOffset: 1_000 })
  const crashPrng = root.fork()
  const clientPrng = root.fork()
  const faultPrng = root.fork()
  const compactPrng = root.fork()
  const disks = new Map(all.map((n) => [n, new SimDisk<Persist>()]))
  const faults =
    o.faults ?? randomFaultSchedule(faultPrng, { nodes: all, duration: chaosMs, meanGap: o.meanFaultGapMs ?? 400 })
  const config = (id: number) => makeConfig(id, voters, observers, {}, o.bugs)

  const q = new EventQueue<Ev>()
  const nodes = new Map<number, SimNode>()
  const recorder = new SpecRecorder(o.record ?? false)
  const vectors: VectorEvent[] = []
  const values: string[] = []
  const batches: string[][] = []
  let now = 0
  let nextValue = 1
  let crashes = 0
  let compactions = 0
  let snapshotsDelivered = 0
  let liveness = false

  /** Spec-level bookkeeping and the invariant check after node `id` changed. */
  function observe(id: number, action: string, sent: SpecMessage[]): void {
    const bad = recorder.step(id, nodes.get(id)!.view, action, sent, now)
    if (bad !== undefined) throw new Violation(bad.name, bad.message)
  }

  /** Executes a step's outputs in order, as an embedder must: Persist is synced before any Send. */
  function execute(id: number, r: StepResult, action: string): void {
    const n = nodes.get(id)!
    const disk = disks.get(id)!
    const sent: SpecMessage[] = []
    for (const out of r.outputs) {
      if (out._tag === "Persist") {
        disk.append(out)
        if (n.crashMidPersist) {
          // Crash before the fsync: the record is lost, survives, or is torn; the step's sends
          // never happen. What the disk kept decides whether the step happened at all.
          n.crashMidPersist = false
          const survived = disk.crashBeforeSync(crashPrng)
          if (survived) {
            n.view = specNode(r.state, expandHistory)
            observe(id, action, [])
          }
          return crash(id)
        }
        disk.sync()
      } else if (out._tag === "Send") {
        const m = specMessage(r.state, out.to, out.message, expandHistory)
        if (m !== undefined) sent.push(m)
        for (const d of net.send(now, id, out.to, out.message)) q.push(d.at, { kind: "deliver", d })
      } else if (out._tag === "Deliver") {
        if (out.snapshot !== undefined) {
          snapshotsDelivered++
          n.delivered = [...expandHistory(out.snapshot)]
        }
        n.delivered.push(...out.txns)
      }
    }
    n.state = r.state
    n.view = specNode(r.state, expandHistory)
    observe(id, action, sent)
  }

  function scheduleTick(id: number): void {
    const n = nodes.get(id)!
    q.push(clocks.get(id)!.globalAfter(now, tickMs), { kind: "tick", node: id, incarnation: n.incarnation })
  }

  function boot(id: number, restart: boolean): void {
    const disk = disks.get(id)!
    const durable = recoverDurable(restart ? disk.recover() : [])
    const r = start(config(id), durable)
    if (o.vectors) vectors.push({ node: id, call: "start", durable, outputs: r.outputs })
    const n = nodes.get(id)!
    n.incarnation++
    n.delivered = []
    execute(id, r, restart ? "Restart" : "Start")
    scheduleTick(id)
  }

  function crash(id: number): void {
    const n = nodes.get(id)!
    if (n.state === undefined) return
    crashes++
    if (disks.get(id)!.unsynced > 0) disks.get(id)!.crash(crashPrng)
    n.state = undefined
    n.incarnation++ // orphan pending ticks
  }

  function feed(id: number, input: Input, action: string): void {
    const n = nodes.get(id)!
    if (n.state === undefined) return
    const r = step(n.state, input)
    if (o.vectors) vectors.push({ node: id, call: "step", input, outputs: r.outputs })
    execute(id, r, action)
  }

  function propose(): void {
    // The client sends to a node that believes it is an established leader, as a ZooKeeper
    // client's request would be forwarded there.
    const leaders = voters.filter((v) => {
      const s = nodes.get(v)!.state
      return s?.role === "leading" && s.phase === "broadcast"
    })
    if (leaders.length === 0) return
    const l = clientPrng.pick(leaders)
    const batch = Array.from({ length: clientPrng.range(1, maxBatch) }, () => `v${nextValue++}`)
    values.push(...batch)
    batches.push(batch)
    feed(l, { _tag: "Propose", data: batch.map((b) => new TextEncoder().encode(b)) }, "LeaderPropose")
  }

  // Boot.
  for (const id of all) {
    nodes.set(id, { state: undefined, incarnation: 0, view: undefined as unknown as SpecNode, crashMidPersist: false, delivered: [] })
  }
  for (const id of all) {
    const n = nodes.get(id)!
    n.view = specNode(start(config(id), recoverDurable([])).state, expandHistory) // initial view before Start's step
  }
  recorder.start(new Map([...nodes].map(([k, x]) => [k, x.view])))
  for (const f of faults) q.push(f.at, { kind: "fault", f })
  q.push(chaosMs, { kind: "phase", to: "liveness" })
  q.push(proposeEveryMs, { kind: "propose" })
  if (o.compactEveryMs !== undefined) q.push(o.compactEveryMs, { kind: "compact" })

  let violation: ZabSimResult["violation"]
  const attempts: string[] = []
  let lastAttemptAt = 0
  const deliveredEverywhere = (value: string) =>
    all.every((id) => {
      const v = nodes.get(id)!.view
      return v.history.slice(0, v.lastCommitted).some((t) => t.value === value)
    })
  const end = chaosMs + livenessMs
  try {
    for (const id of all) boot(id, false)
    for (let x = q.pop(); x !== undefined && x.time <= end; x = q.pop()) {
      now = x.time
      if (o.maxTraceSteps !== undefined && recorder.trace.length >= o.maxTraceSteps) break
      const e = x.e
      switch (e.kind) {
        case "deliver": {
          const to = nodes.get(e.d.to)!
          if (to.state !== undefined && net.deliver(e.d)) {
            feed(e.d.to, { _tag: "Receive", from: e.d.from, message: e.d.msg }, `Receive${e.d.msg._tag}`)
          }
          break
        }
        case "tick": {
          const n = nodes.get(e.node)!
          if (n.state === undefined || n.incarnation !== e.incarnation) break
          feed(e.node, { _tag: "Tick" }, "Tick")
          if (nodes.get(e.node)!.state !== undefined) scheduleTick(e.node)
          break
        }
        case "propose":
          if (!liveness) propose()
          q.push(now + proposeEveryMs, { kind: "propose" })
          break
        case "fault": {
          const f = e.f
          if (applyNetworkFault(net, f)) break
          if (f.kind === "crash") {
            // Half the crashes strike inside a persisting step rather than between steps.
            if (crashPrng.chance(0.5)) nodes.get(f.node)!.crashMidPersist = true
            else crash(f.node)
          } else if (f.kind === "restart") {
            const n = nodes.get(f.node)!
            if (n.state !== undefined && n.crashMidPersist) {
              n.crashMidPersist = false
              crash(f.node)
            }
            if (n.state === undefined) boot(f.node, true)
          }
          break
        }
        case "compact": {
          for (const id of all) {
            const n = nodes.get(id)!
            if (n.state === undefined || n.delivered.length === 0) continue
            // Anywhere from the newest delivered entry to well behind it, so lagging learners
            // meet every case: DIFF above the base, SNAP below it, an Inform with the snapshot.
            const upTo = compactPrng.range(Math.max(1, n.delivered.length - 8), n.delivered.length)
            const last = n.delivered[upTo - 1]!
            if (last.zxid <= n.state.log.baseZxid) continue
            compactions++
            feed(id, { _tag: "Compact", zxid: last.zxid, data: encodeHistory(n.delivered.slice(0, upTo)) }, "Compact")
          }
          q.push(now + o.compactEveryMs!, { kind: "compact" })
          break
        }
        case "phase": {
          // Liveness: heal everything, restart anyone still down, and require a fresh value to
          // be delivered everywhere.
          liveness = true
          net.heal()
          net.setFaults({ lossRate: 0, dupRate: 0 })
          for (const id of all) {
            const n = nodes.get(id)!
            n.crashMidPersist = false
            if (n.state === undefined) boot(id, true)
          }
          break
        }
      }
      if (liveness) {
        // A client retries: a proposal may land on a leader that is about to lose its quorum, so
        // after a while it proposes a fresh value to whoever leads now. Liveness holds once one
        // of them is delivered everywhere.
        if (attempts.some(deliveredEverywhere)) break
        const leaders = voters.filter((v) => {
          const s = nodes.get(v)!.state
          return s?.role === "leading" && s.phase === "broadcast"
        })
        if (leaders.length === 1 && (attempts.length === 0 || now - lastAttemptAt >= 500)) {
          const target = `live${o.seed}.${attempts.length + 1}`
          attempts.push(target)
          lastAttemptAt = now
          values.push(target)
          batches.push([target])
          feed(leaders[0]!, { _tag: "Propose", data: [new TextEncoder().encode(target)] }, "LeaderPropose")
        }
      }
    }
    if (liveness && !(o.maxTraceSteps !== undefined && recorder.trace.length >= o.maxTraceSteps) && !attempts.some(deliveredEverywhere)) {
      if (attempts.length === 0) throw new Violation("Liveness", `no leader was established within ${livenessMs} ms after healing`)
      const missing = all.filter((id) => !attempts.some((a) => nodes.get(id)!.view.history.slice(0, nodes.get(id)!.view.lastCommitted).some((t) => t.value === a)))
      throw new Violation("Liveness", `none of ${attempts.join(", ")} was delivered everywhere within ${livenessMs} ms after healing (missing on nodes ${missing.join(",")})`)
    }
  } catch (err) {
    const step = recorder.steps
    if (err instanceof Violation) violation = { check: err.check, message: err.message, step, time: now }
    else violation = { check: "Assertion", message: err instanceof Error ? `${err.message}\n${err.stack}` : String(err), step, time: now }
  }

  const committed = Math.max(...[...nodes.values()].map((n) => n.view.lastCommitted))
  const base = {
    seed: o.seed,
    label: `simulator seed ${o.seed}${o.bugs ? ` with bugs ${JSON.stringify(o.bugs)}` : ""}`,
    ok: violation === undefined,
    steps: recorder.steps,
    simulatedMs: now,
    committed,
    proposals: values.length,
    crashes,
    voters,
    observers,
    maxEpoch: recorder.maxEpoch,
    maxBatch,
    values,
    batches,
    faults,
    timing: defaultTiming,
    compactions,
    snapshotsDelivered,
    ...(o.record ? { trace: recorder.trace, initial: recorder.initial } : {}),
    ...(o.vectors ? { vectors } : {}),
  }
  return violation === undefined ? base : { ...base, violation }
}

