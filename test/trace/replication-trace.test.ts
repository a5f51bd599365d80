/**
 * Trace validation of the replication core: recorded runs of test/sim/replication must be
 * behaviours of spec/Replication.tla (TLC checks each with spec/ReplicationTrace.tla).
 */
import { describe, expect, it } from "vitest"
import { runReplicationSim } from "../sim/replication/cluster.ts"
import { validateReplicationTrace } from "./replication-trace.ts"

const traceRun = (seed: number, steps = 150) => runReplicationSim({ seed, record: true, maxTraceSteps: steps, chaosMs: 1_500, livenessMs: 2_000 })

// Seeds 1 and 4: steady replication (4 with a crash). 14 and 30: crashes (30 two). 38, 57, 63
// and 68: the leader's broker goes down and a new leader epoch is elected (57 with a crash, 68
// twice, reaching epoch 2), followers truncate by divergence.
const runs = [
  { seed: 1, steps: 150 },
  { seed: 4, steps: 150 },
  { seed: 14, steps: 300 },
  { seed: 30, steps: 300 },
  { seed: 38, steps: 300 },
  { seed: 57, steps: 300 },
  { seed: 63, steps: 300 },
  { seed: 68, steps: 300 },
]

describe("trace validation against Replication.tla", () => {
  const seen = { crashes: 0, leaderEpoch: 0 }
  for (const { seed, steps } of runs)
    it(`replication simulator seed ${seed} (${steps} steps) is a behaviour of the spec`, async () => {
      const r = traceRun(seed, steps)
      expect(r.ok, r.violation?.message).toBe(true)
      for (const s of r.trace!) {
        if (s.action === "Crash") seen.crashes++
        seen.leaderEpoch = Math.max(seen.leaderEpoch, s.controller.partition.leaderEpoch)
      }
      const v = await validateReplicationTrace(r)
      expect(v.accepted, `${v.reason}\n${v.result.output.slice(-3000)}`).toBe(true)
      console.log(`replication trace seed ${seed}: ${r.trace!.length} steps; TLC ${v.result.seconds.toFixed(1)}s`)
    }, 300_000)

  it("the validated runs include crashes and leader changes", () => {
    expect(seen.crashes).toBeGreaterThanOrEqual(3)
    expect(seen.leaderEpoch).toBeGreaterThanOrEqual(2) // the partition is created in leader epoch 0
  })

  it("rejects a trace the spec does not allow (a follower's HW past its log)", async () => {
    const r = traceRun(1)
    const trace = [...r.trace!]
    const i = trace.findIndex((s) => [...s.replicas.values()].some((x) => x.role === "Follower" && x.log.length > 0))
    expect(i).toBeGreaterThan(0)
    const step = trace[i]!
    const replicas = new Map(step.replicas)
    const [id, x] = [...replicas].find(([, x]) => x.role === "Follower" && x.log.length > 0)!
    replicas.set(id, { ...x, hw: x.log.length + 1 })
    trace[i] = { ...step, replicas }
    const v = await validateReplicationTrace({ ...r, trace: trace.slice(0, i + 1) })
    expect(v.accepted).toBe(false)
  }, 300_000)
})
