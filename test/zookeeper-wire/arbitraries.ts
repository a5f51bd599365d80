/** fast-check arbitraries derived from the generated jute field tables. */
import fc from "fast-check"
import { RECORDS, type JuteType, type RecordName } from "../../adapters/tcp/zookeeper/records.ts"

export const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
export const int64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })

export function arbitraryOf(t: JuteType): fc.Arbitrary<unknown> {
  if (typeof t === "string") {
    switch (t) {
      case "int":
        return int32
      case "long":
        return int64
      case "boolean":
        return fc.boolean()
      case "buffer":
        return fc.option(fc.uint8Array({ maxLength: 48 }), { nil: null, freq: 6 })
      case "ustring":
        return fc.option(fc.string({ unit: "binary", maxLength: 16 }), { nil: null, freq: 6 })
    }
  }
  if ("vector" in t) return fc.option(fc.array(arbitraryOf(t.vector), { maxLength: 4 }), { nil: null, freq: 6 })
  return recordArbitrary(t.record)
}

const cache = new Map<RecordName, fc.Arbitrary<Record<string, unknown>>>()

export function recordArbitrary(name: RecordName): fc.Arbitrary<Record<string, unknown>> {
  let a = cache.get(name)
  if (a === undefined) {
    a = fc.record(Object.fromEntries(RECORDS[name].fields.map((f) => [f.name, arbitraryOf(f.type)])))
    cache.set(name, a)
  }
  return a
}

/**
 * The encoded size of a value, computed independently of the encoder from the jute rules, so
 * round-trip tests also check the layout (lengths, null markers) and not only self-consistency.
 */
export function encodedSize(t: JuteType, v: unknown): number {
  if (typeof t === "string") {
    switch (t) {
      case "int":
        return 4
      case "long":
        return 8
      case "boolean":
        return 1
      case "buffer":
        return 4 + (v === null ? 0 : (v as Uint8Array).length)
      case "ustring":
        return 4 + (v === null ? 0 : Buffer.byteLength(v as string, "utf8"))
    }
  }
  if ("vector" in t) return 4 + (v === null ? 0 : (v as unknown[]).reduce<number>((n, x) => n + encodedSize(t.vector, x), 0))
  const rec = v as Record<string, unknown>
  return RECORDS[t.record].fields.reduce((n, f) => n + encodedSize(f.type, rec[f.name]), 0)
}
