/**
 * `npm run demo`: a 3-voter + 1-observer cluster in one process, embedding the pure consensus core
 * with our own I/O. The core never touches a clock, a socket or a disk; this file supplies all
 * three: `setInterval` ticks, an asynchronous in-memory message bus, and an in-memory "disk".
 *
 *   npm run demo -- --values 20 --kill-leader
 */
import { parseArgs } from "node:util"
import {
  formatZxid,
  makeConfig,
  recoverDurable,
  start,
  step,
  type Config,
  type Input,
  type Message,
  type NodeId,
  type NodeState,
  type Output,
  type Persist,
  type StepResult,
} from "../../core/consensus/index.ts"

const { values: flags } = parseArgs({
  options: { values: { type: "string", default: "20" }, "kill-leader": { type: "boolean", default: false } },
})
const TOTAL = Number(flags.values)
if (!Number.isInteger(TOTAL) || TOTAL < 1) {
  console.error(`--values must be a positive integer, got ${flags.values}`)
  process.exit(2)
}
const TICK_MS = 20 // one core Tick; default timing: heartbeat 2 ticks, syncLimit 10, initLimit 20
const NEW_VALUE_MS = 125 // the "client" produces 8 values per second
const DEADLINE_MS = 10_000 + 2 * TOTAL * NEW_VALUE_MS

const VOTERS = [1, 2, 3]
const OBSERVERS = [4]

interface Node {
  readonly config: Config
  /** undefined while crashed */
  state: NodeState | undefined
  /**
   * The node's disk: every Persist record, in order. A real embedder appends and fsyncs; here an
   * in-memory array counts as durable for the demo, because the push completes before any later
   * output of the same step runs, which is all the core asks (persist, then send).
   */
  readonly disk: Persist[]
  /** The application: committed values in delivery order, rebuilt by replay after a restart. */
  delivered: string[]
}

const nodes = new Map<NodeId, Node>(
  [...VOTERS, ...OBSERVERS].map((id) => [id, { config: makeConfig(id, VOTERS, OBSERVERS), state: undefined, disk: [], delivered: [] }]),
)
const utf8 = new TextDecoder()
const toBytes = (v: string): Uint8Array => new TextEncoder().encode(v)
let leader: NodeId | undefined // the client's idea of the leader, from RoleChanged outputs
const pending: string[] = [] // values waiting for the next tick's Propose
let produced = 0
let killed = false
let stopped = false

/** Execute a step's outputs in order. Persist comes first in every step, so a Send never promises more than is durable. */
function apply(node: Node, { state, outputs }: StepResult, replaying = false): readonly Output[] {
  node.state = state
  const id = node.config.id
  for (const o of outputs) {
    switch (o._tag) {
      case "Persist":
        node.disk.push(o)
        break
      case "Send":
        send(id, o.to, o.message)
        break
      case "Deliver":
        for (const t of o.txns) {
          const entry = `${formatZxid(t.zxid)} ${utf8.decode(t.data)}`
          node.delivered.push(entry)
          if (!replaying) console.log(`node ${id} delivered ${entry}`)
        }
        break
      case "RoleChanged":
        if (o.role === "leading") leader = id
        else if (leader === id) leader = undefined
        console.log(
          o.role === "leading" ? `node ${id} is leading epoch ${o.epoch}`
          : o.role === "looking" ? `node ${id} is looking for a leader`
          : `node ${id} is ${o.role} node ${o.leader}`,
        )
        break
      case "Proposed":
      case "ProposeRejected":
        break // the proposer looks at these
    }
  }
  checkDone()
  return outputs
}

function input(node: Node, i: Input): readonly Output[] {
  return node.state === undefined ? [] : apply(node, step(node.state, i)) // a crashed node loses its inputs
}

/** The network: asynchronous, in order, lossless, except that a crashed node misses what arrives meanwhile. */
function send(from: NodeId, to: NodeId, message: Message): void {
  setImmediate(() => {
    const n = nodes.get(to)
    if (n !== undefined && !stopped) input(n, { _tag: "Receive", from, message })
  })
}

/** (Re)start a node from what its disk holds: it replays its committed log, then looks for a leader. */
function boot(node: Node): void {
  node.delivered = []
  apply(node, start(node.config, recoverDurable(node.disk)), true)
  if (node.disk.length > 0) {
    console.log(`node ${node.config.id} restarted from ${node.disk.length} persisted records, replayed ${node.delivered.length} committed values`)
  }
}

/** Everything that arrived since the last tick goes to the leader as one batch. */
function proposePending(): void {
  const l = leader === undefined ? undefined : nodes.get(leader)
  if (pending.length === 0 || l === undefined) return
  const batch = pending.splice(0)
  const outputs = input(l, { _tag: "Propose", data: batch.map(toBytes) })
  if (!outputs.some((o) => o._tag === "Proposed")) pending.unshift(...batch) // not (yet) an established leader: retry
}

function killLeader(): void {
  const node = nodes.get(leader!)!
  node.state = undefined // all volatile state is gone; node.disk survives
  leader = undefined
  killed = true
  console.log(`node ${node.config.id} (the leader) crashed; it restarts in 1 s`)
  restartTimer = setTimeout(() => boot(node), 1000)
}

function checkDone(): void {
  if ([...nodes.values()].every((n) => n.state !== undefined && n.delivered.length >= TOTAL)) stop(`all nodes delivered ${TOTAL} values`)
}

function stop(reason: string, failed = false): void {
  if (stopped) return
  stopped = true
  clearInterval(ticker)
  clearInterval(producer)
  clearTimeout(restartTimer)
  clearTimeout(deadline)
  console.log(`\nstopped: ${reason}`)
  const all = [...nodes.values()]
  for (const n of all) console.log(`node ${n.config.id}: delivered ${n.delivered.length}${n.state === undefined ? " (down)" : ""}`)
  const longest = all.map((n) => n.delivered).reduce((a, b) => (b.length > a.length ? b : a))
  const prefixes = all.every((n) => n.delivered.every((e, i) => e === longest[i])) // Agreement: always true
  const equal = prefixes && all.every((n) => n.delivered.length === longest.length)
  console.log(`summary: delivered ${all.map((n) => `${n.config.id}=${n.delivered.length}`).join(" ")}; sequences equal: ${equal ? "yes" : "no"}`)
  if (!prefixes) console.log("AGREEMENT VIOLATED: one node's delivered sequence is not a prefix of another's")
  process.exitCode = failed || !prefixes ? 1 : 0
}

console.log(`cluster: voters ${VOTERS.join(", ")}, observer ${OBSERVERS.join(", ")}; tick ${TICK_MS} ms; ${TOTAL} values`)
for (const n of nodes.values()) boot(n)
const ticker = setInterval(() => {
  for (const n of nodes.values()) input(n, { _tag: "Tick" })
  proposePending()
}, TICK_MS)
const producer = setInterval(() => {
  if (produced < TOTAL) pending.push(`value-${++produced}`)
  if (flags["kill-leader"] && !killed && produced >= TOTAL / 2 && leader !== undefined) killLeader()
}, NEW_VALUE_MS)
let restartTimer: NodeJS.Timeout | undefined
const deadline = setTimeout(() => stop(`timed out after ${DEADLINE_MS} ms`, true), DEADLINE_MS)
process.once("SIGINT", () => stop("interrupted"))
process.once("SIGTERM", () => stop("terminated"))
