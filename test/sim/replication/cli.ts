/** `npm run sim -- --replication [--seed N | --seeds K --from S] [--bug NAME] [--unclean] [--max-down N] [--quiet]` */
import type { ReplicationBugs } from "../../../core/replication/index.ts"
import { runReplicationSim } from "./cluster.ts"

const BUGS: readonly (keyof ReplicationBugs)[] = ["truncateToHwOnRestart", "noKip279Min", "undersizedIsrAck"]

export function replicationCli(args: readonly string[]): number {
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
  const bug = opt("bug") as keyof ReplicationBugs | undefined
  if (bug !== undefined && !BUGS.includes(bug)) {
    console.error(`unknown bug ${bug}; known: ${BUGS.join(", ")}`)
    return 2
  }
  const unclean = args.includes("--unclean")
  const maxDown = num("max-down", 1)
  const seeds = opt("seed") !== undefined ? [num("seed", 0)] : Array.from({ length: num("seeds", 20) }, (_, i) => num("from", 1) + i)
  let failed = 0
  const t0 = performance.now()
  for (const seed of seeds) {
    const r = runReplicationSim({ seed, maxDown, unclean, ...(bug ? { bugs: { [bug]: true } } : {}) })
    const line = `seed ${seed}: ${r.ok ? "ok" : "FAIL"}  steps=${r.steps} produced=${r.produced} ackedAll=${r.ackedAll} leaderChanges=${r.leaderChanges} crashes=${r.crashes} truncations=${r.truncations} isrChanges=${r.isrChanges} finalLog=${r.finalLogLength}`
    if (!r.ok) {
      failed++
      console.log(line)
      console.log(`  ${r.violation!.check} violated at step ${r.violation!.step} (t=${r.violation!.time}ms): ${r.violation!.message}`)
      console.log(`  replay: npm run sim -- --replication --seed ${seed}${maxDown !== 1 ? ` --max-down ${maxDown}` : ""}${bug ? ` --bug ${bug}` : ""}${unclean ? " --unclean" : ""}`)
    } else if (!args.includes("--quiet")) console.log(line)
  }
  console.log(`${seeds.length - failed} passed, ${failed} failed in ${((performance.now() - t0) / 1000).toFixed(1)}s`)
  return failed > 0 ? 1 : 0
}
