/**
 * `npm run bench [-- --quick]`: figures, not assertions.
 *
 * (a) Commit throughput of the pure core: a 3-voter cluster in one loop, messages delivered FIFO
 *     at once, Persist records appended to in-memory arrays, no I/O. A value counts once all
 *     three voters have delivered it.
 * (b) Simulator speed, when the Zab simulator (test/sim/zab/cluster.ts) exists.
 */
import { existsSync } from "node:fs"
import os from "node:os"
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import {
  makeConfig,
  emptyDurable,
  start,
  step,
  type Input,
  type Message,
  type NodeId,
  type NodeState,
  type Persist,
  type StepResult,
} from "../core/consensus/index.ts"

const { values: flags } = parseArgs({ options: { quick: { type: "boolean", default: false } } })
const QUICK = flags.quick
const VALUES = QUICK ? 2_000 : 20_000
const VALUE_BYTES = 100
const VOTERS = [1, 2, 3]

// ---------------------------------------------------------------------------------------------
// (a) the core in a synchronous in-memory cluster

class SyncCluster {
  readonly states = new Map<NodeId, NodeState>()
  readonly disks = new Map<NodeId, Persist[]>()
  readonly delivered = new Map<NodeId, number>()
  private readonly queue: { from: NodeId; to: NodeId; message: Message }[] = []
  private head = 0
  messages = 0
  steps = 0

  constructor() {
    for (const id of VOTERS) {
      this.disks.set(id, [])
      this.delivered.set(id, 0)
      this.apply(id, start(makeConfig(id, VOTERS), emptyDurable))
    }
  }

  private apply(id: NodeId, { state, outputs }: StepResult): void {
    this.states.set(id, state)
    for (const o of outputs) {
      if (o._tag === "Persist") this.disks.get(id)!.push(o)
      else if (o._tag === "Send") this.queue.push({ from: id, to: o.to, message: o.message })
      else if (o._tag === "Deliver") this.delivered.set(id, this.delivered.get(id)! + o.txns.length)
    }
  }

  input(id: NodeId, i: Input): void {
    this.steps++
    this.apply(id, step(this.states.get(id)!, i))
  }

  /** Deliver every message, including those sent while draining, in FIFO order. */
  drain(): void {
    while (this.head < this.queue.length) {
      const { from, to, message } = this.queue[this.head++]!
      this.messages++
      this.input(to, { _tag: "Receive", from, message })
    }
    this.queue.length = 0
    this.head = 0
  }

  /** Tick everyone until some node is an established leader. */
  electLeader(): NodeId {
    for (let t = 0; t < 1000; t++) {
      this.drain()
      for (const [id, s] of this.states) if (s.role === "leading" && s.phase === "broadcast") return id
      for (const id of VOTERS) this.input(id, { _tag: "Tick" })
    }
    throw new Error("no leader elected within 1000 ticks")
  }

  minDelivered(): number {
    return Math.min(...this.delivered.values())
  }
}

interface Row {
  name: string
  values: number
  batch: number
  seconds: number
  messages: number
  steps: number
}

function runCore(name: string, values: number, batch: number): Row {
  const cluster = new SyncCluster()
  const leader = cluster.electLeader()
  const base = { messages: cluster.messages, steps: cluster.steps, delivered: cluster.minDelivered() }
  const payload = (i: number): Uint8Array => {
    const b = new Uint8Array(VALUE_BYTES)
    new DataView(b.buffer).setUint32(0, i)
    return b
  }
  let next = 0
  const t0 = performance.now()
  while (next < values) {
    const n = Math.min(batch, values - next)
    const data = Array.from({ length: n }, (_, k) => payload(next + k))
    next += n
    cluster.input(leader, { _tag: "Propose", data })
    cluster.drain()
  }
  const seconds = (performance.now() - t0) / 1000
  const committed = cluster.minDelivered() - base.delivered
  if (committed !== values) throw new Error(`${name}: only ${committed} of ${values} values delivered on all voters`)
  return { name, values, batch, seconds, messages: cluster.messages - base.messages, steps: cluster.steps - base.steps }
}

