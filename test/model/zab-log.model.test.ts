/**
 * Model-based test (fast-check `commands`): clients propose values to a 3-voter + 1-observer
 * cluster while generated commands deliver, drop, duplicate and reorder messages, tick clocks,
 * crash and restart nodes. The model is one sequential log (see zab-model.ts).
 */
import { describe, expect, it } from "vitest"
import { all, Cluster, runModelCheck } from "./zab-model.ts"

describe("consensus against a sequential-log model", () => {
  it("delivered sequences are always prefixes of one growing log", () => {
    const { runs, runsThatCommitted } = runModelCheck({ numRuns: 300 })
    // Not vacuous: a good share of generated runs commit something.
    expect(runsThatCommitted).toBeGreaterThan(runs / 10)
  })

  it("the model check is not vacuous: with enough delivery, values do get committed", () => {
    // A fixed schedule: elect, propose, deliver everything. Guards against a model test that
    // passes only because nothing is ever delivered.
    const c = new Cluster()
    for (let round = 0; round < 50 && c.leader() === undefined; round++) {
      for (const id of all) c.feed(id, { _tag: "Tick" })
      while (c.net.length > 0) {
        const x = c.net.shift()!
        c.feed(x.to, { _tag: "Receive", from: x.from, message: x.m })
      }
    }
    const l = c.leader()
    expect(l).toBeDefined()
    c.feed(l!, { _tag: "Propose", data: [new TextEncoder().encode("x")] })
    while (c.net.length > 0) {
      const x = c.net.shift()!
      c.feed(x.to, { _tag: "Receive", from: x.from, message: x.m })
    }
    for (const id of all) c.feed(id, { _tag: "Tick" }), c.feed(id, { _tag: "Tick" })
    while (c.net.length > 0) {
      const x = c.net.shift()!
      c.feed(x.to, { _tag: "Receive", from: x.from, message: x.m })
    }
    for (const id of all) expect(c.delivered.get(id)).toEqual(["x"])
  })
})
