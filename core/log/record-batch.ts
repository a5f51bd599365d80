/**
 * Kafka's record batch, magic 2: plain functions over byte slices. The broker keeps batches as
 * the bytes clients sent; it reads the 61-byte header, checks the CRC, and rewrites the base
 * offset and partition leader epoch in place (both sit before the CRC's range, so the CRC and any
 * compressed records stay as they are). Records are decoded only where the broker must look
 * inside (compaction, control records, tests).
 *
 *   offset  field                 type
 *        0  baseOffset            int64
 *        8  batchLength           int32   bytes after this field
 *       12  partitionLeaderEpoch  int32
 *       16  magic                 int8    2
 *       17  crc                   uint32  CRC-32C of bytes 21 .. end
 *       21  attributes            int16   bits 0-2 compression, 3 timestamp type, 4 transactional, 5 control
 *       23  lastOffsetDelta       int32
 *       27  baseTimestamp         int64
 *       35  maxTimestamp          int64
 *       43  producerId            int64
 *       51  producerEpoch         int16
 *       53  baseSequence          int32
 *       57  recordsCount          int32
 *       61  records (compressed as a whole when compression != 0)
 *
 *   record := length:varint attributes:int8 timestampDelta:varlong offsetDelta:varint
 *             keyLength:varint key valueLength:varint value headerCount:varint header*
 *   header := keyLength:varint key(utf8) valueLength:varint value      (length -1 = null)
 */
import { crc32c } from "./crc32c.ts"
import { RecordBatchError } from "./errors.ts"
import { readVarint, varintSize, writeVarint } from "./varint.ts"

export const HEADER_BYTES = 61
/** Bytes before `batchLength`'s count starts (baseOffset and the length itself). */
export const LOG_OVERHEAD = 12
const CRC_START = 21

export const Compression = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 } as const
export type CompressionId = (typeof Compression)[keyof typeof Compression]

/** A compression codec, supplied by the caller: the core does no compression itself. */
export interface Codec {
  compress(bytes: Uint8Array): Uint8Array
  decompress(bytes: Uint8Array): Uint8Array
}
export type Codecs = Partial<Record<CompressionId, Codec>>

export interface BatchHeader {
  readonly baseOffset: number
  /** Whole batch, header included: batchLength + 12. */
  readonly sizeBytes: number
  readonly partitionLeaderEpoch: number
  readonly crc: number
  readonly compression: CompressionId
  readonly logAppendTime: boolean
  readonly transactional: boolean
  readonly control: boolean
  readonly lastOffsetDelta: number
  readonly baseTimestamp: number
  readonly maxTimestamp: number
  readonly producerId: number
  readonly producerEpoch: number
  readonly baseSequence: number
  readonly recordsCount: number
}

export interface RecordHeader {
  readonly key: string
  readonly value: Uint8Array | null
}

export interface KafkaRecord {
  readonly offsetDelta: number
  readonly timestampDelta: number
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
  readonly headers: readonly RecordHeader[]
}

/** What `encodeBatch` builds a batch from (the fields a producer chooses). */
export interface BatchInput {
  readonly baseOffset?: number
  readonly partitionLeaderEpoch?: number
  readonly compression?: CompressionId
  readonly logAppendTime?: boolean
  readonly transactional?: boolean
  readonly control?: boolean
  readonly baseTimestamp: number
  readonly producerId?: number
  readonly producerEpoch?: number
  readonly baseSequence?: number
  /**
   * Defaults to the largest record offset delta. Larger when records were removed from the end
   * of a batch (compaction keeps a batch's last offset, which producer state depends on).
   */
  readonly lastOffsetDelta?: number
  /** Defaults to the largest record timestamp; a log-append-time batch keeps its own. */
  readonly maxTimestamp?: number
  readonly records: readonly KafkaRecord[]
}

// ---------------------------------------------------------------------------------------------
// Header

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength)

