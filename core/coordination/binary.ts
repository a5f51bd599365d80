/**
 * The byte layer shared by the transaction codec and tree snapshots: LEB128 varints (zig-zag for
 * signed values), length-prefixed bytes and UTF-8 strings.
 *
 * The reader treats its input as hostile: every length is checked against the bytes that remain
 * before anything is allocated, varints are bounded in length and value and must be minimal, and
 * every failure is a `DecodeError`. Minimal varints make the encoding canonical, so equal values
 * always have equal bytes (snapshot digests rely on that).
 */
import { assert } from "../consensus/assert.ts"

export class DecodeError extends Error {
  override readonly name = "DecodeError"
}

const TWO_64 = 1n << 64n
const utf8 = new TextEncoder()
// ignoreBOM keeps a leading U+FEFF in the string instead of silently eating it.
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/** True when `s` has no lone surrogate, i.e. it survives a UTF-8 round trip unchanged. */
export function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1)
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false
      i++
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false
    }
  }
  return true
}

export class Writer {
  private buf = new Uint8Array(64)
  private len = 0

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }

  u8(n: number): void {
    assert(Number.isInteger(n) && n >= 0 && n <= 0xff, `u8 out of range: ${n}`)
    this.reserve(1)
    this.buf[this.len++] = n
  }

  /** A non-negative safe integer. */
  uvar(n: number): void {
    assert(Number.isSafeInteger(n) && n >= 0, `uvar needs a non-negative safe integer, got ${n}`)
    this.reserve(8)
    while (n >= 0x80) {
      this.buf[this.len++] = (n % 0x80) | 0x80
      n = Math.floor(n / 0x80)
    }
    this.buf[this.len++] = n
  }

  /** Any safe integer, zig-zag encoded so small negatives stay short. */
  svar(n: number): void {
    assert(Number.isSafeInteger(n), `svar needs a safe integer, got ${n}`)
    const b = BigInt(n)
    this.bigUvar(b >= 0n ? b << 1n : (-b << 1n) - 1n)
  }

  /** An unsigned 64-bit integer. */
  bigUvar(x: bigint): void {
    assert(x >= 0n && x < TWO_64, `bigUvar needs 0 <= x < 2^64, got ${x}`)
    this.reserve(10)
    while (x >= 0x80n) {
      this.buf[this.len++] = Number(x & 0x7fn) | 0x80
      x >>= 7n
    }
    this.buf[this.len++] = Number(x)
  }

  bytes(b: Uint8Array): void {
    this.uvar(b.length)
    this.reserve(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
  }

  str(s: string): void {
    assert(isWellFormed(s), "strings must be well-formed UTF-16 to round-trip through UTF-8")
    this.bytes(utf8.encode(s))
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}

export class Reader {
  private pos = 0

  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.pos
  }

  u8(): number {
    if (this.pos >= this.buf.length) throw new DecodeError(`truncated at byte ${this.pos}`)
    return this.buf[this.pos++]!
  }

  /** Raw varint digits, at most `maxBytes` of them, rejecting non-minimal encodings. */
  private varint(maxBytes: number): bigint {
    let x = 0n
    for (let i = 0; i < maxBytes; i++) {
      const b = this.u8()
      x |= BigInt(b & 0x7f) << BigInt(7 * i)
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw new DecodeError(`non-minimal varint before byte ${this.pos}`)
        return x
      }
    }
    throw new DecodeError(`varint longer than ${maxBytes} bytes before byte ${this.pos}`)
  }

  uvar(): number {
    const x = this.varint(8)
    if (x > BigInt(Number.MAX_SAFE_INTEGER)) throw new DecodeError(`varint ${x} is not a safe integer`)
    return Number(x)
  }

  svar(): number {
    const z = this.varint(8)
    const x = (z & 1n) === 0n ? z >> 1n : -((z + 1n) >> 1n)
    if (x > BigInt(Number.MAX_SAFE_INTEGER) || x < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new DecodeError(`signed varint ${x} is not a safe integer`)
    }
    return Number(x)
  }

  bigUvar(): bigint {
    const x = this.varint(10)
    if (x >= TWO_64) throw new DecodeError(`varint ${x} exceeds 64 bits`)
    return x
  }

  /** A copy, so decoded values never alias the input buffer. */
  bytes(): Uint8Array {
    const n = this.uvar()
    if (n > this.remaining) throw new DecodeError(`length ${n} exceeds the ${this.remaining} bytes left`)
    const out = this.buf.slice(this.pos, this.pos + n)
    this.pos += n
    return out
  }

  str(): string {
    try {
      return utf8Strict.decode(this.bytes())
    } catch (e) {
      if (e instanceof DecodeError) throw e
      throw new DecodeError(`invalid UTF-8 before byte ${this.pos}`)
    }
  }

  /** An element count; every element takes at least `minBytes`, which bounds it by what is left. */
  count(minBytes = 1): number {
    const n = this.uvar()
    if (n * minBytes > this.remaining) throw new DecodeError(`count ${n} exceeds the ${this.remaining} bytes left`)
    return n
  }

  end(): void {
    if (this.remaining !== 0) throw new DecodeError(`${this.remaining} trailing bytes`)
  }
}
