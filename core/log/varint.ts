/**
 * Zig-zag varints as Kafka's records use them (protobuf's encoding): 7 bits per byte, low bits
 * first, the high bit set on every byte but the last; signed values zig-zag mapped first
 * (0, -1, 1, -2 ... -> 0, 1, 2, 3 ...). Values are JS numbers: Kafka's varlongs (timestamp
 * deltas) fit in 53 bits in practice, and anything larger is refused rather than rounded.
 */
import { RecordBatchError } from "./errors.ts"

const MAX = Number.MAX_SAFE_INTEGER

/** Bytes `writeVarint` takes for `v`. */
export function varintSize(v: number): number {
  let u = v >= 0 ? v * 2 : -v * 2 - 1
  let n = 1
  while (u >= 128) {
    u = Math.floor(u / 128)
    n++
  }
  return n
}

/** Writes zig-zag `v` at `at`; returns the offset after it. */
export function writeVarint(b: Uint8Array, at: number, v: number): number {
  if (!Number.isSafeInteger(v) || Math.abs(v) > MAX / 2) throw new RangeError(`varint out of range: ${v}`)
  let u = v >= 0 ? v * 2 : -v * 2 - 1
  while (u >= 128) {
    b[at++] = (u % 128) | 128
    u = Math.floor(u / 128)
  }
  b[at++] = u
  return at
}

/** Reads a zig-zag varint at `at` (never past `end`): the value and the offset after it. */
export function readVarint(b: Uint8Array, at: number, end: number): { value: number; next: number } {
  let u = 0
  let scale = 1
  for (let i = 0; i < 10; i++) {
    if (at >= end) throw new RecordBatchError("truncated", `varint runs past the end at byte ${at}`)
    const byte = b[at++]!
    u += (byte & 127) * scale
    if (u > MAX) throw new RecordBatchError("corrupt", "varint above 2^53")
    if ((byte & 128) === 0) return { value: u % 2 === 0 ? u / 2 : -(u + 1) / 2, next: at }
    scale *= 128
  }
  throw new RecordBatchError("corrupt", "varint longer than 10 bytes")
}
