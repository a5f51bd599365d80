/**
 * FrameDecoder: any split of a byte stream into chunks yields the same frames; a negative or
 * oversized length prefix is a FrameError (the server closes the connection), and the decoder
 * never holds more than one partial frame.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { FrameDecoder, FrameError, asFourLetterWord } from "../../adapters/tcp/zookeeper/frames.ts"
import { DEFAULT_MAX_BUFFER } from "../../adapters/tcp/zookeeper/jute.ts"
import { hex } from "./hex.ts"

function framed(bodies: Uint8Array[]): Uint8Array {
  const total = bodies.reduce((n, b) => n + 4 + b.length, 0)
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  let at = 0
  for (const b of bodies) {
    view.setInt32(at, b.length)
    out.set(b, at + 4)
    at += 4 + b.length
  }
  return out
}

/** Splits `bytes` at the given cut points (sorted, deduplicated, clamped). */
function chunk(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b)
  const out: Uint8Array[] = []
  let prev = 0
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(prev, p))
    prev = p
  }
  return out
}

describe("FrameDecoder", () => {
  it("defaults to jute.maxbuffer (0xfffff)", () => {
    expect(new FrameDecoder().maxBuffer).toBe(0xfffff)
    expect(DEFAULT_MAX_BUFFER).toBe(1048575)
  })

  it("yields the same frames however the stream is chunked (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 12 }),
        fc.array(fc.nat({ max: 4000 }), { maxLength: 40 }),
        (bodies, cuts) => {
          const stream = framed(bodies)
          const d = new FrameDecoder(1000)
          const got: Uint8Array[] = []
          for (const c of chunk(stream, cuts)) {
            got.push(...d.push(c))
            expect(d.buffered).toBeLessThan(4 + 1000)
          }
          expect(got.map((b) => Array.from(b))).toEqual(bodies.map((b) => Array.from(b)))
          expect(d.buffered).toBe(0)
        },
      ),
    )
  })

  it("handles one byte at a time, and empty chunks", () => {
    const bodies = [hex("01"), new Uint8Array(0), hex("020304")]
    const stream = framed(bodies)
    const d = new FrameDecoder()
    const got: Uint8Array[] = [...d.push(new Uint8Array(0))]
    for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)))
    expect(got.map((b) => Array.from(b))).toEqual([[1], [], [2, 3, 4]])
  })

  it("accepts a frame of exactly maxBuffer bytes", () => {
    const d = new FrameDecoder(10)
    const frames = d.push(framed([new Uint8Array(10).fill(1)]))
    expect(frames).toHaveLength(1)
    expect(frames[0]!.length).toBe(10)
  })

  it("fails on a length above maxBuffer, before the body arrives, and stays failed", () => {
    const d = new FrameDecoder(10)
    let err: unknown
    try {
      d.push(hex("0000000b"))
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(FrameError)
    expect(err).toMatchObject({ kind: "too-large", length: 11, maxBuffer: 10 })
    expect(() => d.push(hex("00"))).toThrow(FrameError)
    expect(d.buffered).toBe(0)
  })

  it("fails on a negative length", () => {
    const d = new FrameDecoder()
    expect(() => d.push(hex("ffffffff"))).toThrow(expect.objectContaining({ kind: "negative-length", length: -1 }))
  })

  it("fails on the default limit: 0xfffff + 1", () => {
    expect(() => new FrameDecoder().push(hex("00100000"))).toThrow(FrameError)
    expect(new FrameDecoder().push(hex("000fffff"))).toEqual([])
  })

  it("never buffers more than one partial frame, whatever arrives (property)", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 200 }), { maxLength: 30 }), (chunks) => {
        const d = new FrameDecoder(256)
        for (const c of chunks) {
          try {
            d.push(c)
          } catch (e) {
            expect(e).toBeInstanceOf(FrameError)
            return
          }
          expect(d.buffered).toBeLessThan(4 + 256)
        }
      }),
    )
  })

  it("recognises four-letter words in a first length prefix", () => {
    const ruok = new DataView(new TextEncoder().encode("ruok").buffer).getInt32(0)
    expect(asFourLetterWord(ruok)).toBe("ruok")
    let err: FrameError | undefined
    try {
      new FrameDecoder().push(new TextEncoder().encode("srvr"))
    } catch (e) {
      err = e as FrameError
    }
    expect(err?.kind).toBe("too-large")
    expect(asFourLetterWord(err!.length)).toBe("srvr")
    expect(asFourLetterWord(45)).toBeNull()
  })
})
