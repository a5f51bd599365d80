/**
 * The record batch codecs (adapters/compression): round trips of each codec alone and inside
 * record batches, the framing each one writes (LZ4 frame and xerial snappy as the Java client
 * writes them), the frame variants other clients write, and corrupt input, which must end in an
 * error or (where the format has no checksum) some bytes, never a hang or a crash.
 */
import { gzipSync } from "node:zlib"
import fc from "fast-check"
import { beforeAll, describe, expect, it } from "vitest"
import { compressBlock, compressBound, compressFrame, decompressFrame, KAFKA_BLOCK_BYTES } from "../../adapters/compression/lz4.ts"
import { kafkaCodecs, loadKafkaCodecs, xxhash32 } from "../../adapters/compression/index.ts"
import { compressRaw, compressXerial, decompress as decompressSnappy, XERIAL_BLOCK_BYTES } from "../../adapters/compression/snappy.ts"
import { compressZstd, decompressZstd, frameContentSize, withoutContentSize } from "../../adapters/compression/zstd.ts"
import { Compression, RecordBatchError, crc32c, decodeRecords, encodeBatch, type BatchInput, type CompressionId, type KafkaRecord } from "../../core/log/index.ts"

beforeAll(async () => {
  await loadKafkaCodecs()
})

const CODECS = [
  ["gzip", Compression.gzip],
  ["snappy", Compression.snappy],
  ["lz4", Compression.lz4],
  ["zstd", Compression.zstd],
] as const satisfies readonly (readonly [string, CompressionId])[]

const codec = (id: CompressionId) => kafkaCodecs[id]!
const utf8 = new TextEncoder()

/** Deterministic bytes: `alphabet` 1 is a constant run, 256 is incompressible noise. */
function pseudoRandom(length: number, alphabet: number, seed = 1): Uint8Array {
  let s = seed >>> 0
  const out = new Uint8Array(length)
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = (s >>> 24) % alphabet
  }
  return out
}

/** Input shaped like what codecs meet: noise, runs, repeats of a short phrase, text. */
const payload = (maxPseudoRandom = 70_000): fc.Arbitrary<Uint8Array> => fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.nat({ max: 400 }), fc.uint8Array({ maxLength: 20 })).map(([phrase, times, tail]) => {
    const out = new Uint8Array(phrase.length * times + tail.length)
    for (let i = 0; i < times; i++) out.set(phrase, i * phrase.length)
    out.set(tail, phrase.length * times)
    return out
  }),
  fc.array(fc.constantFrom("id", "user", ":", ",", "{", "}", "event", "\"click\"", "0", "17", " "), { maxLength: 400 }).map((parts) => utf8.encode(parts.join(""))),
  fc.tuple(fc.nat({ max: maxPseudoRandom }), fc.integer({ min: 1, max: 256 }), fc.nat()).map(([n, alphabet, seed]) => pseudoRandom(n, alphabet, seed)),
)

/** The LZ4 frame's blocks: [compressed?, size] in order. */
function lz4Blocks(frame: Uint8Array): { compressed: boolean; size: number }[] {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const blocks: { compressed: boolean; size: number }[] = []
  for (let at = 7; ; ) {
    const word = v.getUint32(at, true)
    if (word === 0) return blocks
    blocks.push({ compressed: word >>> 31 === 0, size: word & 0x7fffffff })
    at += 4 + (word & 0x7fffffff)
  }
}

/** The xerial stream's block lengths, checking the header on the way. */
function xerialBlocks(stream: Uint8Array): number[] {
  expect([...stream.subarray(0, 16)]).toEqual([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0, 0, 0, 0, 1, 0, 0, 0, 1])
  const v = new DataView(stream.buffer, stream.byteOffset, stream.byteLength)
  const sizes: number[] = []
  for (let at = 16; at < stream.length; at += 4 + sizes.at(-1)!) sizes.push(v.getInt32(at))
  return sizes
}

interface FrameOptions {
  flg?: number
  bd?: number
  contentSize?: number
  blockChecksums?: boolean
  contentChecksum?: Uint8Array
  blocks: { bytes: Uint8Array; uncompressed?: boolean }[]
}

