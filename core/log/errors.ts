/** Why bytes are not a valid record batch: the broker answers CORRUPT_MESSAGE (or truncates a log tail). */
export class RecordBatchError extends Error {
  override readonly name = "RecordBatchError"
  constructor(
    /** `truncated`: the bytes end inside the batch; `corrupt`: they can never be a valid batch. */
    readonly reason: "truncated" | "corrupt" | "crc" | "unsupported",
    message: string,
  ) {
    super(message)
  }
}
