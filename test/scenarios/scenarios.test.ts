/**
 * Runs every story in testdata/ (see scenario.ts for the language): each must meet its
 * expectations, keep every invariant, and be a behaviour of spec/Zab.tla (trace validation).
 */
import { readdirSync, readFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { validateTrace } from "../trace/zab-trace.ts"
import { runScenario, ScenarioError } from "./scenario.ts"

const dir = path.resolve(import.meta.dirname, "testdata")

describe("consensus scenarios", () => {
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".txt"))) {
    it(f.replace(/\.txt$/, ""), async () => {
      const r = runScenario(readFileSync(path.join(dir, f), "utf8"), { label: `scenario ${f}` })
      expect(r.violation).toBeUndefined()
      const v = await validateTrace(r)
      expect(v.accepted, v.reason).toBe(true)
    }, 300_000)
  }
  it("a false expectation fails the story", () => {
    expect(() => runScenario("cluster voters=1,2,3\nstabilize\nexpect leader 1")).toThrow(ScenarioError)
  })
})
