/**
 * A tiny scenario language in the spirit of etcd/raft's testdata: each file under testdata/ is
 * a story told one command per line, with `expect` lines saying what must be true. The network
 * holds messages until a command delivers them, so each story controls the interleaving exactly.
 *
 *   cluster voters=1,2,3 observers=4   start nodes from empty disks
 *   tick 1,2 [n]   |  tick all [n]     feed n Tick inputs (default 1)
 *   deliver [n]                        deliver the messages pending now, n rounds (default 1)
 *   stabilize [n]                      n rounds (default 60) of: every node ticks, then all
 *                                      pending messages are delivered
 *   propose 3 a b                      a client batch to node 3
 *   crash 2  |  restart 2              lose volatile state / recover from disk
 *   partition 1 | 2,3,4  |  heal       messages across groups are dropped when delivered
 *   drop 3->1  |  drop all             throw away pending messages
 *   replay 3->1 NewLeader 2            deliver again the 2nd NewLeader ever delivered 3->1 (a
 *                                      duplicate the network held back)
 *   compact 3 [n]                      node 3's application snapshots its state after its n-th
 *                                      delivered entry (default: the last) and the core compacts
 *                                      its log to it
 *   expect role 3 leading              roles: looking following leading observing
 *   expect phase 4 broadcast           phases: election discovery sync broadcast
 *   expect leader 3 on 1,2,4           node(s) follow/observe 3
 *   expect delivered 1,2 a b           what the application saw, in order
 *   expect log 1 a b                   the node's history values after its base (committed or not)
 *   expect base 1 4                    the node's log is compacted up to position 4 (0: none)
 *   expect installed 1 4               the node's application last installed a snapshot of 4 entries
 *   expect rejected                    the last propose was refused
 *
 * Every step is also watched at the spec level: the TypeScript invariants are checked after each
 * one, and the run is recorded so trace validation can check the story against spec/Zab.tla.
 * An application's snapshot is the history it was delivered (as in the simulator), so the spec
 * view can expand a compacted log.
 */
import {
  makeConfig,
  recoverDurable,
  specMessage,
  specNode,
  start,
  step,
  type BugFlags,
  type Input,
  type Message,
  type NodeState,
  type Persist,
  type SpecMessage,
  type StepResult,
  type Txn,
} from "../../core/consensus/index.ts"
import { encodeHistory, expandHistory } from "../sim/zab/cluster.ts"
import { SpecRecorder } from "../sim/zab/recorder.ts"
import type { TraceRun } from "../trace/zab-trace.ts"

interface Pending {
  from: number
  to: number
  m: Message
}

export class ScenarioError extends Error {}

export interface ScenarioResult extends TraceRun {
  readonly log: readonly string[]
  /** The first invariant violated, if any (a story with a seeded bug may end in one). */
  readonly violation?: string
}

