/**
 * Spec-level bug zoo: protocol mistakes made in the TLA+ spec (spec/zoo/ZabZoo.tla), each of
 * which TLC must catch with the CI model of spec/Zab.cfg. Proves the model check can fail for
 * the protocol's own reasons, not only for the runner's self-test fixtures.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { runTlc } from "../tlc/tlc.ts"

const spec = path.resolve(import.meta.dirname, "../../spec")

const mutants = [
  { name: "NoRecencyCheck", override: "NewerState <- NeverNewer" },
  { name: "HalfQuorum", override: "IsQuorum <- HalfIsQuorum" },
]

describe("spec mutants are caught by TLC", () => {
  for (const m of mutants) {
    it(m.name, async () => {
      const dir = await mkdtemp(path.join(tmpdir(), "zab-mutant-"))
      try {
        await copyFile(path.join(spec, "Zab.tla"), path.join(dir, "Zab.tla"))
        await copyFile(path.join(spec, "zoo", "ZabZoo.tla"), path.join(dir, "ZabZoo.tla"))
        const cfg = (await readFile(path.join(spec, "Zab.cfg"), "utf8")).replace(/^SPECIFICATION\s+Spec\s*$/m, `SPECIFICATION Spec\nCONSTANT ${m.override}`)
        expect(cfg).toContain(m.override)
        await writeFile(path.join(dir, "ZabZoo.cfg"), cfg)
        const r = await runTlc({ dir, spec: "ZabZoo.tla", config: "ZabZoo.cfg", timeoutSec: 600, workers: 1 })
        console.log(`spec mutant ${m.name}: ${r.verdict}, ${r.violatedInvariant ?? "-"} after ${r.distinctStates} distinct states, ${r.seconds.toFixed(1)}s`)
        expect(r.exitCode, r.output.slice(-2000)).toBe(12)
        expect(r.violatedInvariant).toBeDefined()
        expect(r.counterexample).toMatch(/State 1/)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }, 700_000)
  }
})
