/**
 * Trace validation of the replication core: recorded runs of test/sim/replication must be
 * behaviours of spec/Replication.tla (TLC checks each with spec/ReplicationTrace.tla).
 */
import { describe, expect, it } from "vitest"
import { runReplicationSim } from "../sim/replication/cluster.ts"
import { validateReplicationTrace } from "./replication-trace.ts"

const traceRun = (seed: number) => runReplicationSim({ seed, record: true, maxTraceSteps: 150, chaosMs: 1_500, livenessMs: 2_000 })

describe("trace validation against Replication.tla", () => {
  for (const seed of [1, 4])
    it(`replication simulator seed ${seed} is a behaviour of the spec`, async () => {
      const r = traceRun(seed)
      expect(r.ok, r.violation?.message).toBe(true)
      const v = await validateReplicationTrace(r)
      expect(v.accepted, `${v.reason}\n${v.result.output.slice(-3000)}`).toBe(true)
      console.log(`replication trace seed ${seed}: ${r.trace!.length} steps; TLC ${v.result.seconds.toFixed(1)}s`)
    }, 300_000)

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