/** An LZ4 frame built field by field, for the variants our encoder never writes. */
function lz4Frame(o: FrameOptions): Uint8Array {
  const bytes: number[] = []
  const u32 = (x: number) => bytes.push(x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff)
  u32(0x184d2204)
  const flg = (o.flg ?? 0x60) | (o.blockChecksums ? 0x10 : 0) | (o.contentSize !== undefined ? 0x08 : 0) | (o.contentChecksum ? 0x04 : 0)
  const descriptorStart = bytes.length
  bytes.push(flg, o.bd ?? 0x40)
  if (o.contentSize !== undefined) {
    u32(o.contentSize)
    u32(0)
  }
  bytes.push((xxhash32(new Uint8Array(bytes), descriptorStart, bytes.length) >>> 8) & 0xff)
  for (const b of o.blocks) {
    u32(b.bytes.length | (b.uncompressed ? 0x80000000 : 0))
    for (const x of b.bytes) bytes.push(x)
    if (o.blockChecksums) u32(xxhash32(b.bytes))
  }
  u32(0)
  if (o.contentChecksum) u32(xxhash32(o.contentChecksum))
  return new Uint8Array(bytes)
}

function lz4BlockOf(src: Uint8Array): Uint8Array {
  const dst = new Uint8Array(compressBound(src.length))
  return dst.slice(0, compressBlock(src, 0, src.length, dst, new Int32Array(1 << 14)))
}

describe("xxhash32", () => {
  it("matches the reference vectors", () => {
    expect(xxhash32(new Uint8Array(0))).toBe(0x02cc5d05)
    expect(xxhash32(utf8.encode("abc"))).toBe(0x32d153ff)
    expect(xxhash32(utf8.encode("Nobody inspects the spammish repetition"))).toBe(0xe2293b2f)
    expect(xxhash32(utf8.encode("abc"), 0, 3, 1)).not.toBe(0x32d153ff)
  })
})

