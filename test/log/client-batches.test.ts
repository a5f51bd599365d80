/**
 * Record batches made by real Kafka clients decode with our codecs, for every codec, and ours
 * read back in the Java client:
 *
 * - Java: kafka-clients' MemoryRecordsBuilder, the producer's own batch builder (via
 *   test/log/java-batches.ts), with gzip, snappy (snappy-java, xerial), lz4 (lz4-java through
 *   KafkaLZ4BlockOutputStream) and zstd (zstd-jni stream). The same program reads our batches
 *   with MemoryRecords (CRC checked, decompressed by those libraries). Skipped only when java or
 *   mvn is missing or Maven cannot reach its repository.
 * - kafkajs 2.2: the bytes of its Produce requests to a fake broker (test/log/kafkajs-batches.ts).
 *
 * Each batch is compared with what the client was asked to send (keys, values, headers, offset
 * deltas, timestamps, count), its CRC is checked, and it is re-encoded with our codec and decoded
 * again. The inputs include null keys and values, empty ones, repeated and non-ASCII header
 * keys, timestamps out of order, 300 KB of text (several blocks in every framing) and
 * incompressible values (LZ4 blocks stored uncompressed).
 */
import { beforeAll, describe, expect, it } from "vitest"
import { loadKafkaCodecs } from "../../adapters/compression/index.ts"
import { Compression, crcMatches, decodeRecords, encodeBatch, type BatchHeader, type CompressionId, type KafkaRecord } from "../../core/log/index.ts"
import { ensureKafkaBatches, kafkaClientsVersion, missingJavaTool, runKafkaBatches, type JavaBatchSpec, type JavaCodec, type JavaRecord, type JavaRun } from "./java-batches.ts"
import { captureKafkajsBatches, type KafkajsMessage } from "./kafkajs-batches.ts"

const codecs = await loadKafkaCodecs()
const utf8 = new TextEncoder()

const CODEC_IDS: Record<JavaCodec, CompressionId> = {
  none: Compression.none,
  gzip: Compression.gzip,
  snappy: Compression.snappy,
  lz4: Compression.lz4,
  zstd: Compression.zstd,
}
const CODEC_NAMES = Object.keys(CODEC_IDS) as JavaCodec[]

// ---------------------------------------------------------------------------------------------
// What the clients are asked to send

const BASE_TIME = 1_732_000_000_000

function pseudoRandomBytes(n: number, seed: number): Uint8Array {
  let s = seed >>> 0
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = s >>> 24
  }
  return out
}

/**
 * 60 records of every shape. Header keys are grouped (kafkajs sends a header object, repeated
 * keys as arrays) and never integer-like (object key order would move them).
 */
function mixedRecords(nullHeaderValues: boolean): JavaRecord[] {
  return Array.from({ length: 60 }, (_, i) => {
    const key = i % 5 === 0 ? null : i % 7 === 1 ? new Uint8Array(0) : utf8.encode(`user-${i % 13}`)
    const value = i % 11 === 3 ? null : i % 9 === 2 ? new Uint8Array(0) : utf8.encode(JSON.stringify({ i, note: "café ☕ ".repeat(i % 4), n: i * 7919 }))
    const headers =
      i % 4 === 0
        ? []
        : i % 4 === 1
          ? [{ key: "trace-id", value: utf8.encode((i * 2654435761).toString(16)) }]
          : i % 4 === 2
            ? [
                { key: "h", value: nullHeaderValues ? null : utf8.encode("first") },
                { key: "h", value: utf8.encode("second") },
              ]
            : [{ key: "ключ-☃", value: pseudoRandomBytes(5, i) }]
    // Out of order: the batch's base timestamp is not always the first record's.
    return { timestamp: BASE_TIME + i * 1000 - (i % 3) * 1500, key, value, headers }
  })
}

/** ~300 KB of JSON-ish text: several 32 KiB snappy blocks, 64 KiB LZ4 blocks, 128 KiB zstd blocks. */
function largeRecords(): JavaRecord[] {
  return Array.from({ length: 2500 }, (_, i) => ({
    timestamp: BASE_TIME + i,
    key: utf8.encode(`order-${i % 500}`),
    value: utf8.encode(JSON.stringify({ id: i, customer: `c-${(i * 37) % 1000}`, items: [i % 7, i % 11], total: ((i * 7919) % 100_000) / 100, status: ["new", "paid", "shipped"][i % 3] })),
    headers: [],
  }))
}

/** 210 KB of noise: LZ4 stores these blocks uncompressed, snappy as literals. */
function incompressibleRecords(): JavaRecord[] {
  return [0, 1, 2].map((i) => ({ timestamp: BASE_TIME + i, key: utf8.encode(`blob-${i}`), value: pseudoRandomBytes(70_000, i + 1), headers: [] }))
}

