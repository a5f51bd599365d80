/**
 * `npm run vectors` regenerates test/vectors/zab/*.json from fixed simulator seeds. Run it after
 * an intentional change to the core's behaviour, and review the diff: it is the behaviour change
 * every port will have to follow.
 */
import { writeFileSync } from "node:fs"
import path from "node:path"
import { runZabSim } from "../test/sim/zab/cluster.ts"
import { encodeVectors } from "../test/vectors/vectors.ts"

const out = path.resolve(import.meta.dirname, "../test/vectors/zab")
for (const seed of [11, 23, 42]) {
  const r = runZabSim({ seed, chaosMs: 1_200, livenessMs: 3_000, vectors: true })
  const kinds = [...new Set(r.faults.map((f) => f.kind))].join(", ") || "none"
  const c = { seed, description: `3 voters + 1 observer, simulator seed ${seed}: faults (${kinds}), ${r.crashes} crash(es), ${r.committed} entries committed, then healed` }
  if (!r.ok) throw new Error(`seed ${seed} failed: ${r.violation!.message}`)
  const file = encodeVectors({
    format: "sequent.zab.vectors/1",
    description: c.description,
    seed: c.seed,
    voters: r.voters,
    observers: r.observers,
    timing: r.timing,
    events: r.vectors!,
  })
  const name = path.join(out, `seed-${c.seed}.json`)
  writeFileSync(name, JSON.stringify(file) + "\n")
  console.log(`${name}: ${r.vectors!.length} calls, ${r.committed} committed, ${r.crashes} crashes`)
}