describe.each(CODECS)("%s codec", (_name, id) => {
  it("round-trips any bytes", () => {
    fc.assert(
      fc.property(payload(), (bytes) => {
        expect(Buffer.from(codec(id).decompress(codec(id).compress(bytes))).equals(Buffer.from(bytes))).toBe(true)
      }),
      { numRuns: 150 },
    )
  })

  it("round-trips empty, block-boundary and multi-block inputs", () => {
    for (const n of [0, 1, 12, 13, 32 * 1024, 32 * 1024 + 1, 64 * 1024 - 1, 64 * 1024, 64 * 1024 + 1, 300_000]) {
      for (const alphabet of [1, 4, 256]) {
        const bytes = pseudoRandom(n, alphabet, n)
        expect(Buffer.from(codec(id).decompress(codec(id).compress(bytes))).equals(Buffer.from(bytes))).toBe(true)
      }
    }
  })

  it("round-trips record batches", () => {
    fc.assert(
      fc.property(batchInput(id), (input) => {
        const { header, records } = decodeRecords(encodeBatch(input, kafkaCodecs), kafkaCodecs)
        expect(header.compression).toBe(id)
        expect(records).toEqual(input.records)
      }),
      { numRuns: 100 },
    )
  })

  it("corrupt input ends in an error or some bytes, never a hang or another kind of failure", () => {
    const valid = codec(id).compress(pseudoRandom(5000, 8, 3))
    fc.assert(
      fc.property(
        fc.oneof(
          fc.nat({ max: valid.length - 1 }).map((n) => valid.subarray(0, n)),
          fc.array(fc.tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => {
            const copy = valid.slice()
            for (const [at, x] of flips) copy[at]! ^= x
            return copy
          }),
          fc.uint8Array({ maxLength: 200 }),
          fc.uint8Array({ maxLength: 200 }).map((tail) => new Uint8Array([...valid.subarray(0, 16), ...tail])),
        ),
        (bytes) => {
          try {
            expect(codec(id).decompress(bytes)).toBeInstanceOf(Uint8Array)
          } catch (e) {
            expect(e).toBeInstanceOf(Error)
            expect(e).not.toBeInstanceOf(RangeError) // a size read from garbage must not reach an allocation
          }
        },
      ),
      { numRuns: 300 },
    )
  })

  it("a batch whose compressed records are corrupt fails as RecordBatchError, CRC or not", () => {
    const input: BatchInput = { baseTimestamp: 1, compression: id, records: [rec(0, "k", "v".repeat(300)), rec(1, null, "w".repeat(200))] }
    const good = encodeBatch(input, kafkaCodecs)
    fc.assert(
      fc.property(fc.integer({ min: 61, max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.boolean(), (at, x, fixCrc) => {
        const bad = good.slice()
        bad[at]! ^= x
        if (fixCrc) resealCrc(bad)
        try {
          decodeRecords(bad, kafkaCodecs)
        } catch (e) {
          expect(e).toBeInstanceOf(RecordBatchError)
          if (!fixCrc) expect((e as RecordBatchError).reason).toBe("crc")
        }
      }),
      { numRuns: 200 },
    )
  })
})

describe("lz4 framing", () => {
  it("writes what KafkaLZ4BlockOutputStream writes: independent 64 KiB blocks, no checksums", () => {
    const frame = compressFrame(pseudoRandom(200_000, 4))
    expect([...frame.subarray(0, 7)]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, (xxhash32(frame, 4, 6) >>> 8) & 0xff])
    expect(lz4Blocks(frame).map((b) => b.compressed)).toEqual([true, true, true, true])
    expect([...frame.subarray(-4)]).toEqual([0, 0, 0, 0])
    expect([...compressFrame(new Uint8Array(0))]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, frame[6], 0, 0, 0, 0])
  })

  it("stores incompressible blocks uncompressed", () => {
    const noise = pseudoRandom(3 * KAFKA_BLOCK_BYTES + 10, 256)
    const frame = compressFrame(noise)
    expect(lz4Blocks(frame)).toEqual([
      { compressed: false, size: KAFKA_BLOCK_BYTES },
      { compressed: false, size: KAFKA_BLOCK_BYTES },
      { compressed: false, size: KAFKA_BLOCK_BYTES },
      { compressed: false, size: 10 },
    ])
    expect(frame.length).toBe(7 + noise.length + 4 * 4 + 4)
    expect(Buffer.from(decompressFrame(frame)).equals(Buffer.from(noise))).toBe(true)
  })

  it("keeps the format's end-of-block rules (last 5 bytes literals, no match starting in the last 12)", () => {
    // The reference decoder rejects blocks that break them; lz4js's encoder does, on ~20% of small inputs.
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 13, max: 120 }), fc.nat(), (alphabet, n, seed) => {
        const block = lz4BlockOf(pseudoRandom(n, alphabet, seed))
        let at = 0
        let out = 0
        for (;;) {
          const token = block[at++]!
          let literals = token >>> 4
          if (literals === 15) for (let b = 255; b === 255; literals += b) b = block[at++]!
          at += literals
          out += literals
          if (at === block.length) break
          const matchStart = out
          expect(matchStart).toBeLessThanOrEqual(n - 12)
          at += 2
          let length = token & 15
          if (length === 15) for (let b = 255; b === 255; length += b) b = block[at++]!
          out += length + 4
          expect(out).toBeLessThanOrEqual(n - 5)
        }
        expect(out).toBe(n)
      }),
      { numRuns: 2000 },
    )
  })

  it("reads frames other writers make: content size and checksum, block checksums, big blocks, dependent blocks", () => {
    const text = pseudoRandom(300_000, 5, 9)
    // kafkajs-lz4 (the lz4 npm package) writes 4 MiB blocks and a content checksum.
    const big = lz4Frame({ bd: 0x70, contentChecksum: text, blocks: [{ bytes: lz4BlockOf(text) }] })
    expect(Buffer.from(decompressFrame(big)).equals(Buffer.from(text))).toBe(true)
    const checked = lz4Frame({ contentSize: 20, blockChecksums: true, blocks: [{ bytes: lz4BlockOf(text.subarray(0, 20)) }] })
    expect(Buffer.from(decompressFrame(checked)).equals(Buffer.from(text.subarray(0, 20)))).toBe(true)

    // Block 2 copies 32 bytes from block 1: fine when blocks are dependent, corrupt when independent.
    const first = utf8.encode("0123456789abcdefghijklmnopqrstuv")
    const literalsOnly = new Uint8Array([0xf0, 32 - 15, ...first])
    const copyThenTail = new Uint8Array([0x0f, 32, 0, 32 - 4 - 15, 0x50, ...utf8.encode("tail!")])
    const blocks = [{ bytes: literalsOnly }, { bytes: copyThenTail }]
    expect(new TextDecoder().decode(decompressFrame(lz4Frame({ flg: 0x40, blocks })))).toBe(`${"0123456789abcdefghijklmnopqrstuv".repeat(2)}tail!`)
    expect(() => decompressFrame(lz4Frame({ flg: 0x60, blocks }))).toThrow(/before the window/)

    // Skippable frames are skipped; frames back to back are concatenated.
    const skippable = new Uint8Array([0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3])
    const two = new Uint8Array([...skippable, ...compressFrame(utf8.encode("one ")), ...compressFrame(utf8.encode("two"))])
    expect(new TextDecoder().decode(decompressFrame(two))).toBe("one two")
  })

  it("refuses bad magic, bad header checksum, wrong checksums and lengths", () => {
    const good = lz4Frame({ contentSize: 5, blockChecksums: true, contentChecksum: utf8.encode("hello"), blocks: [{ bytes: utf8.encode("hello"), uncompressed: true }] })
    expect(new TextDecoder().decode(decompressFrame(good))).toBe("hello")
    const flip = (at: number) => {
      const b = good.slice()
      b[at]! ^= 1
      return b
    }
    expect(() => decompressFrame(flip(0))).toThrow(/magic/)
    expect(() => decompressFrame(flip(14))).toThrow(/header checksum/)
    expect(() => decompressFrame(flip(good.length - 1))).toThrow(/content checksum/)
    expect(() => decompressFrame(flip(good.length - 9))).toThrow(/block checksum/)
    expect(() => decompressFrame(lz4Frame({ contentSize: 6, blocks: [{ bytes: utf8.encode("hello"), uncompressed: true }] }))).toThrow(/header says 6/)
    expect(() => decompressFrame(lz4Frame({ bd: 0x30, blocks: [] }))).toThrow(/block size code/)
    expect(() => decompressFrame(lz4Frame({ flg: 0x80, blocks: [] }))).toThrow(/version/)
    expect(() => decompressFrame(new Uint8Array(0))).toThrow(/no frame/)
    for (let n = 0; n < good.length; n++) expect(() => decompressFrame(good.subarray(0, n))).toThrow()
  })
})

