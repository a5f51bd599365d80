/**
 * One segment of a partition log: a file of record batches back to back, exactly as they will be
 * sent to fetchers, named after the first offset it may hold (Kafka's `00000000000000000042.log`),
 * with its sparse index (segment-index.ts) in memory and, once it stops taking appends, beside it
 * as `<base>.index`.
 *
 * The segment does bookkeeping only; when to roll, flush, or truncate is the store's decision.
 */
import * as path from "node:path"
import { HEADER_BYTES, LOG_OVERHEAD, crcMatches, lastOffset, readBatchHeader, RecordBatchError, type BatchHeader } from "../../../core/log/index.ts"
import type { AppendHandle, FileSystem, ReadHandle } from "../fs.ts"
import { SegmentIndex } from "./segment-index.ts"

export const LOG_SUFFIX = ".log"
export const INDEX_SUFFIX = ".index"
/** A cleaning's output before it replaces the segment (recovery deletes leftovers). */
export const CLEANED_SUFFIX = ".cleaned"
const NAME_RE = /^(\d{20})\.log$/

export const segmentFileName = (baseOffset: number): string => `${baseOffset.toString().padStart(20, "0")}${LOG_SUFFIX}`

/** The base offset a segment file name stands for, or undefined for other files. */
export function parseSegmentName(name: string): number | undefined {
  const m = NAME_RE.exec(name)
  return m === null ? undefined : Number(m[1])
}

/** What a scan found wrong, and where. */
export interface ScanProblem {
  readonly position: number
  /** The base offset of the bad batch, when its header could be read. */
  readonly offset?: number
  readonly reason: string
}

/**
 * Reads a file through a window (1 MiB by default), so scanning batch headers costs one read per
 * window rather than one per batch.
 */
export class WindowReader {
  private buf: Uint8Array = new Uint8Array(0)
  private start = 0

  constructor(
    private readonly reader: ReadHandle,
    private readonly windowBytes = 1 << 20,
  ) {}

  /** Bytes [position, position + length), or fewer if the file ends first. */
  get(position: number, length: number): Uint8Array {
    if (position < this.start || position + length > this.start + this.buf.length) {
      this.buf = this.reader.read(position, Math.max(length, this.windowBytes))
      this.start = position
    }
    const from = position - this.start
    return this.buf.subarray(from, Math.min(from + length, this.buf.length))
  }
}

/**
 * Walks the batches of a segment file from `from` to `end`, calling `onBatch` for each valid one
 * (its bytes are a view into the window: copy to keep). Stops at the first batch that is torn,
 * malformed, fails its CRC (when `verifyCrc`), or does not come after the previous one in
 * offsets; returns where the valid batches end and, if it stopped early, why.
 */
export function scanBatches(
  reader: ReadHandle,
  from: number,
  end: number,
  minOffset: number,
  verifyCrc: boolean,
  onBatch: (h: BatchHeader, position: number, bytes: Uint8Array) => void,
): { end: number; problem?: ScanProblem } {
  const win = new WindowReader(reader)
  let pos = from
  let next = minOffset
  while (pos < end) {
    const head = win.get(pos, LOG_OVERHEAD)
    if (head.length < LOG_OVERHEAD) return { end: pos, problem: { position: pos, reason: "torn batch header" } }
    const size = new DataView(head.buffer, head.byteOffset, head.byteLength).getInt32(8) + LOG_OVERHEAD
    if (size < HEADER_BYTES) return { end: pos, problem: { position: pos, reason: `batch length ${size - LOG_OVERHEAD}` } }
    if (pos + size > end) return { end: pos, problem: { position: pos, reason: `batch of ${size} bytes runs past the end (${end - pos} left)` } }
    const bytes = win.get(pos, size)
    let h: BatchHeader
    try {
      h = readBatchHeader(bytes)
    } catch (e) {
      if (!(e instanceof RecordBatchError)) throw e
      return { end: pos, problem: { position: pos, reason: e.message } }
    }
    if (h.baseOffset < next || h.lastOffsetDelta < 0) return { end: pos, problem: { position: pos, offset: h.baseOffset, reason: `batch at offset ${h.baseOffset} after offset ${next - 1}` } }
    if (verifyCrc && !crcMatches(bytes, h)) return { end: pos, problem: { position: pos, offset: h.baseOffset, reason: `CRC-32C mismatch in the batch at offset ${h.baseOffset}` } }
    onBatch(h, pos, bytes)
    next = lastOffset(h) + 1
    pos += size
  }
  return { end: pos }
}

export class Segment {
  /** Bytes in the file (as this process wrote or found them). */
  size = 0
  /** Bytes known durable (fsynced). */
  syncedSize = 0
  /** One past the last offset of the last batch; the base offset while empty. */
  nextOffset: number
  maxTimestamp = -1
  /** Base offset of the batch holding `maxTimestamp` (-1 while empty). */
  offsetOfMaxTimestamp = -1
  /** The first batch's largest timestamp, or the creation time: what `segment.ms` counts from. */
  rollClock: number
  index: SegmentIndex
  /** Bumped when the file is rewritten or truncated: slices read before then are stale. */
  generation = 0
  private appender: AppendHandle | undefined
  private reader: ReadHandle | undefined

  constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    readonly baseOffset: number,
    private readonly indexIntervalBytes: number,
    now: number,
  ) {
    this.nextOffset = baseOffset
    this.rollClock = now
    this.index = new SegmentIndex(baseOffset, indexIntervalBytes)
  }

  get logPath(): string {
    return path.join(this.dir, segmentFileName(this.baseOffset))
  }
  get indexPath(): string {
    return this.logPath.slice(0, -LOG_SUFFIX.length) + INDEX_SUFFIX
  }
  get isEmpty(): boolean {
    return this.size === 0
  }

  /** Bookkeeping for a batch at `position` (appended, or found by a scan). */
  track(h: BatchHeader, position: number): void {
    if (this.size === 0 || position === 0) this.rollClock = h.maxTimestamp >= 0 ? h.maxTimestamp : this.rollClock
    this.index.add(h.baseOffset, position, h.sizeBytes, h.maxTimestamp)
    if (h.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = h.maxTimestamp
      this.offsetOfMaxTimestamp = h.baseOffset
    }
    this.nextOffset = lastOffset(h) + 1
    this.size = position + h.sizeBytes
  }

  /** Appends validated batches (their headers in `headers`, in order) in one write. */
  append(bytes: Uint8Array, headers: readonly BatchHeader[]): void {
    this.appender ??= this.fs.openAppend(this.logPath)
    const start = this.size
    this.appender.write(bytes)
    let pos = start
    for (const h of headers) {
      this.track(h, pos)
      pos += h.sizeBytes
    }
  }

  /** fsync if anything is unsynced. */
  sync(): void {
    if (this.syncedSize === this.size) return
    if (this.appender !== undefined) this.appender.sync()
    else this.fs.fsync(this.logPath)
    this.syncedSize = this.size
  }

  read(position: number, length: number, into?: Uint8Array): Uint8Array {
    this.reader ??= this.fs.openRead(this.logPath)
    return this.reader.read(position, length, into)
  }

  /** Scans the whole file (bookkeeping and index rebuilt from it); see `scanBatches`. */
  rescan(verifyCrc: boolean, onBatch?: (h: BatchHeader, position: number, bytes: Uint8Array) => void): { end: number; problem?: ScanProblem } {
    this.reset()
    this.reader ??= this.fs.openRead(this.logPath)
    const r = scanBatches(this.reader, 0, this.reader.size(), this.baseOffset, verifyCrc, (h, pos, bytes) => {
      this.track(h, pos)
      onBatch?.(h, pos, bytes)
    })
    this.size = r.end
    return r
  }

  private reset(): void {
    this.size = 0
    this.nextOffset = this.baseOffset
    this.maxTimestamp = -1
    this.offsetOfMaxTimestamp = -1
    this.index = new SegmentIndex(this.baseOffset, this.indexIntervalBytes)
  }

  /** Loads `<base>.index` if it describes this file as it is; false if it must be rebuilt. */
  loadIndex(): boolean {
    if (!this.fs.exists(this.indexPath)) return false
    const fileSize = this.fs.size(this.logPath)
    const parsed = SegmentIndex.parse(this.fs.readFile(this.indexPath), this.baseOffset, this.indexIntervalBytes, fileSize)
    if (parsed === undefined) return false
    this.index = parsed.index
    this.size = fileSize
    this.nextOffset = parsed.summary.nextOffset
    this.maxTimestamp = parsed.summary.maxTimestamp
    this.offsetOfMaxTimestamp = parsed.summary.offsetOfMaxTimestamp
    return true
  }

  /** Writes `<base>.index` (not fsynced: a damaged or stale index is detected and rebuilt). */
  saveIndex(): void {
    const summary = { logBytes: this.size, nextOffset: this.nextOffset, maxTimestamp: this.maxTimestamp, offsetOfMaxTimestamp: this.offsetOfMaxTimestamp }
    this.fs.writeFile(this.indexPath, this.index.serialize(summary))
  }

  /** An appended segment's index file no longer describes it: remove it until the next save. */
  dropIndexFile(): void {
    if (this.fs.exists(this.indexPath)) this.fs.unlink(this.indexPath)
  }

  /**
   * The position of the first batch whose last offset is >= `offset`, and its header; undefined
   * when every batch here ends before `offset`.
   */
  locate(offset: number): { position: number; header: BatchHeader } | undefined {
    let found: { position: number; header: BatchHeader } | undefined
    this.walk(this.index.floorPosition(offset), (h, pos) => {
      if (lastOffset(h) < offset) return true
      found = { position: pos, header: h }
      return false
    })
    return found
  }

  /**
   * Visits batch headers from `position` while `visit` returns true (no CRC check). Reads headers
   * only, through a window of `windowBytes` (a lookup from an index entry scans at most
   * index.interval.bytes; a caller about to read a range passes its size).
   */
  walk(position: number, visit: (h: BatchHeader, position: number) => boolean, windowBytes = 16 * 1024): void {
    this.reader ??= this.fs.openRead(this.logPath)
    const win = new WindowReader(this.reader, windowBytes)
    for (let pos = position; pos < this.size; ) {
      const h = readBatchHeader(win.get(pos, HEADER_BYTES), 0, false)
      if (!visit(h, pos)) return
      pos += h.sizeBytes
    }
  }

  /** Cuts the file at `position` (a batch boundary) and makes that durable. */
  truncate(position: number): void {
    this.closeHandles()
    this.fs.truncate(this.logPath, position)
    this.fs.fsync(this.logPath)
    this.generation++
    this.rescan(false)
    this.syncedSize = this.size
    this.dropIndexFile()
  }

  /** Handles are reopened on demand: needed after the file was replaced or truncated. */
  closeHandles(): void {
    this.appender?.close()
    this.reader?.close()
    this.appender = undefined
    this.reader = undefined
  }

  deleteFiles(): void {
    this.closeHandles()
    this.fs.unlink(this.logPath)
    if (this.fs.exists(this.indexPath)) this.fs.unlink(this.indexPath)
  }
}
