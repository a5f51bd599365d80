/**
 * The bug zoo: each seeded protocol bug (core/consensus/bugs.ts) is switched on and shown to be
 * caught, by the check named in its entry, deterministically (fixed seeds and stories). A check
 * that catches nothing proves nothing; this file is the evidence that ours can fail.
 *
 * Spec-level mutants (the same protocol mistakes made in the TLA+ spec, caught by TLC) are in
 * spec-mutants.test.ts.
 */
import { readFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { bugNames, type BugName } from "../../core/consensus/index.ts"
import { runModelCheck } from "../model/zab-model.ts"
import { runScenario } from "../scenarios/scenario.ts"
import { runZabSim } from "../sim/zab/cluster.ts"
import { validateTrace } from "../trace/zab-trace.ts"

interface Caught {
  readonly check: string
  readonly detail: string
}

/** The first seed whose simulation reports a violation. */
function bySimulation(bug: BugName, seeds: number): Caught | undefined {
  for (let seed = 1; seed <= seeds; seed++) {
    const r = runZabSim({ seed, bugs: { [bug]: true } })
    if (!r.ok) return { check: `simulation (${r.violation!.check})`, detail: `seed ${seed}: ${r.violation!.message}` }
  }
  return undefined
}

/** A recorded simulation that keeps every TypeScript invariant, yet is not a behaviour of Zab.tla. */
async function byTraceValidation(bug: BugName, seed: number): Promise<Caught | undefined> {
  const r = runZabSim({ seed, chaosMs: 1_500, livenessMs: 2_000, meanFaultGapMs: 150, record: true, maxTraceSteps: 700, bugs: { [bug]: true } })
  const v = await validateTrace(r)
  return v.accepted ? undefined : { check: "trace validation", detail: `seed ${seed}: ${v.reason}; first rejected step: ${r.trace![(v.matchedLines ?? 1) - 1]?.action ?? "?"}` }
}

const story = (name: string) => readFileSync(path.resolve(import.meta.dirname, "../scenarios/testdata", name), "utf8")
/** The story's actions without its `expect` lines, so that what fails is the invariant check. */
const actionsOf = (name: string) => story(name).replace(/^expect .*$/gm, "")

const zoo: Record<BugName, () => Promise<Caught | undefined>> = {
  smallQuorum: async () => bySimulation("smallQuorum", 5),
  skipTrunc: async () => bySimulation("skipTrunc", 10),
  observerAckCounts: () => byTraceValidation("observerAckCounts", 1),
  forgetAcceptedEpoch: () => byTraceValidation("forgetAcceptedEpoch", 3),
  shortenOnStaleNewLeader: async () => {
    const r = runScenario(actionsOf("stale-newleader.txt"), { bugs: { shortenOnStaleNewLeader: true } })
    return r.violation === undefined ? undefined : { check: "scenario stale-newleader (invariant)", detail: r.violation }
  },
  snapDropsBase: async () => {
    const r = runScenario(actionsOf("compaction.txt"), { bugs: { snapDropsBase: true } })
    return r.violation === undefined ? undefined : { check: "scenario compaction (invariant)", detail: r.violation }
  },
}

describe("bug zoo", () => {
  it("every seeded bug has an entry", () => expect(Object.keys(zoo).sort()).toEqual([...bugNames].sort()))

  for (const bug of bugNames) {
    it(`${bug} is caught`, async () => {
      const caught = await zoo[bug]()
      expect(caught, `${bug} was not caught`).toBeDefined()
      console.log(`bug zoo: ${bug} caught by ${caught!.check}: ${caught!.detail.slice(0, 200)}`)
    }, 300_000)
  }

  it("the same bugs pass unnoticed by a check that cannot see them: the zoo is not vacuous", async () => {
    // Without the bug, the exact same runs pass every check.
    expect(runZabSim({ seed: 1 }).ok).toBe(true)
    const r = runZabSim({ seed: 3, chaosMs: 1_500, livenessMs: 2_000, meanFaultGapMs: 150, record: true, maxTraceSteps: 700 })
    expect((await validateTrace(r)).accepted).toBe(true)
    expect(runScenario(story("stale-newleader.txt")).violation).toBeUndefined()
    expect(runScenario(story("compaction.txt")).violation).toBeUndefined()
  }, 300_000)

  it("the stale NEWLEADER bug is also rejected by trace validation", async () => {
    const r = runScenario(actionsOf("stale-newleader.txt"), { bugs: { shortenOnStaleNewLeader: true } })
    expect(r.violation).toMatch(/CommittedWithinHistory/)
    expect((await validateTrace(r)).accepted).toBe(false)
  }, 300_000)

  it("the model-based test catches a commit without a quorum", () => {
    expect(() => runModelCheck({ bugs: { smallQuorum: true }, numRuns: 300, seed: 1 })).toThrow(/Property failed/)
  })
})