describe("snappy framing", () => {
  it("writes snappy-java's xerial stream: 16-byte header, 32 KiB blocks", () => {
    const input = pseudoRandom(100_000, 6)
    const stream = compressXerial(input)
    const sizes = xerialBlocks(stream)
    expect(sizes).toHaveLength(4)
    expect(16 + sizes.reduce((s, n) => s + 4 + n, 0)).toBe(stream.length)
    expect(xerialBlocks(compressXerial(new Uint8Array(0)))).toEqual([])
    expect(Math.ceil(input.length / XERIAL_BLOCK_BYTES)).toBe(4)
  })

  it("reads raw snappy (kafkajs-snappy, librdkafka), concatenated xerial streams, and nothing", () => {
    fc.assert(
      fc.property(payload(), (bytes) => {
        expect(Buffer.from(decompressSnappy(compressRaw(bytes))).equals(Buffer.from(bytes))).toBe(true)
      }),
      { numRuns: 100 },
    )
    const a = pseudoRandom(40_000, 3, 1)
    const b = pseudoRandom(10, 3, 2)
    const both = decompressSnappy(new Uint8Array([...compressXerial(a), ...compressXerial(b)]))
    expect(Buffer.from(both).equals(Buffer.concat([a, b]))).toBe(true)
    expect(decompressSnappy(new Uint8Array(0))).toHaveLength(0)
  })

  it("refuses blocks that do not fill their declared length, copies before the start, truncation", () => {
    expect(() => decompressSnappy(new Uint8Array([5, 0x08, 1, 2, 3]))).toThrow(/declares 5/) // literal of 3, length says 5
    expect(() => decompressSnappy(new Uint8Array([8, 0x04, 1, 2, 0x0d, 9]))).toThrow(/reaches before/) // copy offset 9 after 2 bytes
    expect(() => decompressSnappy(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0]))).toThrow(/more than/) // 4 GiB from 1 byte
    const stream = compressXerial(pseudoRandom(70_000, 4))
    for (const n of [1, 8, 15, 17, 19, 25, stream.length - 1]) expect(() => decompressSnappy(stream.subarray(0, n))).toThrow()
  })
})

