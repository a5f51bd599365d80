/**
 * `core/log`: Kafka's partition log data, as plain functions over byte slices: the record batch
 * v2 codec (header, CRC-32C, records, control records, in-place offset/epoch rewrite; compression
 * codecs are supplied by the caller), the leader-epoch cache, the compaction rule, and
 * `PartitionLog`, the in-memory model of a partition's offsets.
 */
export { crc32c } from "./crc32c.ts"
export { RecordBatchError } from "./errors.ts"
export { readVarint, writeVarint, varintSize } from "./varint.ts"
export {
  Compression,
  HEADER_BYTES,
  LOG_OVERHEAD,
  controlRecord,
  crcMatches,
  decodeRecords,
  encodeBatch,
  lastOffset,
  readBatchHeader,
  readControlRecord,
  setBaseOffset,
  setPartitionLeaderEpoch,
  type BatchHeader,
  type BatchInput,
  type Codec,
  type Codecs,
  type CompressionId,
  type ControlType,
  type KafkaRecord,
  type RecordHeader,
} from "./record-batch.ts"
export { PartitionLog, type BatchMeta } from "./partition-log.ts"
export {
  UNDEFINED,
  assignEpoch,
  endOffsetFor,
  epochCacheProblem,
  latestEpoch,
  truncateEpochsFromEnd,
  truncateEpochsFromStart,
  type EpochEnd,
  type EpochEntry,
} from "./epoch-cache.ts"
export { addToOffsetMap, cleanBatch, keyId, survives, type Cleaned, type CleanRule, type OffsetMap } from "./compaction.ts"