function int64(v: DataView, at: number, what: string): number {
  const x = v.getBigInt64(at)
  if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < BigInt(Number.MIN_SAFE_INTEGER)) throw new RecordBatchError("unsupported", `${what} ${x} is beyond 2^53`)
  return Number(x)
}

/**
 * Reads the header of the batch at `at`. Throws `RecordBatchError`: `truncated` when the bytes
 * end inside the batch (inside its header, with `wholeBatch` false: storage walking headers
 * reads only those), `corrupt` for a length or magic no valid batch has. Does not check the CRC.
 */
export function readBatchHeader(b: Uint8Array, at = 0, wholeBatch = true): BatchHeader {
  if (b.length - at < HEADER_BYTES) throw new RecordBatchError("truncated", `${b.length - at} bytes left, a batch header takes ${HEADER_BYTES}`)
  const v = view(b)
  const batchLength = v.getInt32(at + 8)
  if (batchLength < HEADER_BYTES - LOG_OVERHEAD) throw new RecordBatchError("corrupt", `batch length ${batchLength} is shorter than a header`)
  const magic = v.getInt8(at + 16)
  if (magic !== 2) throw new RecordBatchError("unsupported", `magic ${magic}: only record batch v2 is supported`)
  const sizeBytes = batchLength + LOG_OVERHEAD
  if (wholeBatch && b.length - at < sizeBytes) throw new RecordBatchError("truncated", `batch of ${sizeBytes} bytes, ${b.length - at} left`)
  const attributes = v.getInt16(at + 21)
  const compression = attributes & 7
  if (compression > 4) throw new RecordBatchError("corrupt", `compression codec ${compression}`)
  const recordsCount = v.getInt32(at + 57)
  if (recordsCount < 0) throw new RecordBatchError("corrupt", `records count ${recordsCount}`)
  return {
    baseOffset: int64(v, at, "base offset"),
    sizeBytes,
    partitionLeaderEpoch: v.getInt32(at + 12),
    crc: v.getUint32(at + 17),
    compression: compression as CompressionId,
    logAppendTime: (attributes & 8) !== 0,
    transactional: (attributes & 16) !== 0,
    control: (attributes & 32) !== 0,
    lastOffsetDelta: v.getInt32(at + 23),
    baseTimestamp: int64(v, at + 27, "base timestamp"),
    maxTimestamp: int64(v, at + 35, "max timestamp"),
    producerId: int64(v, at + 43, "producer id"),
    producerEpoch: v.getInt16(at + 51),
    baseSequence: v.getInt32(at + 53),
    recordsCount,
  }
}

/** Whether the stored CRC matches bytes 21..end of the batch at `at` (whose header `h` is). */
export function crcMatches(b: Uint8Array, h: BatchHeader, at = 0): boolean {
  return crc32c(b, at + CRC_START, at + h.sizeBytes) === h.crc
}

/** The last offset in the batch. */
export const lastOffset = (h: BatchHeader): number => h.baseOffset + h.lastOffsetDelta

/** In place: the broker assigns offsets on append. The CRC does not cover this field. */
export function setBaseOffset(b: Uint8Array, baseOffset: number, at = 0): void {
  if (!Number.isSafeInteger(baseOffset) || baseOffset < 0) throw new RangeError(`base offset ${baseOffset}`)
  view(b).setBigInt64(at, BigInt(baseOffset))
}

/** In place: the leader stamps its epoch on append. The CRC does not cover this field. */
export function setPartitionLeaderEpoch(b: Uint8Array, epoch: number, at = 0): void {
  view(b).setInt32(at + 12, epoch)
}

// ---------------------------------------------------------------------------------------------
// Records

function recordBodySize(r: KafkaRecord): number {
  let n = 1 + varintSize(r.timestampDelta) + varintSize(r.offsetDelta)
  n += r.key === null ? varintSize(-1) : varintSize(r.key.length) + r.key.length
  n += r.value === null ? varintSize(-1) : varintSize(r.value.length) + r.value.length
  n += varintSize(r.headers.length)
  for (const h of r.headers) {
    const k = utf8.encode(h.key)
    n += varintSize(k.length) + k.length
    n += h.value === null ? varintSize(-1) : varintSize(h.value.length) + h.value.length
  }
  return n
}

