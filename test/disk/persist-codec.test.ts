import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { recoverDurable } from "../../core/consensus/durable.ts"
import type { Persist } from "../../core/consensus/types.ts"
import { decodePersist, durableToPersists, encodePersist, PersistCodecError } from "../../adapters/disk/persist-codec.ts"
import { persistStream, prefixFolds, sameDurable } from "./helpers.ts"

const num = fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(0, 127, 128, 2 ** 32, 2 ** 52, Number.MAX_SAFE_INTEGER))
const zxid = fc.oneof(fc.nat(), fc.integer({ min: 0, max: 2 ** 20 - 1 }).map((e) => e * 2 ** 32 + 7), fc.maxSafeNat())
const txn = fc.record({ zxid, data: fc.uint8Array({ maxLength: 300 }) })
const txns = fc.oneof(
  fc.array(txn, { maxLength: 8 }),
  // Increasing zxids: the delta-encoded form.
  fc.array(txn, { maxLength: 8 }).map((ts) => {
    const zs = [...new Set(ts.map((t) => t.zxid))].sort((a, b) => a - b)
    return zs.map((z, i) => ({ zxid: z, data: ts[i]!.data }))
  }),
)
const persist: fc.Arbitrary<Persist> = fc
  .record({ currentEpoch: num, acceptedEpoch: num, truncateTo: num, append: txns, commitIndex: num }, { requiredKeys: [] })
  .map((r) => ({ _tag: "Persist" as const, ...r }))

describe("Persist codec", () => {
  it("round-trips any record", () => {
    fc.assert(
      fc.property(persist, (p) => {
        expect(decodePersist(encodePersist(p))).toEqual(p)
      }),
      { numRuns: 500 },
    )
  })

  it("rejects every strict prefix and trailing bytes", () => {
    fc.assert(
      fc.property(persist, (p) => {
        const b = encodePersist(p)
        for (let n = 0; n < b.length; n++) expect(() => decodePersist(b.subarray(0, n))).toThrow(PersistCodecError)
        const longer = new Uint8Array(b.length + 1)
        longer.set(b)
        expect(() => decodePersist(longer)).toThrow(PersistCodecError)
      }),
      { numRuns: 100 },
    )
  })

  it("is compact: an append of one small txn costs a few bytes over its data", () => {
    const b = encodePersist({ _tag: "Persist", append: [{ zxid: 5 * 2 ** 32 + 9, data: new Uint8Array(10) }], commitIndex: 3 })
    expect(b.length).toBeLessThanOrEqual(2 + 1 + 8 + 1 + 10 + 1)
    const batch = Array.from({ length: 100 }, (_, i) => ({ zxid: 5 * 2 ** 32 + i + 1, data: new Uint8Array(10) }))
    expect(encodePersist({ _tag: "Persist", append: batch }).length).toBeLessThan(100 * 12 + 12)
  })

  it("refuses numbers that are not non-negative safe integers", () => {
    expect(() => encodePersist({ _tag: "Persist", commitIndex: -1 })).toThrow(PersistCodecError)
    expect(() => encodePersist({ _tag: "Persist", truncateTo: 1.5 })).toThrow(PersistCodecError)
    expect(() => encodePersist({ _tag: "Persist", currentEpoch: 2 ** 60 })).toThrow(PersistCodecError)
  })

  it("durableToPersists folds back to the same state, from any state, in any chunking", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 400 }), (seed, n, chunk) => {
        const records = persistStream(seed, n)
        const folds = prefixFolds(records)
        const d = folds[n]!
        const from = folds[Math.floor(n / 2)]!
        const ps = durableToPersists(d, chunk).map((p) => decodePersist(encodePersist(p)))
        expect(sameDurable(recoverDurable(ps), d)).toBe(true)
        expect(sameDurable(recoverDurable(ps, from), d)).toBe(true)
      }),
      { numRuns: 100 },
    )
  })
})
