/**
 * Trace validation: simulator runs of the real TypeScript core, recorded at the level of
 * spec/Zab.tla, must be behaviours of the spec (TLC checks each one with spec/ZabTrace.tla).
 * The runs include crashes (some in the middle of a persisting step), restarts, partitions, loss
 * and duplication.
 */
import { describe, expect, it } from "vitest"
import { runZabSim, type ZabSimResult } from "../sim/zab/cluster.ts"
import { validateTrace } from "./zab-trace.ts"

/** Short runs with frequent faults keep each trace a few hundred steps long. */
export const traceRun = (seed: number, extra: Partial<Parameters<typeof runZabSim>[0]> = {}): ZabSimResult =>
  runZabSim({ seed, chaosMs: 1_500, livenessMs: 2_000, meanFaultGapMs: 150, record: true, maxTraceSteps: 700, ...extra })

const SEEDS = [1, 2, 3, 4, 5, 6]

describe("trace validation against Zab.tla", () => {
  for (const seed of SEEDS) {
    it(`simulator seed ${seed} is a behaviour of the spec`, async () => {
      const r = traceRun(seed)
      expect(r.ok, r.violation?.message).toBe(true)
      const v = await validateTrace(r)
      expect(v.accepted, `${v.reason}\n${v.result.output.slice(-3000)}`).toBe(true)
      console.log(`seed ${seed}: ${r.trace!.length} steps, ${r.crashes} crashes, faults: ${[...new Set(r.faults.map((f) => f.kind))].join(",")}; TLC ${v.result.seconds.toFixed(1)}s`)
    }, 300_000)
  }

  // Compaction is invisible to the spec: the view expands a base back into its entries, so a
  // run that compacts (and SNAPs lagging learners with the snapshot) must still be a behaviour.
  for (const seed of [7, 8]) {
    it(`simulator seed ${seed}, compacting every 60 ms, is a behaviour of the spec`, async () => {
      const r = traceRun(seed, { compactEveryMs: 60 })
      expect(r.ok, r.violation?.message).toBe(true)
      expect(r.compactions).toBeGreaterThan(0)
      const v = await validateTrace(r)
      expect(v.accepted, `${v.reason}\n${v.result.output.slice(-3000)}`).toBe(true)
      console.log(`seed ${seed} (compacting): ${r.trace!.length} steps, ${r.compactions} compactions, ${r.snapshotsDelivered} snapshots delivered; TLC ${v.result.seconds.toFixed(1)}s`)
    }, 300_000)
  }

  it("the traces cover crashes and partitions", () => {
    const runs = SEEDS.map((s) => traceRun(s))
    expect(runs.reduce((n, r) => n + r.crashes, 0)).toBeGreaterThan(0)
    expect(runs.some((r) => r.faults.some((f) => f.kind === "partition" || f.kind === "isolate"))).toBe(true)
  })

  it("rejects a trace the spec does not allow (a follower commits past its history)", async () => {
    const r = traceRun(1)
    const trace = [...r.trace!]
    // Find a step where some follower committed, and pretend it committed an entry it does not hold.
    const i = trace.findIndex((s) => [...s.views.values()].some((n) => n.role === "following" && n.lastCommitted > 0))
    expect(i).toBeGreaterThan(0)
    const step = trace[i]!
    const views = new Map(step.views)
    const [id, n] = [...views].find(([, n]) => n.role === "following" && n.lastCommitted > 0)!
    views.set(id, { ...n, lastCommitted: n.history.length + 1 })
    trace[i] = { ...step, views }
    const v = await validateTrace({ ...r, trace: trace.slice(0, i + 1) })
    expect(v.accepted).toBe(false)
    expect(v.reason).toMatch(/cannot reach the end|deadlock|follows it/)
  }, 300_000)
})
