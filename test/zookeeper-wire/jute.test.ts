/**
 * Jute primitives: byte layout of each type, null encodings, and the reader's refusal of short,
 * negative or oversized lengths (always a JuteError, never an allocation of the declared size).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { DEFAULT_MAX_LENGTH, JuteError, JuteReader, JuteWriter } from "../../adapters/tcp/zookeeper/jute.ts"
import { hex, toHex } from "./hex.ts"

const juteErr = (f: () => unknown): JuteError => {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(JuteError)
    return e as JuteError
  }
  throw new Error("expected a JuteError")
}

describe("JuteWriter layout", () => {
  it("writes big-endian ints, longs, one-byte booleans", () => {
    const w = new JuteWriter(1)
    w.int(1).int(-1).int(0x7fffffff).int(-0x80000000)
    w.long(0x0102030405060708n).long(-1n).long(5)
    w.bool(true).bool(false)
    expect(toHex(w.finish())).toBe(
      "00000001" + "ffffffff" + "7fffffff" + "80000000" + "0102030405060708" + "ffffffffffffffff" + "0000000000000005" + "01" + "00",
    )
  })

  it("writes buffers and strings as int32 length + bytes, null as -1", () => {
    const w = new JuteWriter()
    w.buffer(new Uint8Array([0xde, 0xad])).buffer(null).buffer(new Uint8Array(0))
    w.ustring("é/").ustring(null).ustring("")
    expect(toHex(w.finish())).toBe("00000002dead" + "ffffffff" + "00000000" + "00000003c3a92f" + "ffffffff" + "00000000")
  })

  it("writes vectors as int32 count + items, null as -1", () => {
    const w = new JuteWriter()
    w.vector(["a", "bc"], (ww, s) => ww.ustring(s)).vector(null, (ww, s: string) => ww.ustring(s)).vector([], (ww, s: string) => ww.ustring(s))
    expect(toHex(w.finish())).toBe("00000002" + "0000000161" + "000000026263" + "ffffffff" + "00000000")
  })

  it("refuses values that do not fit", () => {
    const w = new JuteWriter()
    expect(() => w.int(2 ** 31)).toThrow(RangeError)
    expect(() => w.int(1.5)).toThrow(RangeError)
    expect(() => w.long(2 ** 53)).toThrow(RangeError)
    expect(() => w.long(2n ** 63n)).toThrow(RangeError)
    expect(() => w.long(-(2n ** 63n) - 1n)).toThrow(RangeError)
    expect(w.length).toBe(0)
  })

  it("grows from a tiny initial capacity and patches length prefixes", () => {
    const w = new JuteWriter(1)
    w.int(0)
    const big = new Uint8Array(100_000).fill(7)
    w.raw(big)
    w.setInt(0, w.length - 4)
    const out = w.finish()
    expect(out.length).toBe(100_004)
    expect(toHex(out.subarray(0, 4))).toBe("000186a0")
    expect(out[100_003]).toBe(7)
  })
})

describe("JuteReader", () => {
  it("reads back what the writer wrote (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.boolean(),
        fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
        fc.option(fc.string({ unit: "binary", maxLength: 20 }), { nil: null }),
        fc.option(fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 6 }), { nil: null }),
        (i, l, b, buf, s, v) => {
          const w = new JuteWriter(4)
          w.int(i).long(l).bool(b).buffer(buf).ustring(s).vector(v, (ww, x) => ww.int(x))
          const r = new JuteReader(w.finish())
          expect(r.int()).toBe(i)
          expect(r.long()).toBe(l)
          expect(r.bool()).toBe(b)
          expect(r.buffer()).toEqual(buf)
          expect(r.ustring()).toBe(s)
          expect(r.vector((rr) => rr.int(), 4)).toEqual(v)
          expect(r.remaining).toBe(0)
        },
      ),
    )
  })

  it("treats any non-zero byte as true, like Java", () => {
    expect(new JuteReader(hex("02")).bool()).toBe(true)
    expect(new JuteReader(hex("ff")).bool()).toBe(true)
  })

  it("keeps a UTF-8 BOM and replaces malformed UTF-8 instead of failing (Java's behaviour)", () => {
    expect(new JuteReader(hex("00000003 efbbbf")).ustring()).toBe("\ufeff")
    expect(new JuteReader(hex("00000002 ff61")).ustring()).toBe("\ufffda")
  })

  it("returns buffers that do not alias the input", () => {
    const input = hex("00000002 0102")
    const b = new JuteReader(input).buffer()!
    input[4] = 9
    expect(Array.from(b)).toEqual([1, 2])
    expect(b.constructor).toBe(Uint8Array)
  })

  it("reads from a Buffer view with a non-zero byteOffset", () => {
    const backing = Buffer.from(hex("aaaa 00000001 0000000000000002"))
    const r = new JuteReader(backing.subarray(2))
    expect(r.int()).toBe(1)
    expect(r.long()).toBe(2n)
  })

  it("throws truncated on short input, at the right offset", () => {
    expect(juteErr(() => new JuteReader(hex("000000")).int())).toMatchObject({ kind: "truncated", offset: 0 })
    expect(juteErr(() => new JuteReader(hex("00000000000000")).long()).kind).toBe("truncated")
    expect(juteErr(() => new JuteReader(new Uint8Array(0)).bool()).kind).toBe("truncated")
    const r = new JuteReader(hex("00000001 00000005 6162"))
    r.int()
    expect(juteErr(() => r.ustring())).toMatchObject({ kind: "truncated", offset: 4 })
  })

  it("refuses lengths below -1", () => {
    expect(juteErr(() => new JuteReader(hex("fffffffe")).buffer()).kind).toBe("bad-length")
    expect(juteErr(() => new JuteReader(hex("80000000")).ustring()).kind).toBe("bad-length")
    expect(juteErr(() => new JuteReader(hex("fffffff0")).vector((r) => r.int())).kind).toBe("bad-length")
  })

  it("refuses a huge declared length without allocating it", () => {
    // 2^31-1 bytes declared, 0 present: above the limit.
    expect(juteErr(() => new JuteReader(hex("7fffffff")).buffer()).kind).toBe("too-large")
    expect(juteErr(() => new JuteReader(hex("7fffffff")).vector((r) => r.int())).kind).toBe("too-large")
    // Under the limit but longer than the input: truncated, before any allocation.
    expect(DEFAULT_MAX_LENGTH).toBe(0xfffff * 2)
    expect(juteErr(() => new JuteReader(hex("000fffff 00")).buffer()).kind).toBe("truncated")
    // A vector count is checked against the smallest possible item size.
    expect(juteErr(() => new JuteReader(hex("00000003 00000001 00000002")).vector((r) => r.long(), 8)).kind).toBe("truncated")
    // A custom limit.
    expect(juteErr(() => new JuteReader(hex("00000005 0102030405"), { maxLength: 4 }).buffer()).kind).toBe("too-large")
  })

  it("never throws anything but JuteError on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.constantFrom("int", "long", "bool", "buffer", "ustring", "vector"), { maxLength: 12 }), (bytes, script) => {
        const r = new JuteReader(bytes, { maxLength: 1 << 20 })
        try {
          for (const s of script) {
            if (s === "int") r.int()
            else if (s === "long") r.long()
            else if (s === "bool") r.bool()
            else if (s === "buffer") r.buffer()
            else if (s === "ustring") r.ustring()
            else r.vector((rr) => rr.ustring(), 4)
          }
        } catch (e) {
          expect(e).toBeInstanceOf(JuteError)
        }
      }),
    )
  })
})