const utf8 = new TextEncoder()
const utf8Strict = new TextDecoder("utf-8", { fatal: true })

function writeBytes(b: Uint8Array, at: number, v: Uint8Array | null): number {
  if (v === null) return writeVarint(b, at, -1)
  at = writeVarint(b, at, v.length)
  b.set(v, at)
  return at + v.length
}

function encodeRecords(records: readonly KafkaRecord[]): Uint8Array {
  const sizes = records.map(recordBodySize)
  const total = sizes.reduce((s, n) => s + varintSize(n) + n, 0)
  const out = new Uint8Array(total)
  let at = 0
  records.forEach((r, i) => {
    at = writeVarint(out, at, sizes[i]!)
    const start = at
    out[at++] = 0 // record attributes: unused
    at = writeVarint(out, at, r.timestampDelta)
    at = writeVarint(out, at, r.offsetDelta)
    at = writeBytes(out, at, r.key)
    at = writeBytes(out, at, r.value)
    at = writeVarint(out, at, r.headers.length)
    for (const h of r.headers) {
      at = writeBytes(out, at, utf8.encode(h.key))
      at = writeBytes(out, at, h.value)
    }
    if (at - start !== sizes[i]) throw new Error(`record encoder bug: ${at - start} bytes for ${sizes[i]}`)
  })
  return out
}

function readBytes(b: Uint8Array, at: number, end: number, what: string): { value: Uint8Array | null; next: number } {
  const len = readVarint(b, at, end)
  if (len.value === -1) return { value: null, next: len.next }
  if (len.value < 0 || len.next + len.value > end) throw new RecordBatchError("corrupt", `${what} length ${len.value} runs past the record`)
  return { value: b.slice(len.next, len.next + len.value), next: len.next + len.value }
}

function decodeRecordsFrom(b: Uint8Array, count: number): KafkaRecord[] {
  const out: KafkaRecord[] = []
  let at = 0
  for (let i = 0; i < count; i++) {
    const len = readVarint(b, at, b.length)
    const end = len.next + len.value
    if (len.value < 1 || end > b.length) throw new RecordBatchError("corrupt", `record ${i} of length ${len.value} runs past the batch`)
    at = len.next + 1 // record attributes
    const ts = readVarint(b, at, end)
    const od = readVarint(b, ts.next, end)
    const key = readBytes(b, od.next, end, "key")
    const value = readBytes(b, key.next, end, "value")
    const hc = readVarint(b, value.next, end)
    if (hc.value < 0 || hc.value > end - hc.next) throw new RecordBatchError("corrupt", `record ${i}: ${hc.value} headers`)
    at = hc.next
    const headers: RecordHeader[] = []
    for (let h = 0; h < hc.value; h++) {
      const k = readBytes(b, at, end, "header key")
      if (k.value === null) throw new RecordBatchError("corrupt", `record ${i}: null header key`)
      const hv = readBytes(b, k.next, end, "header value")
      let key: string
      try {
        key = utf8Strict.decode(k.value)
      } catch {
        throw new RecordBatchError("corrupt", `record ${i}: header key is not UTF-8`)
      }
      headers.push({ key, value: hv.value })
      at = hv.next
    }
    if (at !== end) throw new RecordBatchError("corrupt", `record ${i}: ${end - at} bytes left over`)
    out.push({ offsetDelta: od.value, timestampDelta: ts.value, key: key.value, value: value.value, headers })
  }
  if (at !== b.length) throw new RecordBatchError("corrupt", `${b.length - at} bytes after the last record`)
  return out
}