const hex = (b: Uint8Array | null): string => (b === null ? "null" : `x${Buffer.from(b).toString("hex")}`)

/**
 * One line per record, compared as text: deep equality over thousands of byte arrays takes
 * seconds, and a failing line still says which record and field differ.
 */
const asLines = (records: readonly { offset: number; timestamp: number; key: Uint8Array | null; value: Uint8Array | null; headers: readonly { key: string; value: Uint8Array | null }[] }[]): string =>
  records.map((r) => [r.offset, r.timestamp, hex(r.key), hex(r.value), ...r.headers.map((h) => `${JSON.stringify(h.key)}=${hex(h.value)}`)].join(" ")).join("\n")

const sentLines = (sent: readonly JavaRecord[], firstOffset = 0): string => asLines(sent.map((r, i) => ({ ...r, offset: firstOffset + i })))

/** Checks a decoded batch against what the client was asked to send. */
function expectRecords(header: BatchHeader, records: KafkaRecord[], sent: readonly JavaRecord[]): void {
  expect(header.recordsCount).toBe(sent.length)
  expect(header.lastOffsetDelta).toBe(sent.length - 1)
  expect(header.maxTimestamp).toBe(Math.max(...sent.map((r) => r.timestamp)))
  expect(asLines(records.map((r) => ({ ...r, offset: r.offsetDelta, timestamp: header.baseTimestamp + r.timestampDelta })))).toBe(sentLines(sent))
}

/** Decodes a client's batch, checks it, re-encodes it with our codec and checks that too. */
function checkClientBatch(bytes: Uint8Array, codec: JavaCodec, sent: readonly JavaRecord[]): BatchHeader {
  const { header, records } = decodeRecords(bytes, codecs)
  expect(header.sizeBytes).toBe(bytes.length)
  expect(crcMatches(bytes, header)).toBe(true)
  expect(header.compression).toBe(CODEC_IDS[codec])
  expectRecords(header, records, sent)

  const ours = encodeBatch({ ...header, compression: header.compression, records }, codecs)
  const again = decodeRecords(ours, codecs)
  expect(again.header).toEqual({ ...header, sizeBytes: ours.length, crc: again.header.crc })
  expectRecords(again.header, again.records, sent)
  // Uncompressed, the encoding has no freedom left: ours must be the client's, byte for byte.
  if (codec === "none") expect(Buffer.from(ours).equals(Buffer.from(bytes))).toBe(true)
  return header
}

// ---------------------------------------------------------------------------------------------
// Java

const NETWORK_TROUBLE =
  /Could not transfer|UnknownHost|Unknown host|Connection refused|Connect to .* failed|Network is unreachable|timed out|No route to host|Temporary failure in name resolution/i

/** undefined if the Java program can be built, else why it cannot (an environment limit). */
async function whyJavaUnavailable(): Promise<string | undefined> {
  const missing = missingJavaTool()
  if (missing) return `${missing} is not installed`
  try {
    await ensureKafkaBatches()
    return undefined
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e)
    if (NETWORK_TROUBLE.test(msg)) return `Maven could not fetch kafka-clients: ${msg.split("\n")[0]}`
    throw e // a broken pom or program is a bug, not an environment limit
  }
}

const javaUnavailable = await whyJavaUnavailable()
if (javaUnavailable) console.warn(`[client-batches] Java client part skipped: ${javaUnavailable}`)

const javaInputs = (): { variant: string; records: JavaRecord[]; baseOffset: number; producer?: JavaBatchSpec["producer"] }[] => [
  { variant: "mixed", records: mixedRecords(true), baseOffset: 0 },
  { variant: "large", records: largeRecords(), baseOffset: 0 },
  { variant: "incompressible", records: incompressibleRecords(), baseOffset: 0 },
  // As an idempotent, transactional producer's batch is built (setProducerState).
  { variant: "producer", records: mixedRecords(true).slice(0, 5), baseOffset: 1000, producer: { id: 123_456_789, epoch: 7, baseSequence: 42, transactional: true } },
]

