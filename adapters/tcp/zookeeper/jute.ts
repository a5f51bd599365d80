/**
 * Jute binary encoding (ZooKeeper's BinaryInputArchive / BinaryOutputArchive): big-endian int32
 * and int64, booleans as one byte, buffers and UTF-8 strings as an int32 length then the bytes,
 * vectors as an int32 count then the items; a length or count of -1 means null.
 *
 * The reader never trusts a declared length: it is checked against the bytes that remain and
 * against `maxLength` before anything is allocated, and every failure is a JuteError.
 */

/** jute.maxbuffer's default: the largest frame ZooKeeper accepts (NIOServerCnxn.readLength). */
export const DEFAULT_MAX_BUFFER = 0xfffff

/**
 * BinaryInputArchive.checkLength's default bound for one buffer or string: jute.maxbuffer plus
 * zookeeper.jute.maxbuffer.extrasize, which itself defaults to jute.maxbuffer.
 */
export const DEFAULT_MAX_LENGTH = DEFAULT_MAX_BUFFER * 2

export type JuteErrorKind =
  /** the input ended inside a value */
  | "truncated"
  /** a length or count below -1 */
  | "bad-length"
  /** a length or count above the reader's limit */
  | "too-large"
  /** well-formed jute, but not a valid record of the expected kind (e.g. an unknown multi op) */
  | "malformed"

export class JuteError extends Error {
  override readonly name = "JuteError"
  constructor(
    readonly kind: JuteErrorKind,
    message: string,
    /** byte offset in the reader's input where the bad value starts */
    readonly offset: number,
  ) {
    super(`${message} (at byte ${offset})`)
  }
}

const utf8Decoder = new TextDecoder("utf-8", { ignoreBOM: true }) // like Java: keep a BOM, replace bad bytes
const utf8Encoder = new TextEncoder()

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

export interface JuteReaderOptions {
  /** Largest buffer/string length or vector count accepted. Default DEFAULT_MAX_LENGTH. */
  readonly maxLength?: number
}

export class JuteReader {
  private readonly bytes: Uint8Array
  private readonly view: DataView
  private pos = 0
  readonly maxLength: number

  constructor(bytes: Uint8Array, options: JuteReaderOptions = {}) {
    this.bytes = bytes
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH
  }

  get offset(): number {
    return this.pos
  }

  get remaining(): number {
    return this.bytes.length - this.pos
  }

  private need(n: number, what: string): void {
    if (this.bytes.length - this.pos < n) {
      throw new JuteError("truncated", `${what} needs ${n} byte(s), ${this.bytes.length - this.pos} left`, this.pos)
    }
  }

  int(): number {
    this.need(4, "int")
    const v = this.view.getInt32(this.pos)
    this.pos += 4
    return v
  }

  long(): bigint {
    this.need(8, "long")
    const v = this.view.getBigInt64(this.pos)
    this.pos += 8
    return v
  }

  /** Any non-zero byte is true, as in Java's DataInput.readBoolean. */
  bool(): boolean {
    this.need(1, "boolean")
    return this.bytes[this.pos++] !== 0
  }

  /**
   * Reads a length prefix; -1 -> null. `minItemSize` bytes must remain per unit of length, so a
   * huge declared count is refused before anything is allocated.
   */
  private length(what: string, minItemSize: number): number | null {
    const at = this.pos
    const n = this.int()
    if (n === -1) return null
    if (n < -1) throw new JuteError("bad-length", `${what} length ${n}`, at)
    if (n > this.maxLength) throw new JuteError("too-large", `${what} length ${n} exceeds ${this.maxLength}`, at)
    if (n * minItemSize > this.remaining) {
      throw new JuteError("truncated", `${what} length ${n} but only ${this.remaining} byte(s) left`, at)
    }
    return n
  }

  /** A copy (the input frame may be reused by the caller). */
  buffer(): Uint8Array | null {
    const n = this.length("buffer", 1)
    if (n === null) return null
    const out = new Uint8Array(this.bytes.subarray(this.pos, this.pos + n))
    this.pos += n
    return out
  }

  ustring(): string | null {
    const n = this.length("ustring", 1)
    if (n === null) return null
    const s = utf8Decoder.decode(this.bytes.subarray(this.pos, this.pos + n))
    this.pos += n
    return s
  }

  /** `minItemSize`: the fewest bytes one encoded item can take (>= 1), for the early size check. */
  vector<T>(readItem: (r: JuteReader) => T, minItemSize = 1): T[] | null {
    const n = this.length("vector", Math.max(1, minItemSize))
    if (n === null) return null
    const out: T[] = []
    for (let i = 0; i < n; i++) out.push(readItem(this))
    return out
  }

  /** The remaining bytes, copied; the reader is left at the end. */
  rest(): Uint8Array {
    const out = new Uint8Array(this.bytes.subarray(this.pos))
    this.pos = this.bytes.length
    return out
  }
}

export class JuteWriter {
  private buf: Uint8Array
  private view: DataView
  private len = 0

  constructor(initialCapacity = 256) {
    this.buf = new Uint8Array(Math.max(16, initialCapacity))
    this.view = new DataView(this.buf.buffer)
  }

  get length(): number {
    return this.len
  }

  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.len + n) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
    this.view = new DataView(next.buffer)
  }

  int(v: number): this {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`jute int out of range: ${v}`)
    this.ensure(4)
    this.view.setInt32(this.len, v)
    this.len += 4
    return this
  }

  /** Accepts a bigint in int64 range or a safe-integer number. */
  long(v: bigint | number): this {
    let b: bigint
    if (typeof v === "number") {
      if (!Number.isSafeInteger(v)) throw new RangeError(`jute long from a number must be a safe integer: ${v}`)
      b = BigInt(v)
    } else {
      if (v < INT64_MIN || v > INT64_MAX) throw new RangeError(`jute long out of range: ${v}`)
      b = v
    }
    this.ensure(8)
    this.view.setBigInt64(this.len, b)
    this.len += 8
    return this
  }

  bool(v: boolean): this {
    this.ensure(1)
    this.buf[this.len++] = v ? 1 : 0
    return this
  }

  buffer(v: Uint8Array | null): this {
    if (v === null) return this.int(-1)
    this.int(v.length)
    this.ensure(v.length)
    this.buf.set(v, this.len)
    this.len += v.length
    return this
  }

  ustring(v: string | null): this {
    if (v === null) return this.int(-1)
    // UTF-8 needs at most 3 bytes per UTF-16 code unit.
    this.ensure(4 + v.length * 3)
    const at = this.len
    const { written } = utf8Encoder.encodeInto(v, this.buf.subarray(at + 4))
    this.view.setInt32(at, written)
    this.len = at + 4 + written
    return this
  }

  vector<T>(items: readonly T[] | null, writeItem: (w: JuteWriter, item: T) => void): this {
    if (items === null) return this.int(-1)
    this.int(items.length)
    for (const item of items) writeItem(this, item)
    return this
  }

  /** Raw bytes, no length prefix. */
  raw(v: Uint8Array): this {
    this.ensure(v.length)
    this.buf.set(v, this.len)
    this.len += v.length
    return this
  }

  /** Overwrites an int32 already written at `offset` (for length prefixes). */
  setInt(offset: number, v: number): void {
    if (offset < 0 || offset + 4 > this.len) throw new RangeError(`setInt at ${offset} outside the ${this.len} written bytes`)
    this.view.setInt32(offset, v)
  }

  /** A copy of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}