/** Decodes (decompressing with `codecs`) the records of the batch at `at`. Checks the CRC first. */
export function decodeRecords(b: Uint8Array, codecs: Codecs = {}, at = 0): { header: BatchHeader; records: KafkaRecord[] } {
  const header = readBatchHeader(b, at)
  if (!crcMatches(b, header, at)) throw new RecordBatchError("crc", `CRC-32C mismatch in the batch at offset ${header.baseOffset}`)
  let body = b.subarray(at + HEADER_BYTES, at + header.sizeBytes)
  if (header.compression !== Compression.none) {
    const codec = codecs[header.compression]
    if (codec === undefined) throw new RecordBatchError("unsupported", `no codec for compression ${header.compression}`)
    try {
      body = codec.decompress(body)
    } catch (e) {
      throw new RecordBatchError("corrupt", `records do not decompress: ${(e as Error).message}`)
    }
  }
  // A plain Uint8Array view: a Buffer's slice() is a view, and keys and values must be copies.
  return { header, records: decodeRecordsFrom(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), header.recordsCount) }
}

/** Builds a batch: offsets and timestamps of the records are relative to its base values. */
export function encodeBatch(input: BatchInput, codecs: Codecs = {}): Uint8Array {
  const compression = input.compression ?? Compression.none
  let body = encodeRecords(input.records)
  if (compression !== Compression.none) {
    const codec = codecs[compression]
    if (codec === undefined) throw new RangeError(`no codec for compression ${compression}`)
    body = codec.compress(body)
  }
  const out = new Uint8Array(HEADER_BYTES + body.length)
  const v = view(out)
  const largestDelta = input.records.reduce((m, r) => Math.max(m, r.offsetDelta), 0)
  const lastOffsetDelta = input.lastOffsetDelta ?? largestDelta
  if (lastOffsetDelta < largestDelta) throw new RangeError(`last offset delta ${lastOffsetDelta} below a record's ${largestDelta}`)
  const maxTimestamp =
    input.maxTimestamp ??
    input.records.reduce((m, r) => Math.max(m, input.baseTimestamp + r.timestampDelta), input.records.length === 0 ? -1 : input.baseTimestamp)
  v.setBigInt64(0, BigInt(input.baseOffset ?? 0))
  v.setInt32(8, out.length - LOG_OVERHEAD)
  v.setInt32(12, input.partitionLeaderEpoch ?? -1)
  v.setInt8(16, 2)
  const attributes = compression | (input.logAppendTime ? 8 : 0) | (input.transactional ? 16 : 0) | (input.control ? 32 : 0)
  v.setInt16(21, attributes)
  v.setInt32(23, lastOffsetDelta)
  v.setBigInt64(27, BigInt(input.baseTimestamp))
  v.setBigInt64(35, BigInt(maxTimestamp))
  v.setBigInt64(43, BigInt(input.producerId ?? -1))
  v.setInt16(51, input.producerEpoch ?? -1)
  v.setInt32(53, input.baseSequence ?? -1)
  v.setInt32(57, input.records.length)
  out.set(body, HEADER_BYTES)
  v.setUint32(17, crc32c(out, CRC_START, out.length))
  return out
}

// ---------------------------------------------------------------------------------------------
// Control records (transaction markers)

export type ControlType = "abort" | "commit"

/** The key and value of a transaction marker's single record. */
export function controlRecord(type: ControlType, coordinatorEpoch: number): { key: Uint8Array; value: Uint8Array } {
  const key = new Uint8Array(4)
  view(key).setInt16(2, type === "commit" ? 1 : 0)
  const value = new Uint8Array(6)
  view(value).setInt32(2, coordinatorEpoch)
  return { key, value }
}

export function readControlRecord(r: KafkaRecord): { type: ControlType; coordinatorEpoch: number } {
  if (r.key === null || r.key.length < 4) throw new RecordBatchError("corrupt", "control record without a 4-byte key")
  const t = view(r.key).getInt16(2)
  if (t !== 0 && t !== 1) throw new RecordBatchError("unsupported", `control record type ${t}`)
  if (r.value === null || r.value.length < 6) throw new RecordBatchError("corrupt", "transaction marker without a 6-byte value")
  return { type: t === 1 ? "commit" : "abort", coordinatorEpoch: view(r.value).getInt32(2) }
}