describe.skipIf(!!javaUnavailable)(`Java client (kafka-clients ${await kafkaClientsVersion()})`, () => {
  const specs: JavaBatchSpec[] = CODEC_NAMES.flatMap((codec) => javaInputs().map((input) => ({ name: `${input.variant}-${codec}`, codec, ...input })))
  /** Our batches for the Java client to read: each spec encoded with our codec. */
  const ours = new Map(
    specs.map((s) => [
      s.name,
      encodeBatch(
        {
          baseOffset: s.baseOffset,
          compression: CODEC_IDS[s.codec],
          baseTimestamp: Math.min(...s.records.map((r) => r.timestamp)),
          producerId: s.producer?.id ?? -1,
          producerEpoch: s.producer?.epoch ?? -1,
          baseSequence: s.producer?.baseSequence ?? -1,
          transactional: s.producer?.transactional ?? false,
          records: s.records.map((r, i) => ({ ...r, offsetDelta: i, timestampDelta: r.timestamp - Math.min(...s.records.map((x) => x.timestamp)) })),
        },
        codecs,
      ),
    ]),
  )
  let run: JavaRun

  beforeAll(async () => {
    run = await runKafkaBatches(specs, ours)
  }, 300_000)

  it.each(CODEC_NAMES)("%s batches built by MemoryRecordsBuilder decode", (codec) => {
    for (const spec of specs.filter((s) => s.codec === codec)) {
      const bytes = run.built.get(spec.name)
      expect(bytes, spec.name).toBeDefined()
      const header = checkClientBatch(bytes!, codec, spec.records)
      expect(header.baseOffset).toBe(spec.baseOffset)
      expect(header.producerId).toBe(spec.producer?.id ?? -1)
      expect(header.producerEpoch).toBe(spec.producer?.epoch ?? -1)
      expect(header.baseSequence).toBe(spec.producer?.baseSequence ?? -1)
      expect(header.transactional).toBe(spec.producer?.transactional ?? false)
    }
  })

  it("frames as expected: xerial snappy, KafkaLZ4BlockOutputStream's LZ4 frame, zstd without a content size", () => {
    const body = (name: string) => run.built.get(name)!.subarray(61)
    expect([...body("large-snappy").subarray(0, 8)]).toEqual([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0])
    expect([...body("large-lz4").subarray(0, 6)]).toEqual([0x04, 0x22, 0x4d, 0x18, 0x60, 0x40])
    expect(body("large-zstd")[4]! >>> 6).toBe(0) // no content size: the wasm one-shot path cannot size it from the header
    // An uncompressed LZ4 block (size word with the high bit) for the noise.
    expect(body("incompressible-lz4")[10]! & 0x80).toBe(0x80)
  })

  it.each(CODEC_NAMES)("the Java client reads our %s batches (CRC and decompression its own)", (codec) => {
    for (const spec of specs.filter((s) => s.codec === codec)) {
      const read = run.read.get(spec.name)
      expect(read, spec.name).toBeDefined()
      if (read && "error" in read) throw new Error(`Java client refused our ${spec.name}: ${read.error}`)
      expect(read!.codec).toBe(codec)
      expect(asLines(read!.records)).toBe(sentLines(spec.records, spec.baseOffset))
    }
  })
})

// ---------------------------------------------------------------------------------------------
// kafkajs

describe("kafkajs 2.2 (bytes of its Produce requests)", () => {
  const inputs = { mixed: mixedRecords(false), large: largeRecords(), incompressible: incompressibleRecords() }
  const sends = CODEC_NAMES.flatMap((codec) => Object.entries(inputs).map(([variant, records]) => ({ codec, variant, records })))
  let captured: Uint8Array[]

  const asKafkajs = (r: JavaRecord): KafkajsMessage => {
    const headers: Record<string, Buffer[]> = {}
    for (const h of r.headers) (headers[h.key] ??= []).push(Buffer.from(h.value!))
    return { key: r.key && Buffer.from(r.key), value: r.value && Buffer.from(r.value), timestamp: r.timestamp, headers }
  }

  beforeAll(async () => {
    captured = await captureKafkajsBatches(sends.map((s) => ({ codec: s.codec, messages: s.records.map(asKafkajs) })))
  }, 60_000)

  it.each(CODEC_NAMES)("%s batches decode", (codec) => {
    sends.forEach((s, i) => {
      if (s.codec !== codec) return
      const header = checkClientBatch(captured[i]!, codec, s.records)
      expect(header.producerId).toBe(-1)
    })
  })

  it("sends snappy raw (no xerial header) and lz4 frames of 256 KiB blocks, which we read too", () => {
    const body = (variant: string, codec: JavaCodec) => captured[sends.findIndex((s) => s.codec === codec && s.variant === variant)]!.subarray(61)
    expect(body("large", "snappy")[0]).not.toBe(0x82)
    expect([...body("large", "lz4").subarray(0, 4)]).toEqual([0x04, 0x22, 0x4d, 0x18])
    expect(body("large", "lz4")[5]! >>> 4).toBe(5)
  })
})
