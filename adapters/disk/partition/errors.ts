/**
 * Errors of the partition store, each mapping to one Kafka error code at the broker:
 * `OffsetOutOfRangeError` -> OFFSET_OUT_OF_RANGE, `MessageTooLargeError` -> MESSAGE_TOO_LARGE /
 * RECORD_LIST_TOO_LARGE, `RecordBatchError` (core/log) -> CORRUPT_MESSAGE, `CorruptLogError` ->
 * KAFKA_STORAGE_ERROR (the partition goes offline; the data needs an operator).
 */

/** The disk holds damage where data was already durable: recovery refuses to guess. */
export class CorruptLogError extends Error {
  override readonly name = "CorruptLogError"
}

export class OffsetOutOfRangeError extends Error {
  override readonly name = "OffsetOutOfRangeError"
  constructor(
    readonly offset: number,
    readonly logStartOffset: number,
    readonly logEndOffset: number,
  ) {
    super(`offset ${offset} is outside the log's range [${logStartOffset}, ${logEndOffset}]`)
  }
}

export class MessageTooLargeError extends Error {
  override readonly name = "MessageTooLargeError"
}
