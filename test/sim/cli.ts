/**
 * `npm run sim -- --seed N` replays one simulation exactly; `--seeds K [--from S]` sweeps K seeds.
 * Options: --chaos MS, --liveness MS, --bug NAME (a bug-zoo flag), --compact MS (nodes compact their
 * logs every MS), --quiet.
 * `--cas` runs the znode compare-and-set linearizability simulator instead (test/sim/coord).
 * `--replication` runs the ISR replication simulator (test/sim/replication), with `--bug NAME`
 * (truncateToHwOnRestart, noKip279Min, undersizedIsrAck), `--unclean`, `--max-down N`.
 */
import { bugNames, type BugName } from "../../core/consensus/index.ts"
import { runZabSim, type ZabSimResult } from "./zab/cluster.ts"

const args = process.argv.slice(2)
if (args.includes("--cas")) process.exit((await import("./coord/cas-sim.ts")).casCli(args))
if (args.includes("--replication")) process.exit((await import("./replication/cli.ts")).replicationCli(args))
const opt = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const num = (name: string, dflt: number): number => {
  const v = opt(name)
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isInteger(n)) throw new Error(`--${name} needs an integer, got ${v}`)
  return n
}

const bug = opt("bug") as BugName | undefined
if (bug !== undefined && !bugNames.includes(bug)) {
  console.error(`unknown bug ${bug}; known: ${bugNames.join(", ")}`)
  process.exit(2)
}
const seedArg = opt("seed")
const seeds = seedArg !== undefined ? [num("seed", 0)] : Array.from({ length: num("seeds", 20) }, (_, i) => num("from", 1) + i)
const quiet = args.includes("--quiet")

const describe = (r: ZabSimResult): string =>
  `seed ${r.seed}: ${r.ok ? "ok" : "FAIL"}  steps=${r.steps} simulated=${r.simulatedMs}ms proposals=${r.proposals} committed=${r.committed} crashes=${r.crashes} maxEpoch=${r.maxEpoch}${r.compactions > 0 ? ` compactions=${r.compactions} snapshotsDelivered=${r.snapshotsDelivered}` : ""}`

let failed = 0
let steps = 0
const t0 = performance.now()
for (const seed of seeds) {
  const compact = opt("compact")
  const r = runZabSim({
    seed,
    chaosMs: num("chaos", 3_000),
    livenessMs: num("liveness", 4_000),
    ...(bug ? { bugs: { [bug]: true } } : {}),
    ...(compact !== undefined ? { compactEveryMs: num("compact", 100) } : {}),
  })
  steps += r.steps
  if (!r.ok) {
    failed++
    console.log(describe(r))
    console.log(`  ${r.violation!.check} violated at step ${r.violation!.step} (t=${r.violation!.time}ms): ${r.violation!.message}`)
    console.log(`  replay: npm run sim -- --seed ${seed}${bug ? ` --bug ${bug}` : ""}${compact !== undefined ? ` --compact ${num("compact", 100)}` : ""}`)
  } else if (!quiet) console.log(describe(r))
}
const secs = (performance.now() - t0) / 1000
console.log(`${seeds.length} seeds, ${steps} steps in ${secs.toFixed(1)}s (${Math.round(steps / secs)} steps/s)`)
console.log(`${seeds.length - failed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
