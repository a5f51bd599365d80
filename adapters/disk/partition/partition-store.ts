/**
 * `PartitionStore`: one Kafka partition's log on disk. Record batches are stored exactly as the
 * producer (or leader) sent them, with only the base offset and leader epoch rewritten in place,
 * so a fetch returns file byte ranges that go to the socket as they are.
 *
 * Durability rules, the ones the crash test holds it to:
 * - `flush()` fsyncs every unsynced byte (and new segment names); what it covered survives any
 *   crash. The flush policy (`flush.messages`, `flush.ms`) decides when appends call it.
 * - A segment is fsynced before the next one is created (roll), so only the last segment can
 *   lose a tail in a crash, and recovery truncates that tail at the first torn or corrupt batch:
 *   no batch after a hole is ever exposed.
 * - The recovery point (checkpointed) is an offset below which everything was fsynced. Damage
 *   below it, or in any segment but the last, is disk corruption: `open` throws `CorruptLogError`
 *   rather than silently dropping acknowledged records.
 * - Checkpoints are replaced atomically; the log start offset is checkpointed before the
 *   segments below it are deleted, so deleted records never come back.
 *
 * Layout of a partition directory:
 *   00000000000000000000.log    batches back to back (Kafka's naming: the segment's base offset)
 *   00000000000000000000.index  sparse offset + time index, written when the segment stops
 *                               taking appends; checked against the log, rebuilt if stale
 *   partition.checkpoint        recovery point, high watermark, log start offset
 *   leader-epoch-checkpoint     the leader-epoch cache, Kafka's format
 *
 * Synchronous, single-threaded: the caller (the broker's event loop) serializes calls. Time is
 * passed in (`now`), never read.
 */
import * as path from "node:path"
import {
  HEADER_BYTES,
  LOG_OVERHEAD,
  RecordBatchError,
  assignEpoch,
  crcMatches,
  decodeRecords,
  endOffsetFor,
  lastOffset,
  readBatchHeader,
  setBaseOffset,
  setPartitionLeaderEpoch,
  truncateEpochsFromEnd,
  truncateEpochsFromStart,
  type BatchHeader,
  type Codecs,
  type EpochEnd,
  type EpochEntry,
} from "../../../core/log/index.ts"
import { ensureDir, type FileSystem } from "../fs.ts"
import { readEpochCheckpoint, readOffsetsCheckpoint, writeEpochCheckpoint, writeOffsetsCheckpoint } from "./checkpoints.ts"
import { compactSegments, type CompactionStats } from "./cleaner.ts"
import { defaultLogConfig, deletes, compacts, type LogConfig } from "./config.ts"
import { CorruptLogError, MessageTooLargeError, OffsetOutOfRangeError } from "./errors.ts"
import { CLEANED_SUFFIX, INDEX_SUFFIX, Segment, parseSegmentName } from "./segment.ts"

export interface OpenOptions {
  readonly config?: LogConfig
  /** Compression codecs: needed to look inside batches (timestamp lookups, compaction). */
  readonly codecs?: Codecs
  /** The time now (ms), for segment rolling and retention. */
  readonly now: number
  /** Check the CRC of every batch on open, not only those after the recovery point. */
  readonly verifyAll?: boolean
  /** How often `tick` checkpoints the high watermark and recovery point (Kafka: 5 s). */
  readonly checkpointIntervalMs?: number
}

/** What `open` found and did. */
export interface RecoveryReport {
  readonly segments: number
  /** Segments scanned with CRC checks (from the recovery point on, or all with `verifyAll`). */
  readonly scanned: number
  /** Segments whose index was missing or stale and was rebuilt. */
  readonly indexesRebuilt: number
  /** Bytes cut from the last segment's tail, and why. */
  readonly truncatedBytes: number
  readonly truncatedBecause?: string
  /** Leftover files removed (cleaning outputs, temporaries, segments below the log start). */
  readonly removed: readonly string[]
}

export interface AppendResult {
  readonly baseOffset: number
  readonly lastOffset: number
  readonly batches: number
  readonly records: number
}

