/**
 * Per-topic log configuration, under Kafka's names (`segment.bytes`, `retention.ms`, ...) with
 * Kafka's defaults, parsed from the string map CreateTopics and IncrementalAlterConfigs carry.
 * A bad value is refused with a message that names the setting, the value and the allowed range.
 */

export type CleanupPolicy = "delete" | "compact" | "compact,delete"

export interface LogConfig {
  /** segment.bytes: a segment rolls before it would grow past this. */
  readonly segmentBytes: number
  /** segment.ms: a segment rolls once its first batch is this old. */
  readonly segmentMs: number
  /** index.interval.bytes: log bytes between two offset-index entries. */
  readonly indexIntervalBytes: number
  /** retention.ms: closed segments whose newest record is older go; -1 keeps them. */
  readonly retentionMs: number
  /** retention.bytes: oldest closed segments go while the log is larger; -1 keeps them. */
  readonly retentionBytes: number
  readonly cleanupPolicy: CleanupPolicy
  /** delete.retention.ms: how long a tombstone outlives the records it deletes. */
  readonly deleteRetentionMs: number
  /** min.compaction.lag.ms: records younger than this are not compacted. */
  readonly minCompactionLagMs: number
  /** flush.messages: fsync after this many records (1 = every append). */
  readonly flushMessages: number
  /** flush.ms: fsync once the oldest unflushed append is this old. */
  readonly flushMs: number
  /** max.message.bytes: the largest record batch an append takes. */
  readonly maxMessageBytes: number
}

const LONG_MAX = Number.MAX_SAFE_INTEGER // Kafka's Long.MAX_VALUE, within what a double holds exactly

export const defaultLogConfig: LogConfig = {
  segmentBytes: 1024 * 1024 * 1024,
  segmentMs: 7 * 24 * 3600 * 1000,
  indexIntervalBytes: 4096,
  retentionMs: 7 * 24 * 3600 * 1000,
  retentionBytes: -1,
  cleanupPolicy: "delete",
  deleteRetentionMs: 24 * 3600 * 1000,
  minCompactionLagMs: 0,
  flushMessages: LONG_MAX,
  flushMs: LONG_MAX,
  maxMessageBytes: 1024 * 1024 + 12,
}

type NumberKey = Exclude<keyof LogConfig, "cleanupPolicy">

/** Kafka name -> field and the range Kafka allows. */
const NUMBERS: Record<string, { key: NumberKey; min: number; max: number }> = {
  "segment.bytes": { key: "segmentBytes", min: 14, max: 2 ** 31 - 1 },
  "segment.ms": { key: "segmentMs", min: 1, max: LONG_MAX },
  "index.interval.bytes": { key: "indexIntervalBytes", min: 0, max: 2 ** 31 - 1 },
  "retention.ms": { key: "retentionMs", min: -1, max: LONG_MAX },
  "retention.bytes": { key: "retentionBytes", min: -1, max: LONG_MAX },
  "delete.retention.ms": { key: "deleteRetentionMs", min: 0, max: LONG_MAX },
  "min.compaction.lag.ms": { key: "minCompactionLagMs", min: 0, max: LONG_MAX },
  "flush.messages": { key: "flushMessages", min: 1, max: LONG_MAX },
  "flush.ms": { key: "flushMs", min: 0, max: LONG_MAX },
  "max.message.bytes": { key: "maxMessageBytes", min: 0, max: 2 ** 31 - 1 },
}

export class LogConfigError extends Error {
  override readonly name = "LogConfigError"
}

/** The config names this module understands (others are the broker's business). */
export const logConfigNames: readonly string[] = [...Object.keys(NUMBERS), "cleanup.policy"]

/**
 * Applies `overrides` (Kafka names, string values) to `base`. Names this module does not know
 * are ignored (the broker validates the full set); a known name with a bad value throws
 * `LogConfigError`.
 */
export function parseLogConfig(overrides: Readonly<Record<string, string>>, base: LogConfig = defaultLogConfig): LogConfig {
  const out: { -readonly [K in keyof LogConfig]: LogConfig[K] } = { ...base }
  for (const [name, raw] of Object.entries(overrides)) {
    if (name === "cleanup.policy") {
      const parts = raw.split(",").map((p) => p.trim().toLowerCase()).filter((p) => p !== "")
      const set = new Set(parts)
      if (parts.length === 0 || [...set].some((p) => p !== "delete" && p !== "compact"))
        throw new LogConfigError(`cleanup.policy: '${raw}' is not a list of 'delete' and 'compact'`)
      out.cleanupPolicy = set.size === 2 ? "compact,delete" : (parts[0] as "delete" | "compact")
      continue
    }
    const spec = NUMBERS[name]
    if (spec === undefined) continue
    if (!/^-?\d+$/.test(raw.trim())) throw new LogConfigError(`${name}: '${raw}' is not an integer`)
    const big = BigInt(raw.trim())
    if (big > 2n ** 63n - 1n || big < -(2n ** 63n)) throw new LogConfigError(`${name}: ${raw} does not fit a 64-bit integer`)
    // Values past 2^53 (Long.MAX_VALUE spelled out, meaning "never") are "never" here too.
    const clamped = big > BigInt(LONG_MAX) ? LONG_MAX : Number(big)
    if (clamped < spec.min || clamped > spec.max) throw new LogConfigError(`${name}: ${raw} is outside [${spec.min}, ${spec.max}]`)
    out[spec.key] = clamped
  }
  return out
}

export const compacts = (c: LogConfig): boolean => c.cleanupPolicy !== "delete"
export const deletes = (c: LogConfig): boolean => c.cleanupPolicy !== "compact"
