/**
 * `npm run demo` (adapters/cli/demo.ts) must run a real-timer cluster to completion on its own:
 * elect a leader, commit every value on all four nodes, print an agreeing summary, exit 0.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../../", import.meta.url))
const tsxCli = fileURLToPath(new URL("../../node_modules/tsx/dist/cli.mjs", import.meta.url))

function runDemo(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [tsxCli, "adapters/cli/demo.ts", ...args], { cwd: root })
    let output = ""
    child.stdout.on("data", (d: Buffer) => (output += d.toString()))
    child.stderr.on("data", (d: Buffer) => (output += d.toString()))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, output }))
  })
}

describe("demo", () => {
  it("commits 5 values on every node and exits 0", { timeout: 60_000 }, async () => {
    const { code, output } = await runDemo(["--values", "5"])
    expect(code, output).toBe(0)
    expect(output).toMatch(/node \d is leading epoch \d+/)
    const summary = /^summary: delivered (.*); sequences equal: (yes|no)$/m.exec(output)
    expect(summary, output).not.toBeNull()
    expect(summary![2]).toBe("yes")
    const counts = summary![1]!.split(" ").map((kv) => kv.split("="))
    expect(counts.map(([id]) => id)).toEqual(["1", "2", "3", "4"])
    expect(counts.map(([, n]) => n)).toEqual(["5", "5", "5", "5"])
    // Each node printed the same five deliveries (zxid and value), in order.
    const printed = [1, 2, 3, 4].map((id) =>
      [...output.matchAll(new RegExp(`^node ${id} delivered (\\S+ value-\\d+)$`, "gm"))].map((m) => m[1]),
    )
    expect(printed[0]!.map((e) => e!.split(" ")[1])).toEqual(["value-1", "value-2", "value-3", "value-4", "value-5"])
    for (const seq of printed) expect(seq).toEqual(printed[0])
  })
})