/** A fetch's answer: whole batches, as a byte range of one segment file. */
export interface LogSlice {
  readonly file: string
  readonly position: number
  readonly length: number
  /** Base offset of the first batch (may be below the offset asked for) and one past the last. */
  readonly firstOffset: number
  readonly nextOffset: number
  /** Checked by `readSlice`: the segment must not have been rewritten since. */
  readonly segment: Segment
  readonly generation: number
  /** The range's bytes, read with it. */
  readonly bytes: Uint8Array
}

export interface ReadOptions {
  /** Stop before a batch that would take the slice past this many bytes... */
  readonly maxBytes: number
  /** ...unless it is the first (Kafka's rule, so a large batch cannot stall a consumer). */
  readonly minOneBatch?: boolean
  /** Exclusive bound on batch base offsets: the high watermark for consumers. */
  readonly maxOffset?: number
  /**
   * Read into this buffer when it is large enough (the slice's bytes are then a view of it):
   * a fetch path that reuses its buffer once the bytes are sent avoids an allocation per read.
   */
  readonly into?: Uint8Array
}

export class PartitionStore {
  private segments: Segment[]
  private epochs: readonly EpochEntry[]
  private unflushedRecords = 0
  private firstUnflushedAt: number | undefined
  private lastCheckpointAt: number
  private readonly checkpointIntervalMs: number

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    private config: LogConfig,
    private readonly codecs: Codecs,
    segments: Segment[],
    epochs: readonly EpochEntry[],
    private _logStartOffset: number,
    private _highWatermark: number,
    private _recoveryPoint: number,
    now: number,
    checkpointIntervalMs: number,
  ) {
    this.segments = segments
    this.epochs = epochs
    this.lastCheckpointAt = now
    this.checkpointIntervalMs = checkpointIntervalMs
  }

  get logStartOffset(): number {
    return this._logStartOffset
  }
  get logEndOffset(): number {
    return this.active.nextOffset
  }
  get highWatermark(): number {
    return this._highWatermark
  }
  /** Every offset below it is on disk and fsynced. */
  get recoveryPoint(): number {
    return this._recoveryPoint
  }
  get epochCache(): readonly EpochEntry[] {
    return this.epochs
  }
  get latestEpoch(): number {
    return this.epochs[this.epochs.length - 1]?.epoch ?? -1
  }
  get sizeBytes(): number {
    return this.segments.reduce((s, seg) => s + seg.size, 0)
  }
  get segmentCount(): number {
    return this.segments.length
  }
  get logConfig(): LogConfig {
    return this.config
  }
  private get active(): Segment {
    return this.segments[this.segments.length - 1]!
  }

  // -------------------------------------------------------------------------------------------
  // Open and recover

  static open(fs: FileSystem, dir: string, options: OpenOptions): { store: PartitionStore; recovery: RecoveryReport } {
    const config = options.config ?? defaultLogConfig
    const codecs = options.codecs ?? {}
    const now = options.now
    ensureDir(fs, dir)
    const removed: string[] = []
    const remove = (name: string): void => {
      fs.unlink(path.join(dir, name))
      removed.push(name)
    }

    const names = fs.list(dir)
    for (const n of names) if (n.endsWith(".tmp") || n.endsWith(CLEANED_SUFFIX)) remove(n)
    const bases = names.flatMap((n) => parseSegmentName(n) ?? []).sort((a, b) => a - b)
    const baseSet = new Set(bases)
    for (const n of names) {
      if (!n.endsWith(INDEX_SUFFIX)) continue
      const base = parseSegmentName(n.slice(0, -INDEX_SUFFIX.length) + ".log")
      if (base === undefined || !baseSet.has(base)) remove(n) // an index without its segment
    }

    const ckpt = readOffsetsCheckpoint(fs, dir)
    let epochs: readonly EpochEntry[] = readEpochCheckpoint(fs, dir)
    let logStart = Math.max(ckpt?.logStartOffset ?? 0, bases[0] ?? 0)
    const recoveryPoint = ckpt?.recoveryPoint ?? 0
    // The epoch in force at the log start: when no batch holds the log start (delete-records
    // emptied the log, or it starts in a compacted gap) none re-derives it, and a follower may
    // still ask for it.
    const inForceAtStart = epochs.filter((e) => e.startOffset <= logStart).pop()

    // Segments wholly below the log start were being deleted when the process stopped.
    while (bases.length > 1 && bases[1]! <= logStart) {
      const base = bases.shift()!
      const seg = new Segment(fs, dir, base, config.indexIntervalBytes, now)
      seg.deleteFiles()
      removed.push(path.basename(seg.logPath))
    }

    const segments = bases.map((b) => new Segment(fs, dir, b, config.indexIntervalBytes, now))
    if (segments.length === 0) {
      const seg = new Segment(fs, dir, logStart, config.indexIntervalBytes, now)
      fs.openAppend(seg.logPath).close()
      fs.fsyncDir(dir)
      segments.push(seg)
    }

    // Scan from the segment holding the recovery point (the last one at least), CRC-checking
    // every batch; segments before it load their index (or rebuild it from the log).
    let scanFrom = segments.length - 1
    while (scanFrom > 0 && segments[scanFrom]!.baseOffset > recoveryPoint) scanFrom--
    if (options.verifyAll) scanFrom = 0
    // After a clean close the last segment has an index too, and the recovery point covers it:
    // nothing needs scanning.
    const tail = segments[segments.length - 1]!
    if (scanFrom === segments.length - 1 && !options.verifyAll && tail.loadIndex() && tail.nextOffset <= recoveryPoint) scanFrom = segments.length
    let indexesRebuilt = 0
    let truncatedBytes = 0
    let truncatedBecause: string | undefined
    // The scanned batches rebuild the epoch cache from their start (the checkpoint, written
    // before any batch of a new epoch, covers the rest).
    if (scanFrom < segments.length) epochs = truncateEpochsFromEnd(epochs, segments[scanFrom]!.baseOffset)
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i]!
      const last = i === segments.length - 1
      const prev = segments[i - 1]
      if (prev !== undefined && seg.baseOffset !== prev.nextOffset) {
        if (seg.baseOffset < prev.nextOffset || prev.nextOffset < recoveryPoint)
          throw new CorruptLogError(`${seg.logPath}: segment starts at ${seg.baseOffset}, the previous one ends at ${prev.nextOffset}; recovery point ${recoveryPoint}`)
        // A hole: the previous segment lost its tail (or a truncation's unlinks were lost).
        // Nothing after a hole is exposed: the segments from here on go.
        truncatedBecause = `segment ${seg.baseOffset} after a hole (the previous segment ends at ${prev.nextOffset})`
        for (const later of segments.splice(i)) {
          truncatedBytes += fs.size(later.logPath)
          later.deleteFiles()
        }
        break
      }
      if (i < scanFrom) {
        if (seg === tail || seg.loadIndex()) continue
        indexesRebuilt++
      }
      const fileSize = fs.size(seg.logPath)
      // A stale index means reading the whole segment anyway: check its CRCs on the way.
      const scan = seg.rescan(true, (h) => {
        // Batches wholly below the log start say nothing: the epoch in force there is the
        // checkpoint's (moved up to the log start when the start advanced).
        if (i >= scanFrom && h.partitionLeaderEpoch >= 0 && lastOffset(h) >= logStart) {
          if (h.partitionLeaderEpoch < (epochs[epochs.length - 1]?.epoch ?? -1))
            throw new CorruptLogError(`${seg.logPath}: batch at offset ${h.baseOffset} has leader epoch ${h.partitionLeaderEpoch}, after epoch ${epochs[epochs.length - 1]!.epoch}`)
          epochs = assignEpoch(epochs, h.partitionLeaderEpoch, h.baseOffset)
        }
      })
      if (scan.problem === undefined) {
        if (i < scanFrom || !last) seg.saveIndex()
        continue
      }
      const offset = scan.problem.offset ?? seg.nextOffset
      // A torn tail is what a crash leaves after the last fsync: only in the last segment,
      // only at or after the recovery point. Anything else was durable and is now damaged.
      if (!last || offset < recoveryPoint)
        throw new CorruptLogError(`${seg.logPath} at byte ${scan.problem.position} (offset ${offset}): ${scan.problem.reason}; recovery point ${recoveryPoint}`)
      truncatedBytes = fileSize - scan.end
      truncatedBecause = scan.problem.reason
      seg.truncate(scan.end)
    }

    const active = segments[segments.length - 1]!
    active.dropIndexFile()
    // What recovery found may sit only in the page cache (the process died, not the machine).
    active.syncedSize = 0
    active.sync()
    const logEnd = active.nextOffset
    if (logStart > logEnd) {
      // The log start was checkpointed past what survived (DeleteRecords up to an unflushed high
      // watermark): start over there, as Kafka's truncateFullyAndStartAt does.
      for (const seg of segments) seg.deleteFiles()
      segments.length = 0
      const seg = new Segment(fs, dir, logStart, config.indexIntervalBytes, now)
      fs.openAppend(seg.logPath).close()
      segments.push(seg)
      epochs = []
    }
    fs.fsyncDir(dir)
    const end = segments[segments.length - 1]!.nextOffset
    logStart = Math.min(logStart, end)
    epochs = truncateEpochsFromStart(truncateEpochsFromEnd(epochs, end), logStart)
    const first = epochs[0]
    if (inForceAtStart !== undefined && (first === undefined || first.startOffset > logStart)) {
      if (first !== undefined && first.epoch === inForceAtStart.epoch) epochs = [{ epoch: first.epoch, startOffset: logStart }, ...epochs.slice(1)]
      else if (first === undefined || inForceAtStart.epoch < first.epoch) epochs = [{ epoch: inForceAtStart.epoch, startOffset: logStart }, ...epochs]
    }
    const hw = Math.min(Math.max(ckpt?.highWatermark ?? 0, logStart), end)
    const store = new PartitionStore(fs, dir, config, codecs, segments, epochs, logStart, hw, end, now, options.checkpointIntervalMs ?? 5000)
    store.assertInvariants()
    writeEpochCheckpoint(fs, dir, epochs)
    store.checkpoint(now)
    const recovery: RecoveryReport = {
      segments: segments.length,
      scanned: segments.length - scanFrom,
      indexesRebuilt,
      truncatedBytes,
      ...(truncatedBecause === undefined ? {} : { truncatedBecause }),
      removed,
    }
    return { store, recovery }
  }

  // -------------------------------------------------------------------------------------------
  // Append

  /**
   * Validates the batches in `bytes` (one or more, back to back: a produce request's records)
   * and returns their headers. Nothing is written if any batch is bad.
   */
  private validate(bytes: Uint8Array): BatchHeader[] {
    const headers: BatchHeader[] = []
    for (let at = 0; at < bytes.length; ) {
      if (bytes.length - at < LOG_OVERHEAD) throw new RecordBatchError("truncated", `${bytes.length - at} stray bytes after the last batch`)
      const h = readBatchHeader(bytes, at)
      if (h.sizeBytes > this.config.maxMessageBytes)
        throw new MessageTooLargeError(`record batch of ${h.sizeBytes} bytes exceeds max.message.bytes (${this.config.maxMessageBytes})`)
      if (h.lastOffsetDelta < 0 || h.lastOffsetDelta < h.recordsCount - 1) throw new RecordBatchError("corrupt", `last offset delta ${h.lastOffsetDelta} for ${h.recordsCount} records`)
      if (!crcMatches(bytes, h, at)) throw new RecordBatchError("crc", `CRC-32C mismatch in batch ${headers.length}`)
      headers.push(h)
      at += h.sizeBytes
    }
    if (headers.length === 0) throw new RecordBatchError("truncated", "no record batch")
    if (bytes.length > this.config.segmentBytes) throw new MessageTooLargeError(`append of ${bytes.length} bytes exceeds segment.bytes (${this.config.segmentBytes})`)
    return headers
  }

  /**
   * The leader's append: assigns offsets from the log end and stamps `leaderEpoch` on every
   * batch, in place in `bytes` (both fields sit outside the CRC). Returns the offsets assigned.
   */
  appendAsLeader(bytes: Uint8Array, leaderEpoch: number, now: number): AppendResult {
    if (leaderEpoch < this.latestEpoch) throw new RangeError(`leader epoch ${leaderEpoch} is older than the log's ${this.latestEpoch}`)
    const validated = this.validate(bytes)
    const headers: BatchHeader[] = []
    let offset = this.logEndOffset
    let at = 0
    for (const h of validated) {
      setBaseOffset(bytes, offset, at)
      setPartitionLeaderEpoch(bytes, leaderEpoch, at)
      headers.push({ ...h, baseOffset: offset, partitionLeaderEpoch: leaderEpoch })
      offset += h.lastOffsetDelta + 1
      at += h.sizeBytes
    }
    return this.write(bytes, headers, now)
  }

  /**
   * A follower's append of what its leader sent: offsets and epochs as they are. Batches must
   * come after the log end (gaps are fine: the leader's log may be compacted) and their epochs
   * must not go back.
   */
  appendAsFollower(bytes: Uint8Array, now: number): AppendResult {
    const headers = this.validate(bytes)
    let next = this.logEndOffset
    let epoch = this.latestEpoch
    for (const h of headers) {
      if (h.baseOffset < next) throw new RecordBatchError("corrupt", `batch at offset ${h.baseOffset}, the log ends at ${next}`)
      if (h.partitionLeaderEpoch < epoch) throw new RecordBatchError("corrupt", `batch of leader epoch ${h.partitionLeaderEpoch} after epoch ${epoch}`)
      next = lastOffset(h) + 1
      epoch = h.partitionLeaderEpoch
    }
    return this.write(bytes, headers, now)
  }

  private write(bytes: Uint8Array, headers: readonly BatchHeader[], now: number): AppendResult {
    const first = headers[0]!
    const lastH = headers[headers.length - 1]!
    if (this.shouldRoll(bytes.length, lastOffset(lastH), now)) this.roll(now)
    const before = this.epochs
    for (const h of headers) if (h.partitionLeaderEpoch >= 0) this.epochs = assignEpoch(this.epochs, h.partitionLeaderEpoch, h.baseOffset)
    // The epoch cache is durable before the batches that need it (a follower may ask for it).
    if (this.epochs !== before) writeEpochCheckpoint(this.fs, this.dir, this.epochs)
    this.active.append(bytes, headers)
    const records = headers.reduce((n, h) => n + h.recordsCount, 0)
    this.unflushedRecords += records
    this.firstUnflushedAt ??= now
    if (this.unflushedRecords >= this.config.flushMessages) this.flush()
    return { baseOffset: first.baseOffset, lastOffset: lastOffset(lastH), batches: headers.length, records }
  }

  private shouldRoll(appendBytes: number, appendLastOffset: number, now: number): boolean {
    const a = this.active
    if (a.isEmpty) return false
    return (
      a.size + appendBytes > this.config.segmentBytes ||
      now - a.rollClock >= this.config.segmentMs ||
      appendLastOffset - a.baseOffset > 2 ** 31 - 1 // index entries hold offsets relative to the base
    )
  }

  /**
   * Closes the active segment (fsynced, index saved) and starts a new one at the log end. Every
   * segment starts where the previous one ends (a follower's next batch may start later: the
   * leader's log may be compacted), which is how recovery tells a hole from a gap.
   */
  roll(now: number): void {
    const old = this.active
    if (old.isEmpty) return
    old.sync()
    old.saveIndex()
    old.closeHandles()
    const seg = new Segment(this.fs, this.dir, old.nextOffset, this.config.indexIntervalBytes, now)
    this.fs.openAppend(seg.logPath).close()
    this.fs.fsyncDir(this.dir)
    this.segments.push(seg)
    // Every earlier segment was fsynced at its own roll.
    this._recoveryPoint = Math.max(this._recoveryPoint, old.nextOffset)
    this.unflushedRecords = 0
    this.firstUnflushedAt = undefined
    this.checkpoint(now)
  }

  // -------------------------------------------------------------------------------------------
  // Flush and checkpoints

  /** fsyncs everything appended so far; the recovery point moves to the log end. */
  flush(): void {
    for (const seg of this.segments) seg.sync()
    this._recoveryPoint = this.logEndOffset
    this.unflushedRecords = 0
    this.firstUnflushedAt = undefined
  }

  /** Timer work: the `flush.ms` policy and periodic checkpoints. */
  tick(now: number): void {
    if (this.firstUnflushedAt !== undefined && now - this.firstUnflushedAt >= this.config.flushMs) this.flush()
    this.maybeCheckpoint(now, false)
  }

  private maybeCheckpoint(now: number, force: boolean): void {
    if (force || now - this.lastCheckpointAt >= this.checkpointIntervalMs) this.checkpoint(now)
  }

  /** Writes the recovery point, high watermark and log start offset (atomically, durably). */
  checkpoint(now: number): void {
    writeOffsetsCheckpoint(this.fs, this.dir, { recoveryPoint: this._recoveryPoint, highWatermark: this._highWatermark, logStartOffset: this._logStartOffset })
    this.lastCheckpointAt = now
  }

  /**
   * Flushes, checkpoints, saves the active segment's index (so the next open need not scan it),
   * and releases file handles.
   */
  close(now: number): void {
    this.flush()
    this.checkpoint(now)
    this.active.saveIndex()
    for (const seg of this.segments) seg.closeHandles()
  }

  // -------------------------------------------------------------------------------------------
  // Offsets

  /** Moves the high watermark (replication decides it); never past the log end, never back. */
  setHighWatermark(hw: number): void {
    if (hw > this.logEndOffset) throw new RangeError(`high watermark ${hw} past the log end ${this.logEndOffset}`)
    this._highWatermark = Math.max(this._highWatermark, hw)
  }

  /** OffsetsForLeaderEpoch, answered from the epoch cache. */
  endOffsetForEpoch(epoch: number): EpochEnd {
    return endOffsetFor(this.epochs, epoch, this.logEndOffset)
  }

  /**
   * Removes every batch that holds an offset >= `offset` (a follower diverged from its leader):
   * the log then ends at the base of the batch holding `offset`, which is `offset` itself when
   * it is a batch boundary, as epoch end offsets are. Durable on return.
   */
  truncateTo(offset: number, now: number): void {
    if (offset >= this.logEndOffset) return
    if (offset < this._logStartOffset) throw new OffsetOutOfRangeError(offset, this._logStartOffset, this.logEndOffset)
    while (this.segments.length > 1 && this.active.baseOffset >= offset) {
      this.active.deleteFiles()
      this.segments.pop()
    }
    const seg = this.active
    const at = seg.locate(offset)
    seg.truncate(at?.position ?? seg.size)
    this.fs.fsyncDir(this.dir)
    const end = this.logEndOffset
    this._highWatermark = Math.min(this._highWatermark, end)
    this._recoveryPoint = Math.min(this._recoveryPoint, end)
    this.epochs = truncateEpochsFromEnd(this.epochs, end)
    writeEpochCheckpoint(this.fs, this.dir, this.epochs)
    this.checkpoint(now)
  }

  /**
   * DeleteRecords: records below `offset` are gone for readers at once, and their segments as
   * soon as they lie wholly below it. `offset` is at most the high watermark (-1 means it).
   * Returns the new log start offset. Durable on return.
   */
  deleteRecordsBefore(offset: number, now: number): number {
    const target = offset === -1 ? this._highWatermark : offset
    if (target < 0 || target > this._highWatermark) throw new OffsetOutOfRangeError(target, this._logStartOffset, this._highWatermark)
    if (target > this._logStartOffset) this.advanceLogStart(target, now)
    return this._logStartOffset
  }

  private advanceLogStart(offset: number, now: number): void {
    this._logStartOffset = offset
    this.epochs = truncateEpochsFromStart(this.epochs, offset)
    writeEpochCheckpoint(this.fs, this.dir, this.epochs)
    this.checkpoint(now) // before any file goes: a crash must not bring deleted records back
    let deleted = false
    while (this.segments.length > 1 && this.segments[1]!.baseOffset <= offset) {
      this.segments.shift()!.deleteFiles()
      deleted = true
    }
    if (deleted) this.fs.fsyncDir(this.dir)
  }

  // -------------------------------------------------------------------------------------------
  // Retention and compaction

  /**
   * Deletes closed segments past `retention.ms` or beyond `retention.bytes` (oldest first), only
   * ever below the high watermark. Returns how many segments went.
   */
  applyRetention(now: number): number {
    if (!deletes(this.config)) return 0
    const { retentionMs, retentionBytes } = this.config
    // The active segment can expire too: roll it so it can go (Kafka does the same).
    const a = this.active
    if (retentionMs >= 0 && !a.isEmpty && now - a.maxTimestamp > retentionMs && a.nextOffset <= this._highWatermark) this.roll(now)
    let size = this.sizeBytes
    let newStart = this._logStartOffset
    let count = 0
    for (let i = 0; i < this.segments.length - 1; i++) {
      const seg = this.segments[i]!
      const next = this.segments[i + 1]!
      if (next.baseOffset > this._highWatermark) break
      const expired = retentionMs >= 0 && now - seg.maxTimestamp > retentionMs
      const oversize = retentionBytes >= 0 && size - seg.size >= retentionBytes
      if (!expired && !oversize) break
      size -= seg.size
      newStart = next.baseOffset
      count++
    }
    if (newStart > this._logStartOffset) this.advanceLogStart(newStart, now)
    return count
  }

  /**
   * One cleaning pass of a compacted topic (see core/log/compaction.ts for the rule), over the
   * closed segments below the high watermark and the recovery point.
   */
  compact(now: number): CompactionStats {
    if (!compacts(this.config)) return { segmentsCleaned: 0, recordsRemoved: 0, batchesDropped: 0, bytesBefore: 0, bytesAfter: 0 }
    const end = Math.min(this.active.baseOffset, this._highWatermark, this._recoveryPoint)
    const lag = this.config.minCompactionLagMs
    const cleanable: Segment[] = []
    for (const seg of this.segments.slice(0, -1)) {
      if (seg.nextOffset > end || (lag > 0 && seg.maxTimestamp > now - lag)) break
      cleanable.push(seg)
    }
    const stats = compactSegments(this.fs, this.dir, cleanable, this.codecs, now - this.config.deleteRetentionMs)
    return stats
  }

  // -------------------------------------------------------------------------------------------
  // Reads

  private segmentFor(offset: number): number {
    let lo = 0
    let hi = this.segments.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1
      if (this.segments[mid]!.baseOffset <= offset) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  /**
   * The batches from the one holding `offset`, as one byte range of a segment file: whole
   * batches, at most `maxBytes` (but at least one batch with `minOneBatch`, the default), base
   * offsets below `maxOffset` (default: the log end). An offset outside [log start, log end]
   * throws `OffsetOutOfRangeError`; at the end, the slice is empty. The range is read with one
   * positional read, and its bytes come with the slice.
   */
  read(offset: number, options: ReadOptions): LogSlice {
    if (offset < this._logStartOffset || offset > this.logEndOffset) throw new OffsetOutOfRangeError(offset, this._logStartOffset, this.logEndOffset)
    const maxOffset = Math.min(options.maxOffset ?? this.logEndOffset, this.logEndOffset)
    const minOne = options.minOneBatch ?? true
    for (let i = this.segmentFor(offset); i < this.segments.length; i++) {
      const seg = this.segments[i]!
      const at = seg.locate(offset)
      if (at === undefined) continue // `offset` falls in a gap after this segment's last batch
      const want = Math.min(seg.size - at.position, minOne ? Math.max(options.maxBytes, at.header.sizeBytes) : options.maxBytes)
      const into = options.into !== undefined && options.into.length >= want ? options.into : undefined
      const buf = want > 0 ? seg.read(at.position, want, into) : new Uint8Array(0)
      let length = 0
      let next = at.header.baseOffset
      while (length + HEADER_BYTES <= buf.length) {
        const h = readBatchHeader(buf, length, false)
        if (h.baseOffset >= maxOffset || length + h.sizeBytes > buf.length) break
        length += h.sizeBytes
        next = lastOffset(h) + 1
      }
      return { file: seg.logPath, position: at.position, length, firstOffset: at.header.baseOffset, nextOffset: length === 0 ? at.header.baseOffset : next, segment: seg, generation: seg.generation, bytes: buf.subarray(0, length) }
    }
    const seg = this.active
    return { file: seg.logPath, position: seg.size, length: 0, firstOffset: this.logEndOffset, nextOffset: this.logEndOffset, segment: seg, generation: seg.generation, bytes: new Uint8Array(0) }
  }

  /** The bytes of a slice, to send as they are. Throws if the segment changed since `read`. */
  readSlice(slice: LogSlice): Uint8Array {
    if (slice.length === 0) return slice.bytes
    if (slice.segment.generation !== slice.generation || !this.segments.includes(slice.segment)) throw new Error(`stale slice of ${slice.file}: the segment was rewritten or deleted since it was read`)
    return slice.bytes
  }

  /**
   * ListOffsets by timestamp: the first record at or after the log start whose timestamp is
   * >= `timestamp`, or undefined if there is none.
   */
  offsetForTimestamp(timestamp: number): { offset: number; timestamp: number } | undefined {
    for (const seg of this.segments) {
      if (seg.maxTimestamp < timestamp || seg.nextOffset <= this._logStartOffset) continue
      let found: { offset: number; timestamp: number } | undefined
      const start = Math.max(seg.index.floorOffsetForTimestamp(timestamp), this._logStartOffset)
      const at = seg.locate(start)
      if (at === undefined) continue
      seg.walk(at.position, (h, pos) => {
        if (h.maxTimestamp < timestamp) return true
        found = this.firstRecordAtOrAfter(seg, h, pos, timestamp)
        return found === undefined
      })
      if (found !== undefined) return found
    }
    return undefined
  }

  private firstRecordAtOrAfter(seg: Segment, h: BatchHeader, position: number, timestamp: number): { offset: number; timestamp: number } | undefined {
    const { records } = decodeRecords(seg.read(position, h.sizeBytes), this.codecs)
    for (const r of records) {
      const ts = h.logAppendTime ? h.maxTimestamp : h.baseTimestamp + r.timestampDelta
      const offset = h.baseOffset + r.offsetDelta
      if (ts >= timestamp && offset >= this._logStartOffset) return { offset, timestamp: ts }
    }
    return undefined
  }

  /** ListOffsets MAX_TIMESTAMP (KIP-734): the offset of the record with the largest timestamp. */
  offsetOfMaxTimestamp(): { offset: number; timestamp: number } | undefined {
    let best: Segment | undefined
    for (const seg of this.segments) if (seg.nextOffset > this._logStartOffset && seg.maxTimestamp >= 0 && (best === undefined || seg.maxTimestamp > best.maxTimestamp)) best = seg
    if (best === undefined) return undefined
    const at = best.locate(best.offsetOfMaxTimestamp)
    if (at === undefined) return undefined
    return this.firstRecordAtOrAfter(best, at.header, at.position, best.maxTimestamp)
  }

  /** Test and tool helper: every batch (bytes) from the log start, in order. */
  *batches(): Generator<{ header: BatchHeader; bytes: Uint8Array }> {
    for (const seg of this.segments) {
      const found: { header: BatchHeader; position: number }[] = []
      seg.walk(0, (h, position) => {
        if (lastOffset(h) >= this._logStartOffset) found.push({ header: h, position })
        return true
      })
      for (const f of found) yield { header: f.header, bytes: seg.read(f.position, f.header.sizeBytes) }
    }
  }

  /** The store's own invariants (TigerBeetle-style: checked after open and by tests). */
  assertInvariants(): void {
    const fail = (why: string): never => {
      throw new Error(`PartitionStore ${this.dir}: ${why}`)
    }
    if (!(this._logStartOffset <= this._highWatermark && this._highWatermark <= this.logEndOffset))
      fail(`offsets out of order: log start ${this._logStartOffset}, high watermark ${this._highWatermark}, log end ${this.logEndOffset}`)
    if (this._recoveryPoint > this.logEndOffset) fail(`recovery point ${this._recoveryPoint} past the log end ${this.logEndOffset}`)
    for (let i = 1; i < this.segments.length; i++)
      if (this.segments[i]!.baseOffset !== this.segments[i - 1]!.nextOffset) fail(`segment ${this.segments[i]!.baseOffset} does not start where segment ${this.segments[i - 1]!.baseOffset} ends (${this.segments[i - 1]!.nextOffset})`)
    if (this.segments[0]!.baseOffset > this._logStartOffset) fail(`first segment ${this.segments[0]!.baseOffset} starts after the log start ${this._logStartOffset}`)
    const first = this.epochs[0]
    if (first !== undefined && first.startOffset < this._logStartOffset) fail(`epoch cache starts at ${first.startOffset}, below the log start`)
  }
}