export function runScenario(text: string, opts: { bugs?: BugFlags; label?: string } = {}): ScenarioResult {
  const log: string[] = []
  const recorder = new SpecRecorder(true)
  const values: string[] = []
  const batches: string[][] = []
  const history: Pending[] = []
  let violation: string | undefined
  let steps = 0
  let voters: number[] = []
  let observers: number[] = []
  const states = new Map<number, NodeState | undefined>()
  const disks = new Map<number, Persist[]>()
  /** What each node's application holds: the transactions it was delivered (or installed). */
  const delivered = new Map<number, Txn[]>()
  const installed = new Map<number, number>()
  let net: Pending[] = []
  let groups: number[][] | undefined
  let lastRejected = false
  const dec = new TextDecoder()

  const all = () => [...voters, ...observers]
  const nodesArg = (a: string | undefined): number[] => {
    if (a === undefined) throw new ScenarioError("missing node list")
    return a === "all" ? all() : a.split(",").map(Number)
  }
  const apply = (id: number, r: StepResult, action: string) => {
    states.set(id, r.state)
    const sent: SpecMessage[] = []
    for (const o of r.outputs) {
      if (o._tag === "Persist") disks.get(id)!.push(o)
      else if (o._tag === "Send") {
        net.push({ from: id, to: o.to, m: o.message })
        const sm = specMessage(r.state, o.to, o.message, expandHistory)
        if (sm !== undefined) sent.push(sm)
      }
      else if (o._tag === "Deliver") {
        if (o.snapshot !== undefined) {
          delivered.set(id, [...expandHistory(o.snapshot)])
          installed.set(id, o.snapshot.index)
        }
        delivered.get(id)!.push(...o.txns)
      }
      else if (o._tag === "ProposeRejected") lastRejected = true
      else if (o._tag === "RoleChanged") {
        const detail = o.role === "leading" ? ` epoch ${o.epoch}` : o.role === "looking" ? "" : ` ${o.leader}`
        log.push(`  node ${id}: ${o.role}${detail}`)
      }
    }
    const bad = recorder.step(id, specNode(r.state, expandHistory), action, sent, steps++)
    if (bad !== undefined && violation === undefined) {
      violation = `${bad.name}: ${bad.message}`
      log.push(`  INVARIANT VIOLATED: ${violation}`)
    }
  }
  const config = (id: number) => makeConfig(id, voters, observers, {}, opts.bugs)
  const boot = (id: number, action: string) => {
    delivered.set(id, [])
    installed.delete(id)
    apply(id, start(config(id), recoverDurable(disks.get(id)!)), action)
  }
  const feed = (id: number, input: Input, action: string) => {
    const s = states.get(id)
    if (s !== undefined) apply(id, step(s, input), action)
  }
  const receive = (p: Pending) => {
    if (states.get(p.to) === undefined) return
    history.push(p)
    if (process.env.SCENARIO_DEBUG) log.push(`    ${p.from}->${p.to} ${JSON.stringify(p.m, (_k, v) => (v instanceof Uint8Array ? dec.decode(v) : v))}`)
    feed(p.to, { _tag: "Receive", from: p.from, message: p.m }, `Receive${p.m._tag}`)
  }
  const connected = (a: number, b: number) => groups === undefined || groups.some((g) => g.includes(a) && g.includes(b))
  const deliverRound = () => {
    const batch = net
    net = []
    for (const p of batch) if (connected(p.from, p.to)) receive(p)
  }
  const logValues = (s: NodeState) => s.log.toArray().map((t) => dec.decode(t.data))

  const lines = text.split("\n")
  for (let ln = 0; ln < lines.length; ln++) {
    const line = lines[ln]!.replace(/#.*/, "").trim()
    if (line === "") continue
    log.push(line)
    const [cmd, ...args] = line.split(/\s+/)
    const fail = (msg: string): never => {
      throw new ScenarioError(`line ${ln + 1} (${line}): ${msg}\n${log.join("\n")}`)
    }
    switch (cmd) {
      case "cluster":
        for (const a of args) {
          const [k, v] = a.split("=")
          if (k === "voters") voters = v!.split(",").map(Number)
          else if (k === "observers") observers = v!.split(",").map(Number)
        }
        for (const id of all()) disks.set(id, [])
        recorder.start(new Map(all().map((id) => [id, specNode(start(config(id), recoverDurable([])).state, expandHistory)])))
        for (const id of all()) boot(id, "Start")
        break
      case "tick": {
        const n = Number(args[1] ?? 1)
        for (let i = 0; i < n; i++) for (const id of nodesArg(args[0])) feed(id, { _tag: "Tick" }, "Tick")
        break
      }
      case "deliver":
        for (let i = 0; i < Number(args[0] ?? 1); i++) deliverRound()
        break
      case "stabilize":
        // Long enough for a failure to be noticed (syncLimit), an election and a sync.
        for (let i = 0; i < Number(args[0] ?? 60); i++) {
          for (const id of all()) feed(id, { _tag: "Tick" }, "Tick")
          deliverRound()
          deliverRound()
        }
        break
      case "propose":
        lastRejected = false
        values.push(...args.slice(1))
        batches.push(args.slice(1))
        feed(Number(args[0]), { _tag: "Propose", data: args.slice(1).map((v) => new TextEncoder().encode(v)) }, "LeaderPropose")
        break
      case "crash":
        for (const id of nodesArg(args[0])) states.set(id, undefined)
        net = net.filter((p) => !nodesArg(args[0]).includes(p.to))
        break
      case "restart":
        for (const id of nodesArg(args[0])) boot(id, "Restart")
        break
      case "compact": {
        const id = Number(args[0])
        const got = delivered.get(id) ?? []
        const n = Number(args[1] ?? got.length)
        if (!(n >= 1 && n <= got.length)) fail(`node ${id} has delivered ${got.length} entries`)
        feed(id, { _tag: "Compact", zxid: got[n - 1]!.zxid, data: encodeHistory(got.slice(0, n)) }, "Compact")
        break
      }
      case "partition":
        groups = args.join(" ").split("|").map((g) => g.trim().split(",").map(Number))
        break
      case "heal":
        groups = undefined
        break
      case "drop":
        if (args[0] === "all") net = []
        else {
          const [f, t] = args[0]!.split("->").map(Number)
          net = net.filter((p) => !(p.from === f && p.to === t))
        }
        break
      case "replay": {
        const [f, t] = args[0]!.split("->").map(Number)
        const matching = history.filter((p) => p.from === f && p.to === t && p.m._tag === args[1])
        const p = matching[Number(args[2] ?? 1) - 1]
        if (p === undefined) fail(`only ${matching.length} ${args[1]} message(s) were delivered ${args[0]}`)
        receive(p!)
        break
      }
      case "expect": {
        const [what, ...rest] = args
        if (what === "rejected") {
          if (!lastRejected) fail("the proposal was accepted")
          break
        }
        if (what === "role") {
          const s = states.get(Number(rest[0]))
          if (s?.role !== rest[1]) fail(`node ${rest[0]} is ${s?.role ?? "down"}`)
        } else if (what === "phase") {
          for (const id of nodesArg(rest[0])) {
            const s = states.get(id)
            if (s?.phase !== rest[1]) fail(`node ${id} is in ${s?.phase ?? "no phase (down)"}`)
          }
        } else if (what === "leader") {
          const l = Number(rest[0])
          const on = rest[1] === "on" ? nodesArg(rest[2]) : [l]
          for (const id of on) {
            const s = states.get(id)
            if (s?.leader !== l || (id === l && !(s.role === "leading" && s.phase === "broadcast"))) {
              fail(`node ${id}: role ${s?.role} phase ${s?.phase} leader ${s?.leader}`)
            }
          }
        } else if (what === "base" || what === "installed") {
          for (const id of nodesArg(rest[0])) {
            const got = what === "base" ? (states.get(id)?.log.baseIndex ?? -1) : (installed.get(id) ?? 0)
            if (got !== Number(rest[1])) fail(`node ${id}: ${what} ${got}`)
          }
        } else if (what === "delivered" || what === "log") {
          for (const id of nodesArg(rest[0])) {
            const s = states.get(id)
            const got = what === "delivered" ? delivered.get(id)!.map((t) => dec.decode(t.data)) : s ? logValues(s) : []
            if (got.join(" ") !== rest.slice(1).join(" ")) fail(`node ${id} has [${got.join(" ")}]`)
          }
        } else fail(`unknown expectation ${what}`)
        break
      }
      default:
        fail(`unknown command ${cmd}`)
    }
  }
  const result: ScenarioResult = {
    label: opts.label ?? "a scenario",
    log,
    trace: recorder.trace,
    initial: recorder.initial,
    voters,
    observers,
    values,
    batches,
    maxEpoch: recorder.maxEpoch,
    maxBatch: Math.max(1, ...batches.map((b) => b.length)),
  }
  return violation === undefined ? result : { ...result, violation }
}
