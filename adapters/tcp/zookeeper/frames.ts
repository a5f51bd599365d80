/**
 * Splits a TCP byte stream into ZooKeeper frames: int32 big-endian length, then that many bytes.
 *
 * Like ZooKeeper's NIOServerCnxn.readLength, a length below 0 or above `maxBuffer` (jute.maxbuffer,
 * default 0xfffff) is an error after which the connection must be closed. The decoder holds at
 * most one partial frame (< 4 + maxBuffer bytes) between calls, whatever the peer sends.
 */
import { DEFAULT_MAX_BUFFER } from "./jute.ts"

export type FrameErrorKind = "negative-length" | "too-large"

export class FrameError extends Error {
  override readonly name = "FrameError"
  constructor(
    readonly kind: FrameErrorKind,
    /** the offending length prefix, as a signed int32 */
    readonly length: number,
    readonly maxBuffer: number,
  ) {
    super(kind === "negative-length" ? `frame length ${length} is negative` : `frame length ${length} exceeds maxBuffer ${maxBuffer}`)
  }
}

export class FrameDecoder {
  private chunks: Uint8Array[] = []
  private bytes = 0
  /** Body length of the frame being read, once its prefix is in. */
  private bodyLength: number | undefined
  private error: FrameError | undefined

  constructor(readonly maxBuffer: number = DEFAULT_MAX_BUFFER) {
    if (!Number.isInteger(maxBuffer) || maxBuffer < 0 || maxBuffer > 0x7fffffff) throw new RangeError(`bad maxBuffer ${maxBuffer}`)
  }

  /** Bytes held for the frame in progress (length prefix included). */
  get buffered(): number {
    return this.bytes + (this.bodyLength === undefined ? 0 : 4)
  }

  /**
   * Feeds one chunk; returns the bodies (without length prefix) of the frames it completes, in
   * order. Throws FrameError on a bad length prefix; the decoder then stays failed. Frames before
   * the bad prefix in the same chunk are lost with the connection, as in ZooKeeper.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    if (this.error) throw this.error
    if (chunk.length > 0) {
      this.chunks.push(chunk)
      this.bytes += chunk.length
    }
    const out: Uint8Array[] = []
    for (;;) {
      if (this.bodyLength === undefined) {
        if (this.bytes < 4) break
        const p = this.take(4)
        const len = ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) | 0
        if (len < 0) this.fail(new FrameError("negative-length", len, this.maxBuffer))
        if (len > this.maxBuffer) this.fail(new FrameError("too-large", len, this.maxBuffer))
        this.bodyLength = len
      }
      if (this.bytes < this.bodyLength) break
      out.push(this.take(this.bodyLength))
      this.bodyLength = undefined
    }
    return out
  }

  private fail(e: FrameError): never {
    this.error = e
    this.chunks = []
    this.bytes = 0
    throw e
  }

  /** Removes and returns the first n buffered bytes (a view when they sit in one chunk). */
  private take(n: number): Uint8Array {
    this.bytes -= n
    const first = this.chunks[0]
    if (first !== undefined && first.length >= n) {
      const out = new Uint8Array(first.buffer, first.byteOffset, n)
      if (first.length === n) this.chunks.shift()
      else this.chunks[0] = new Uint8Array(first.buffer, first.byteOffset + n, first.length - n)
      return out
    }
    const out = new Uint8Array(n)
    let filled = 0
    while (filled < n) {
      const c = this.chunks[0]!
      const k = Math.min(c.length, n - filled)
      out.set(c.subarray(0, k), filled)
      filled += k
      if (k === c.length) this.chunks.shift()
      else this.chunks[0] = c.subarray(k)
    }
    return out
  }
}

/**
 * Before the handshake ZooKeeper reads a first "length" made of four lowercase letters as a
 * four-letter-word command (ruok, srvr, stat, mntr, ...). Returns the word, or null.
 */
export function asFourLetterWord(length: number): string | null {
  const b = [(length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]
  return b.every((c) => c >= 0x61 && c <= 0x7a) ? String.fromCharCode(...b) : null
}
