/** `adapters/disk/partition`: a Kafka partition's log on disk (see partition-store.ts). */
export { PartitionStore, type AppendResult, type LogSlice, type OpenOptions, type ReadOptions, type RecoveryReport } from "./partition-store.ts"
export { defaultLogConfig, logConfigNames, parseLogConfig, LogConfigError, type CleanupPolicy, type LogConfig } from "./config.ts"
export { CorruptLogError, MessageTooLargeError, OffsetOutOfRangeError } from "./errors.ts"
export type { CompactionStats } from "./cleaner.ts"
