/** Runs every story in testdata/ (see scenario.ts for the language). */
import { readdirSync, readFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { runScenario, ScenarioError } from "./scenario.ts"

const dir = path.resolve(import.meta.dirname, "testdata")

describe("consensus scenarios", () => {
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".txt"))) {
    it(f.replace(/\.txt$/, ""), () => {
      runScenario(readFileSync(path.join(dir, f), "utf8"))
    })
  }
  it("a false expectation fails the story", () => {
    expect(() => runScenario("cluster voters=1,2,3\nstabilize\nexpect leader 1")).toThrow(ScenarioError)
  })
})