// ---------------------------------------------------------------------------------------------
// (b) simulator hook: runs only once test/sim/zab/cluster.ts exports runZabSim(options) -> { steps, ... }

const SIM_PATH = "../test/sim/zab/cluster.ts"

async function benchSimulator(): Promise<void> {
  if (!existsSync(new URL(SIM_PATH, import.meta.url))) {
    console.log("simulator bench: skipped (test/sim/zab/cluster.ts not found)")
    return
  }
  const mod: { runZabSim?: unknown } = await import(SIM_PATH)
  if (typeof mod.runZabSim !== "function") {
    console.log("simulator bench: skipped (test/sim/zab/cluster.ts does not export runZabSim)")
    return
  }
  type SimResult = { steps: number; ok?: boolean; simulatedMs?: number }
  const runZabSim = mod.runZabSim as (options: { seed: number }) => SimResult | Promise<SimResult>
  const seeds = QUICK ? [1, 2] : [1, 2, 3, 4, 5]
  console.log("\nsimulator (runZabSim)")
  console.log(table(["seed", "steps", "seconds", "steps/s", "simulated ms"], []))
  let totalSteps = 0
  let totalSeconds = 0
  for (const seed of seeds) {
    const t0 = performance.now()
    try {
      const { steps, ok, simulatedMs } = await runZabSim({ seed })
      const seconds = (performance.now() - t0) / 1000
      totalSteps += steps
      totalSeconds += seconds
      const sim = simulatedMs === undefined ? "" : fmt(simulatedMs)
      console.log(tableRow([String(seed), fmt(steps), seconds.toFixed(2), fmt(steps / seconds), sim]) + (ok === false ? "  (run reported a failure)" : ""))
    } catch (e) {
      console.log(tableRow([String(seed), "error", "", String(e instanceof Error ? e.message : e)]))
    }
  }
  if (totalSeconds > 0) console.log(tableRow(["all", fmt(totalSteps), totalSeconds.toFixed(2), fmt(totalSteps / totalSeconds)]))
}

// ---------------------------------------------------------------------------------------------
// output

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US")
const WIDTHS = [26, 9, 9, 12, 12]
const tableRow = (cells: string[]): string =>
  cells.map((c, i) => (i === 0 ? c.padEnd(WIDTHS[i] ?? 12) : c.padStart(WIDTHS[i] ?? 12))).join("  ")
const table = (header: string[], rows: string[][]): string =>
  [tableRow(header), tableRow(header.map((_, i) => "-".repeat(WIDTHS[i] ?? 12))), ...rows.map(tableRow)].join("\n")

console.log(`machine: ${os.cpus()[0]?.model ?? "unknown cpu"} (${os.cpus().length} cpus), ${os.platform()} ${os.arch()}, node ${process.version}`)
console.log(`core: 3 voters in one synchronous loop, ${VALUE_BYTES}-byte values, committed = delivered on all 3 voters${QUICK ? " (--quick)" : ""}\n`)

runCore("warm-up", Math.min(VALUES, 2_000), 1) // let the JIT settle before measuring
// Batched runs 10x the values: at 100 per Propose, VALUES alone finishes too fast to time well.
const rows = [runCore("unbatched (1 per Propose)", VALUES, 1), runCore("batched (100 per Propose)", 10 * VALUES, 100)]
console.log(
  table(
    ["mode", "values", "seconds", "values/s", "messages/s"],
    rows.map((r) => [r.name, fmt(r.values), r.seconds.toFixed(2), fmt(r.values / r.seconds), fmt(r.messages / r.seconds)]),
  ),
)
for (const r of rows) {
  console.log(`  ${r.name}: ${(r.messages / r.values).toFixed(2)} messages and ${(r.steps / r.values).toFixed(2)} steps per value`)
}

await benchSimulator()