describe("zstd", () => {
  it("decompresses frames without a content size (the Java client's zstd-jni stream)", () => {
    for (const n of [0, 1, 1000, 200_000, 3_000_000]) {
      const input = pseudoRandom(n, 7, n)
      const frame = compressZstd(input)
      expect(frameContentSize(frame)).toBe(n)
      const streamed = withoutContentSize(frame)
      expect(frameContentSize(streamed)).toBe("absent")
      expect(Buffer.from(decompressZstd(streamed)).equals(Buffer.from(input))).toBe(true)
    }
  })

  it("decompresses frames back to back, skipping skippable frames", () => {
    const a = pseudoRandom(5000, 3, 1)
    const b = pseudoRandom(7000, 3, 2)
    const skippable = [0x50, 0x2a, 0x4d, 0x18, 2, 0, 0, 0, 9, 9]
    const both = decompressZstd(new Uint8Array([...compressZstd(a), ...skippable, ...withoutContentSize(compressZstd(b))]))
    expect(Buffer.from(both).equals(Buffer.concat([a, b]))).toBe(true)
    expect(decompressZstd(new Uint8Array(0))).toHaveLength(0)
  })

  it("refuses garbage, truncation and a flipped checksum-covered frame", () => {
    expect(() => decompressZstd(gzipSync(utf8.encode("not zstd")))).toThrow()
    const frame = compressZstd(pseudoRandom(10_000, 5))
    for (const n of [4, 6, 10, frame.length - 1]) expect(() => decompressZstd(frame.subarray(0, n))).toThrow()
  })
})

// ---------------------------------------------------------------------------------------------

function rec(offsetDelta: number, key: string | null, value: string | null): KafkaRecord {
  return { offsetDelta, timestampDelta: offsetDelta * 3, key: key === null ? null : utf8.encode(key), value: value === null ? null : utf8.encode(value), headers: [] }
}

/** Recomputes the CRC of a batch whose bytes were changed, so the change reaches the decompressor. */
function resealCrc(batch: Uint8Array): void {
  new DataView(batch.buffer, batch.byteOffset).setUint32(17, crc32c(batch, 21, batch.length))
}

function batchInput(compression: CompressionId): fc.Arbitrary<BatchInput> {
  const bytes = fc.oneof(fc.uint8Array({ maxLength: 60 }), payload(3000))
  const record = fc.record({
    timestampDelta: fc.integer({ min: 0, max: 1e6 }),
    key: fc.option(bytes, { nil: null }),
    value: fc.option(bytes, { nil: null }),
    headers: fc.array(fc.record({ key: fc.string({ maxLength: 10 }), value: fc.option(fc.uint8Array({ maxLength: 20 }), { nil: null }) }), { maxLength: 3 }),
  })
  return fc.record({
    baseOffset: fc.maxSafeNat(),
    baseTimestamp: fc.integer({ min: 0, max: 2 ** 45 }),
    records: fc.array(record, { maxLength: 8 }).map((rs) => rs.map((r, i) => ({ ...r, offsetDelta: i }))),
  }).map((b) => ({ ...b, compression }))
}
