/**
 * A segment's sparse indexes, kept in memory and saved beside the segment when it stops taking
 * appends (rolled, cleaned, or the store closed):
 *
 * - offset index: (batch base offset, file position) for the first batch after every
 *   `index.interval.bytes` of log, so a read by offset scans at most that many bytes of headers;
 * - time index: (largest timestamp so far, batch base offset), added at the same points when the
 *   largest timestamp grew, so a read by timestamp starts near the first batch that can match.
 *
 * The file describes the segment it was written for (its byte length, next offset, largest
 * timestamp) and is checksummed: an index that does not match its segment (a crash between a
 * cleaning's log rename and its index write, a torn write, a segment appended since) is detected
 * and rebuilt from the log instead of trusted. So index files are never fsynced.
 *
 *   file   := header entries
 *   header := "SQIX" version:u8(=1) 0:u24 logBytes:u64 nextOffset:u64 maxTimestamp:i64
 *             offsetOfMaxTimestamp:i64 offsetEntries:u32 timeEntries:u32 crc32c(all else):u32
 *   entries := (relativeOffset:u32 position:u32){offsetEntries} (timestamp:i64 relativeOffset:u32){timeEntries}
 */
import { crc32c } from "../../../core/log/index.ts"

const MAGIC = 0x53514958 // "SQIX"
const VERSION = 1
export const INDEX_HEADER_BYTES = 52

/** What an index file says about its segment, beside the entries. */
export interface SegmentSummary {
  readonly logBytes: number
  readonly nextOffset: number
  readonly maxTimestamp: number
  readonly offsetOfMaxTimestamp: number
}

export class SegmentIndex {
  /** Offset index: base offsets relative to the segment's, and file positions. */
  private readonly offsets: number[] = []
  private readonly positions: number[] = []
  /** Time index: largest timestamp up to and including the batch at `timeOffsets[i]`. */
  private readonly timestamps: number[] = []
  private readonly timeOffsets: number[] = []
  private bytesSinceEntry = 0
  private maxTimestampSoFar = -1

  constructor(
    readonly baseOffset: number,
    private readonly intervalBytes: number,
  ) {}

  get entries(): number {
    return this.offsets.length
  }

  /** Records a batch appended (or found by a scan) at `position`, in file order. */
  add(baseOffset: number, position: number, sizeBytes: number, maxTimestamp: number): void {
    // The first batch always gets an entry, so every lookup has a floor.
    if (this.offsets.length === 0 || this.bytesSinceEntry >= this.intervalBytes) {
      this.offsets.push(baseOffset - this.baseOffset)
      this.positions.push(position)
      if (maxTimestamp > this.maxTimestampSoFar || this.timestamps.length === 0) {
        this.timestamps.push(Math.max(maxTimestamp, this.maxTimestampSoFar))
        this.timeOffsets.push(baseOffset - this.baseOffset)
      }
      this.bytesSinceEntry = 0
    }
    this.bytesSinceEntry += sizeBytes
    this.maxTimestampSoFar = Math.max(this.maxTimestampSoFar, maxTimestamp)
  }

  /** The position of the last indexed batch starting at or before `offset` (0 if none). */
  floorPosition(offset: number): number {
    const rel = offset - this.baseOffset
    let lo = 0
    let hi = this.offsets.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.offsets[mid]! <= rel) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return found < 0 ? 0 : this.positions[found]!
  }

  /**
   * Where to start scanning for the first batch whose largest timestamp is >= `timestamp`: the
   * base offset of the last indexed batch up to which every timestamp is below it (every batch
   * before that one can be skipped), or the segment's base offset.
   */
  floorOffsetForTimestamp(timestamp: number): number {
    let lo = 0
    let hi = this.timestamps.length - 1
    let found = -1
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1
      if (this.timestamps[mid]! < timestamp) {
        found = mid
        lo = mid + 1
      } else hi = mid - 1
    }
    return this.baseOffset + (found < 0 ? 0 : this.timeOffsets[found]!)
  }

  serialize(summary: SegmentSummary): Uint8Array {
    const n = this.offsets.length
    const t = this.timestamps.length
    const out = new Uint8Array(INDEX_HEADER_BYTES + n * 8 + t * 12)
    const v = new DataView(out.buffer)
    v.setUint32(0, MAGIC)
    v.setUint8(4, VERSION)
    v.setBigUint64(8, BigInt(summary.logBytes))
    v.setBigUint64(16, BigInt(summary.nextOffset))
    v.setBigInt64(24, BigInt(summary.maxTimestamp))
    v.setBigInt64(32, BigInt(summary.offsetOfMaxTimestamp))
    v.setUint32(40, n)
    v.setUint32(44, t)
    let at = INDEX_HEADER_BYTES
    for (let i = 0; i < n; i++, at += 8) {
      v.setUint32(at, this.offsets[i]!)
      v.setUint32(at + 4, this.positions[i]!)
    }
    for (let i = 0; i < t; i++, at += 12) {
      v.setBigInt64(at, BigInt(this.timestamps[i]!))
      v.setUint32(at + 8, this.timeOffsets[i]!)
    }
    v.setUint32(48, indexCrc(out))
    return out
  }

  /**
   * Reads an index file written for a segment of `logBytes` bytes. Returns undefined when it is
   * damaged or was written for other content: the caller rebuilds it from the log.
   */
  static parse(b: Uint8Array, baseOffset: number, intervalBytes: number, logBytes: number): { index: SegmentIndex; summary: SegmentSummary } | undefined {
    if (b.length < INDEX_HEADER_BYTES) return undefined
    const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
    if (v.getUint32(0) !== MAGIC || v.getUint8(4) !== VERSION) return undefined
    const n = v.getUint32(40)
    const t = v.getUint32(44)
    if (b.length !== INDEX_HEADER_BYTES + n * 8 + t * 12 || v.getUint32(48) !== indexCrc(b)) return undefined
    const summary: SegmentSummary = {
      logBytes: Number(v.getBigUint64(8)),
      nextOffset: Number(v.getBigUint64(16)),
      maxTimestamp: Number(v.getBigInt64(24)),
      offsetOfMaxTimestamp: Number(v.getBigInt64(32)),
    }
    if (summary.logBytes !== logBytes || summary.nextOffset < baseOffset) return undefined
    const index = new SegmentIndex(baseOffset, intervalBytes)
    let at = INDEX_HEADER_BYTES
    let prev = -1
    for (let i = 0; i < n; i++, at += 8) {
      const rel = v.getUint32(at)
      const pos = v.getUint32(at + 4)
      if (pos >= logBytes || pos <= prev) return undefined
      prev = pos
      index.offsets.push(rel)
      index.positions.push(pos)
    }
    for (let i = 0; i < t; i++, at += 12) {
      index.timestamps.push(Number(v.getBigInt64(at)))
      index.timeOffsets.push(v.getUint32(at + 8))
    }
    index.maxTimestampSoFar = summary.maxTimestamp
    index.bytesSinceEntry = intervalBytes
    return { index, summary }
  }
}

function indexCrc(b: Uint8Array): number {
  const withoutCrc = new Uint8Array(b.length - 4)
  withoutCrc.set(b.subarray(0, 48))
  withoutCrc.set(b.subarray(INDEX_HEADER_BYTES), 48)
  return crc32c(withoutCrc)
}
