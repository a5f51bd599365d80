/**
 * Log compaction's decision, as plain functions over record batches: which records of a
 * compacted partition survive a cleaning pass. The disk adapter does the file work around it.
 *
 * The rule (Kafka's `cleanup.policy=compact`):
 * - a record survives only if it is the latest record of its key in the log (the offset map
 *   holds, for each key, the largest offset at which it appears);
 * - a tombstone (null value) that is the latest of its key survives until its delete horizon:
 *   it goes once its timestamp is older than `deleteHorizon` (now - delete.retention.ms), so a
 *   consumer that reads to the head within delete.retention.ms still sees the delete;
 * - records without a key go (a compacted topic cannot hold them; Kafka's cleaner drops them);
 * - offsets never change: surviving records keep their offsets, and a rewritten batch keeps its
 *   base offset and last offset, so offsets of later batches and producer state stay valid;
 * - control batches (transaction markers) are kept as they are.
 *
 * Kafka (since KIP-534) starts a tombstone's horizon at the first cleaning that sees it, not at
 * its timestamp; this rule uses the record's timestamp, which a crash cannot reset and which needs
 * no extra batch attribute. Both give a reader delete.retention.ms to see the tombstone.
 */
import { Compression, decodeRecords, encodeBatch, readBatchHeader, type BatchHeader, type Codecs, type KafkaRecord } from "./record-batch.ts"

/** For each key (see `keyId`), the largest offset at which it appears. */
export type OffsetMap = Map<string, number>

// latin1 maps each byte to its own code point: an injective key id without hex's cost.
const latin1 = new TextDecoder("latin1")
export const keyId = (key: Uint8Array): string => latin1.decode(key)

const recordTimestamp = (h: BatchHeader, r: KafkaRecord): number => (h.logAppendTime ? h.maxTimestamp : h.baseTimestamp + r.timestampDelta)

/** Adds the keys of the batch at `at` to `map` (batches must be fed in offset order). */
export function addToOffsetMap(map: OffsetMap, b: Uint8Array, codecs: Codecs, at = 0): BatchHeader {
  const h = readBatchHeader(b, at)
  if (h.control) return h
  const { records } = decodeRecords(b, codecs, at)
  for (const r of records) if (r.key !== null) map.set(keyId(r.key), h.baseOffset + r.offsetDelta)
  return h
}

export interface CleanRule {
  readonly latest: ReadonlyMap<string, number>
  /** Tombstones with a timestamp below this go. */
  readonly deleteHorizon: number
}

/** Whether a record at `offset` with `timestamp` survives. */
export function survives(rule: CleanRule, key: Uint8Array | null, tombstone: boolean, offset: number, timestamp: number): boolean {
  if (key === null) return false
  const latest = rule.latest.get(keyId(key))
  if (latest !== undefined && latest > offset) return false
  return !tombstone || timestamp >= rule.deleteHorizon
}

export type Cleaned =
  | { readonly kind: "unchanged" }
  | { readonly kind: "dropped" }
  | { readonly kind: "rewritten"; readonly bytes: Uint8Array; readonly removed: number }

/**
 * Cleans one batch. `keepIfEmpty` keeps an emptied batch (as a batch with no records but its
 * offsets and producer fields): the disk adapter asks for it for the last batch of each producer,
 * whose sequence numbers idempotence depends on.
 */
export function cleanBatch(b: Uint8Array, rule: CleanRule, codecs: Codecs, keepIfEmpty: boolean, at = 0): Cleaned {
  const h = readBatchHeader(b, at)
  if (h.control) return { kind: "unchanged" }
  const { records } = decodeRecords(b, codecs, at)
  const kept = records.filter((r) => survives(rule, r.key, r.value === null, h.baseOffset + r.offsetDelta, recordTimestamp(h, r)))
  if (kept.length === records.length) return { kind: "unchanged" }
  if (kept.length === 0 && !keepIfEmpty) return { kind: "dropped" }
  const maxTimestamp = h.logAppendTime ? h.maxTimestamp : kept.reduce((m, r) => Math.max(m, h.baseTimestamp + r.timestampDelta), -1)
  const bytes = encodeBatch(
    {
      baseOffset: h.baseOffset,
      partitionLeaderEpoch: h.partitionLeaderEpoch,
      compression: kept.length === 0 ? Compression.none : h.compression,
      logAppendTime: h.logAppendTime,
      transactional: h.transactional,
      baseTimestamp: h.baseTimestamp,
      maxTimestamp,
      producerId: h.producerId,
      producerEpoch: h.producerEpoch,
      baseSequence: h.baseSequence,
      lastOffsetDelta: h.lastOffsetDelta,
      records: kept,
    },
    codecs,
  )
  return { kind: "rewritten", bytes, removed: records.length - kept.length }
}
