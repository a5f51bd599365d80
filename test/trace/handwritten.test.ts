/**
 * The hand-written traces in spec/test-traces: `accept-*` must be behaviours of Zab.tla,
 * `reject-*` must not (each is a small protocol violation written by hand).
 */
import { copyFile, mkdtemp, readdir, rm } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { checkTrace } from "../tlc/tlc.ts"

const spec = path.resolve(import.meta.dirname, "../../spec")
const cases = (await readdir(path.join(spec, "test-traces"), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name)

describe("hand-written traces", () => {
  it("exist, both kinds", () => {
    expect(cases.some((c) => c.startsWith("accept-"))).toBe(true)
    expect(cases.some((c) => c.startsWith("reject-"))).toBe(true)
  })
  for (const c of cases) {
    it(c, async () => {
      const dir = await mkdtemp(path.join(tmpdir(), "zab-hand-"))
      try {
        await copyFile(path.join(spec, "Zab.tla"), path.join(dir, "Zab.tla"))
        await copyFile(path.join(spec, "ZabTrace.tla"), path.join(dir, "ZabTrace.tla"))
        await copyFile(path.join(spec, "ZabTrace.cfg.template"), path.join(dir, "ZabTrace.cfg"))
        await copyFile(path.join(spec, "test-traces", c, "ZabTraceData.tla"), path.join(dir, "ZabTraceData.tla"))
        const v = await checkTrace({ dir, traceSpec: "ZabTrace.tla", config: "ZabTrace.cfg", timeoutSec: 120, acceptInvariant: "TraceMatched", workers: 1 })
        if (c.startsWith("accept-")) expect(v.accepted, v.reason).toBe(true)
        else {
          expect(v.accepted).toBe(false)
          expect(v.reason).toMatch(/cannot reach the end/) // rejected by the spec, not by a TLC error
        }
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }, 200_000)
  }
})
