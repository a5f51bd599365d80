import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { recoverDurable } from "../../core/consensus/durable.ts"
import type { Durable, Persist } from "../../core/consensus/types.ts"
import { BASE_DATA_PLACEHOLDER, decodePersist, durableToPersists, encodePersist, PersistCodecError } from "../../adapters/disk/persist-codec.ts"
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
const base = fc.record({ index: fc.oneof(fc.integer({ min: 1, max: 1000 }), fc.maxSafeNat().map((n) => Math.max(1, n))), zxid, data: fc.uint8Array({ maxLength: 64 }) })
const persist: fc.Arbitrary<Persist> = fc
  .record({ base, currentEpoch: num, acceptedEpoch: num, truncateTo: num, append: txns, commitIndex: num }, { requiredKeys: [] })
  .map((r) => ({ _tag: "Persist" as const, ...r }))

/** What decoding gives back: everything but a base's data, which lives in a snapshot file. */
const stored = (p: Persist): Persist => (p.base === undefined ? p : { ...p, base: { ...p.base, data: BASE_DATA_PLACEHOLDER } })
const hexBytes = (b: Uint8Array): string => Buffer.from(b).toString("hex")

describe("Persist codec", () => {
  it("round-trips any record, a base as its index and zxid only", () => {
    fc.assert(
      fc.property(persist, (p) => {
        const d = decodePersist(encodePersist(p))
        expect(d).toEqual(stored(p))
        if (p.base !== undefined) expect(d.base!.data).toBe(BASE_DATA_PLACEHOLDER)
      }),
      { numRuns: 500 },
    )
  })

  it("keeps the format of records without a base; a base is flag 64, first", () => {
    // Written before bases existed: version 1, flags currentEpoch|commitIndex, 5, 300.
    const old = Uint8Array.from([1, 0x11, 5, 0xac, 0x02])
    expect(decodePersist(old)).toEqual({ _tag: "Persist", currentEpoch: 5, commitIndex: 300 })
    expect(hexBytes(encodePersist({ _tag: "Persist", currentEpoch: 5, commitIndex: 300 }))).toBe(hexBytes(old))
    // flags base|truncateTo, index 3, zxid 2^32+1, truncateTo 3; the 1000 bytes of data are not in it.
    const withBase = encodePersist({ _tag: "Persist", base: { index: 3, zxid: 2 ** 32 + 1, data: new Uint8Array(1000) }, truncateTo: 3 })
    expect(hexBytes(withBase)).toBe("0144" + "03" + "8180808010" + "03")
    expect(decodePersist(withBase)).toEqual({ _tag: "Persist", base: { index: 3, zxid: 2 ** 32 + 1, data: BASE_DATA_PLACEHOLDER }, truncateTo: 3 })
  })

  it("refuses a base at position 0 and unknown flags", () => {
    expect(() => encodePersist({ _tag: "Persist", base: { index: 0, zxid: 1, data: new Uint8Array(0) } })).toThrow(PersistCodecError)
    expect(() => decodePersist(Uint8Array.from([1, 0x40, 0, 1]))).toThrow(/base index 0/)
    expect(() => decodePersist(Uint8Array.from([1, 0x80]))).toThrow(/unknown Persist flags/)
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

  it("durableToPersists folds back to the same state, from any earlier state, in any chunking", () => {
    // The storage puts the base's data back from its snapshot file; here from the state itself.
    const resolve = (p: Persist, d: Durable): Persist => (p.base === undefined ? p : { ...p, base: d.base! })
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 400 }), fc.boolean(), (seed, n, chunk, bases) => {
        const records = persistStream(seed, n, { bases })
        const folds = prefixFolds(records)
        const d = folds[n]!
        const from = folds[Math.floor(n / 2)]!
        const ps = durableToPersists(d, chunk).map((p) => resolve(decodePersist(encodePersist(p)), d))
        expect(sameDurable(recoverDurable(ps), d)).toBe(true)
        expect(sameDurable(recoverDurable(ps, from), d)).toBe(true)
        // The first record carries the base (to which it truncates) and both epochs.
        expect(ps[0]).toMatchObject({ truncateTo: d.base?.index ?? 0, currentEpoch: d.currentEpoch, acceptedEpoch: d.acceptedEpoch })
        expect(ps[0]!.base?.zxid).toBe(d.base?.zxid)
        expect(ps.slice(1).every((p) => p.base === undefined)).toBe(true)
      }),
      { numRuns: 150 },
    )
  })
})
