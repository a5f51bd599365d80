/**
 * `npm run vectors` regenerates test/vectors/zab/*.json from fixed simulator seeds. Run it after
 * an intentional change to the core's behaviour, and review the diff: it is the behaviour change
 * every port will have to follow.
 */
import { writeFileSync } from "node:fs"
import path from "node:path"
import { runReplicationSim } from "../test/sim/replication/cluster.ts"
import { runZabSim } from "../test/sim/zab/cluster.ts"
import { encodeReplicationVectors } from "../test/vectors/replication-vectors.ts"
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

// The replication core (test/vectors/replication): a partition on 3 brokers and the controller.
const replicationOut = path.resolve(import.meta.dirname, "../test/vectors/replication")
for (const [seed, maxDown] of [[7, 1], [1007, 2]] as const) {
  const r = runReplicationSim({ seed, maxDown, chaosMs: 1_500, livenessMs: 3_000, vectors: true })
  if (!r.ok) throw new Error(`replication seed ${seed} failed: ${r.violation!.message}`)
  const kinds = [...new Set(r.faults.map((f) => f.kind))].join(", ") || "none"
  const { minIsr, lagTimeMaxMs, fetchBackoffMs, fetchTimeoutMs, alterResendMs, maxFetchRecords } = r.replicaConfig
  const file = encodeReplicationVectors({
    format: "sequent.replication.vectors/1",
    description: `3 replicas + controller, simulator seed ${seed}, up to ${maxDown} down: faults (${kinds}), ${r.crashes} crash(es), ${r.leaderChanges} leader change(s), ${r.ackedAll} acks=all writes acknowledged, then healed`,
    seed,
    replicas: [...r.replicaConfig.replicas],
    unclean: false,
    config: { minIsr, lagTimeMaxMs, fetchBackoffMs, fetchTimeoutMs, alterResendMs, maxFetchRecords },
    events: r.vectors!,
  })
  const name = path.join(replicationOut, `seed-${seed}.json`)
  writeFileSync(name, JSON.stringify(file) + "\n")
  console.log(`${name}: ${r.vectors!.length} calls, ${r.leaderChanges} leader changes, ${r.crashes} crashes`)
}
