/** Replays the committed conformance vectors against the core: outputs must match exactly. */
import { readdirSync, readFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { makeConfig, start, step, type NodeState, type Output } from "../../core/consensus/index.ts"
import { decodeVectors, encodeVectors, type VectorFile } from "./vectors.ts"

const dir = path.resolve(import.meta.dirname, "zab")
const files = readdirSync(dir).filter((f) => f.endsWith(".json"))

/** Replays a vector file; returns the index of the first call whose outputs differ, or -1. */
export function replay(v: VectorFile): { mismatch: number; expected?: readonly Output[]; actual?: readonly Output[] } {
  const states = new Map<number, NodeState>()
  const enc = (o: readonly Output[]) => JSON.stringify(encodeVectors({ ...v, events: [{ node: 0, call: "step", input: { _tag: "Tick" }, outputs: o }] }).events[0]!.outputs)
  for (let i = 0; i < v.events.length; i++) {
    const e = v.events[i]!
    const config = makeConfig(e.node, v.voters, v.observers, v.timing)
    const r = e.call === "start" ? start(config, e.durable) : step(states.get(e.node)!, e.input)
    if (enc(r.outputs) !== enc(e.outputs)) return { mismatch: i, expected: e.outputs, actual: r.outputs }
    states.set(e.node, r.state)
  }
  return { mismatch: -1 }
}

describe("conformance vectors", () => {
  it("exist", () => expect(files.length).toBeGreaterThanOrEqual(3))
  for (const f of files) {
    it(`${f} replays exactly`, () => {
      const v = decodeVectors(JSON.parse(readFileSync(path.join(dir, f), "utf8")))
      expect(v.events.length).toBeGreaterThan(100)
      const r = replay(v)
      expect(r.mismatch, `first differing call: #${r.mismatch}`).toBe(-1)
    })
  }
  it("a tampered vector is detected", () => {
    const v = decodeVectors(JSON.parse(readFileSync(path.join(dir, files[0]!), "utf8")))
    const i = v.events.findIndex((e) => e.outputs.some((o) => o._tag === "Send"))
    const tampered = { ...v, events: v.events.map((e, k) => (k === i ? { ...e, outputs: e.outputs.slice(1) } : e)) }
    expect(replay(tampered).mismatch).toBe(i)
  })
})
