/**
 * The in-memory model of one partition's log: which offsets exist, where the high watermark is,
 * and which leader epoch wrote what (Kafka's leader-epoch cache, the basis of KIP-101 truncation).
 * It tracks batch metadata only; the bytes live in storage (adapters/disk). Pure and mutable-free:
 * every operation returns a new value.
 *
 * Offsets: `logStartOffset <= highWatermark <= logEndOffset`. Batches are contiguous: each starts
 * where the previous ended. The epoch cache holds, for each leader epoch that wrote a batch, the
 * first offset it wrote, in increasing order of both.
 */
import { assignEpoch, endOffsetFor, latestEpoch, truncateEpochsFromEnd, truncateEpochsFromStart, type EpochEnd, type EpochEntry } from "./epoch-cache.ts"
import { RecordBatchError } from "./errors.ts"

export { UNDEFINED, type EpochEnd, type EpochEntry } from "./epoch-cache.ts"

/** What the log keeps of each batch. */
export interface BatchMeta {
  readonly baseOffset: number
  readonly lastOffset: number
  readonly epoch: number
  readonly sizeBytes: number
  readonly maxTimestamp: number
  /** For the producer-state module (idempotence, transactions): -1 when none. */
  readonly producerId: number
  readonly producerEpoch: number
  readonly baseSequence: number
  readonly transactional: boolean
  readonly control: boolean
}

export class PartitionLog {
  private constructor(
    readonly logStartOffset: number,
    readonly highWatermark: number,
    readonly batches: readonly BatchMeta[],
    readonly epochs: readonly EpochEntry[],
    /** Where an empty log (or one whose batches were all deleted) ends. */
    private readonly emptyEnd: number,
  ) {}

  static empty(logStartOffset = 0): PartitionLog {
    return new PartitionLog(logStartOffset, logStartOffset, [], [], logStartOffset)
  }

  get logEndOffset(): number {
    const last = this.batches[this.batches.length - 1]
    return last === undefined ? this.emptyEnd : last.lastOffset + 1
  }

  get latestEpoch(): number {
    return latestEpoch(this.epochs)
  }

  /**
   * Appends a batch at the log end (a leader has just set its base offset there; a follower
   * appends what its leader sent). Its epoch may not go back: an older leader's batch after a
   * newer one's is a replication bug, refused.
   */
  append(b: BatchMeta): PartitionLog {
    if (b.baseOffset !== this.logEndOffset) throw new RecordBatchError("corrupt", `batch at ${b.baseOffset}, the log ends at ${this.logEndOffset}`)
    if (b.lastOffset < b.baseOffset) throw new RecordBatchError("corrupt", `batch ends at ${b.lastOffset} before its base ${b.baseOffset}`)
    if (b.epoch < this.latestEpoch) throw new RecordBatchError("corrupt", `batch of epoch ${b.epoch} after epoch ${this.latestEpoch}`)
    const epochs = assignEpoch(this.epochs, b.epoch, b.baseOffset)
    return new PartitionLog(this.logStartOffset, this.highWatermark, [...this.batches, b], epochs, this.emptyEnd)
  }

  /** Moves the high watermark (within [logStartOffset, logEndOffset]); it never goes back here. */
  withHighWatermark(hw: number): PartitionLog {
    if (hw < this.logStartOffset || hw > this.logEndOffset) throw new RangeError(`high watermark ${hw} outside ${this.logStartOffset}..${this.logEndOffset}`)
    if (hw <= this.highWatermark) return this
    return new PartitionLog(this.logStartOffset, hw, this.batches, this.epochs, this.emptyEnd)
  }

  /**
   * Drops every batch from `offset` on (a follower diverged from its new leader). `offset` must
   * be a batch boundary, as epoch end offsets are. The epoch cache loses the epochs that started
   * at or after it; the high watermark comes down with the log end if it must.
   */
  truncateTo(offset: number): PartitionLog {
    if (offset >= this.logEndOffset) return this
    if (offset < this.logStartOffset) throw new RangeError(`truncate to ${offset} below the log start ${this.logStartOffset}`)
    const keep = this.batches.filter((b) => b.baseOffset < offset)
    const last = keep[keep.length - 1]
    if (last !== undefined && last.lastOffset + 1 !== offset) throw new RangeError(`truncate to ${offset} inside the batch ${last.baseOffset}..${last.lastOffset}`)
    const epochs = truncateEpochsFromEnd(this.epochs, offset)
    const emptyEnd = keep.length === 0 ? offset : this.emptyEnd
    return new PartitionLog(this.logStartOffset, Math.min(this.highWatermark, offset), keep, epochs, emptyEnd)
  }

  /**
   * Advances the log start offset (retention, DeleteRecords): batches wholly below it go, and
   * the epoch cache keeps the epoch in force at the new start (its start moved up to it).
   * Only up to the high watermark: uncommitted data is never deleted.
   */
  advanceLogStart(offset: number): PartitionLog {
    if (offset <= this.logStartOffset) return this
    if (offset > this.highWatermark) throw new RangeError(`log start ${offset} beyond the high watermark ${this.highWatermark}`)
    const batches = this.batches.filter((b) => b.lastOffset >= offset)
    const epochs = truncateEpochsFromStart(this.epochs, offset)
    return new PartitionLog(offset, this.highWatermark, batches, epochs, batches.length === 0 ? Math.max(this.logEndOffset, offset) : this.emptyEnd)
  }

  /**
   * OffsetsForLeaderEpoch: the largest epoch <= `epoch` this log knows, and the offset where it
   * ends (the start of the next epoch, or the log end for the latest). A follower truncates to
   * that offset. UNDEFINED when every known epoch is newer (or the log has none).
   */
  endOffsetFor(epoch: number): EpochEnd {
    return endOffsetFor(this.epochs, epoch, this.logEndOffset)
  }

  /** The batch holding `offset`, if any (for fetch: reads start at that batch's bytes). */
  batchFor(offset: number): BatchMeta | undefined {
    let lo = 0
    let hi = this.batches.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.batches[mid]!.lastOffset < offset) lo = mid + 1
      else hi = mid
    }
    const b = this.batches[lo]
    return b !== undefined && b.baseOffset <= offset ? b : undefined
  }
}
