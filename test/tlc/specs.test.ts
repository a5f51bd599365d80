/**
 * TLC on every CI config in spec/ (the same run as `npm run spec`): each must finish with no
 * invariant violated and a non-trivial state space.
 */
import path from "node:path"
import { describe, expect, it } from "vitest"
import { checkSpecs, findConfigs, formatSummary } from "../../scripts/tlc.ts"

const specDir = path.resolve(import.meta.dirname, "../../spec")

describe("TLA+ specs", () => {
  it("every spec/*.cfg passes TLC", async () => {
    const configs = await findConfigs(specDir, false)
    expect(configs.length).toBeGreaterThan(0)
    const results = await checkSpecs({ deep: false, dir: specDir })
    for (const r of results) console.log(formatSummary(r))
    for (const r of results) {
      expect(r.passed, `${r.config}: ${r.result.verdict}\n${r.result.violatedInvariant ?? ""}\n${r.result.counterexample ?? ""}`).toBe(true)
      expect(r.result.distinctStates ?? 0).toBeGreaterThan(1000)
    }
  }, 1_500_000)
})
