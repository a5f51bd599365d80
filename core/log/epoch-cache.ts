/**
 * Kafka's leader-epoch cache as plain functions over a sorted array: for each leader epoch that
 * wrote to the log, the first offset it wrote. Both columns strictly increase. It answers
 * OffsetsForLeaderEpoch, the question a follower asks after a leader change to learn where its
 * log diverges (KIP-101, KIP-279): truncating by epoch instead of by high watermark is what keeps
 * acknowledged records from being lost.
 *
 * Shared by `PartitionLog` (the in-memory model) and the disk store (which checkpoints it).
 */

export interface EpochEntry {
  readonly epoch: number
  readonly startOffset: number
}

/** Answer to OffsetsForLeaderEpoch: the end offset of `epoch` here, and the epoch that ends there. */
export interface EpochEnd {
  readonly epoch: number
  readonly endOffset: number
}

/** Kafka's UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED: EpochEnd = { epoch: -1, endOffset: -1 }

export const latestEpoch = (cache: readonly EpochEntry[]): number => cache[cache.length - 1]?.epoch ?? -1

/**
 * The cache after a batch of `epoch` was appended at `offset`. An epoch older than the latest
 * is refused: an older leader's batch after a newer one's is a replication bug.
 */
export function assignEpoch(cache: readonly EpochEntry[], epoch: number, offset: number): readonly EpochEntry[] {
  const latest = cache[cache.length - 1]
  if (latest === undefined || epoch > latest.epoch) {
    if (latest !== undefined && offset < latest.startOffset) throw new RangeError(`epoch ${epoch} starting at ${offset}, before epoch ${latest.epoch}'s start ${latest.startOffset}`)
    // An epoch that starts where the latest did replaces it: that one holds no offset (it was
    // moved up to an emptied log's start), as Kafka's cache drops entries at or past a new start.
    const kept = latest !== undefined && latest.startOffset === offset ? cache.slice(0, -1) : cache
    return [...kept, { epoch, startOffset: offset }]
  }
  if (epoch < latest.epoch) throw new RangeError(`batch of epoch ${epoch} after epoch ${latest.epoch}`)
  return cache
}

/** After truncating the log to end at `offset`: epochs that started at or after it are gone. */
export const truncateEpochsFromEnd = (cache: readonly EpochEntry[], offset: number): readonly EpochEntry[] =>
  cache.filter((e) => e.startOffset < offset)

/**
 * After the log start moved up to `offset`: epochs wholly below it go, and the one in force at
 * `offset` keeps its place with its start moved up to `offset` (a follower may still ask for it).
 */
export function truncateEpochsFromStart(cache: readonly EpochEntry[], offset: number): readonly EpochEntry[] {
  const inForce = cache.filter((e) => e.startOffset <= offset).pop()
  const later = cache.filter((e) => e.startOffset > offset)
  return inForce === undefined ? later : [{ epoch: inForce.epoch, startOffset: offset }, ...later]
}

/**
 * OffsetsForLeaderEpoch: the largest epoch <= `epoch` this log knows, and the offset where it
 * ends (the start of the next epoch, or `logEndOffset` for the latest). UNDEFINED when every
 * known epoch is newer (or there are none).
 */
export function endOffsetFor(cache: readonly EpochEntry[], epoch: number, logEndOffset: number): EpochEnd {
  let found: EpochEntry | undefined
  let next: EpochEntry | undefined
  for (const e of cache) {
    if (e.epoch <= epoch) found = e
    else if (next === undefined) next = e
  }
  if (found === undefined) return UNDEFINED
  return { epoch: found.epoch, endOffset: next === undefined ? logEndOffset : next.startOffset }
}

/** Checks the cache's shape (strictly increasing epochs and offsets); returns what is wrong. */
export function epochCacheProblem(cache: readonly EpochEntry[]): string | undefined {
  for (let i = 1; i < cache.length; i++) {
    const a = cache[i - 1]!
    const b = cache[i]!
    if (b.epoch <= a.epoch) return `epoch ${b.epoch} after ${a.epoch}`
    if (b.startOffset <= a.startOffset) return `epoch ${b.epoch} starts at ${b.startOffset}, not after epoch ${a.epoch}'s ${a.startOffset}`
  }
  return undefined
}
