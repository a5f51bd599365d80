/**
 * LZ4 as Kafka puts it in a record batch: one LZ4 frame (https://github.com/lz4/lz4/blob/dev/doc/lz4_Frame_format.md).
 *
 * The encoder writes what the Java client's KafkaLZ4BlockOutputStream writes: FLG version 01 with
 * independent blocks and no checksums, BD 64 KiB blocks, the header checksum over FLG..BD, each
 * block as an int32 LE size (high bit: stored uncompressed) then its bytes, and a zero end mark.
 * The Java reader refuses dependent blocks, so the encoder never makes them.
 *
 * The decoder takes any frame the format allows (dependent blocks, content size, block and
 * content checksums, 64 KiB .. 4 MiB blocks, skippable frames, several frames back to back),
 * since other clients choose differently: kafkajs-lz4 writes 4 MiB blocks with a content checksum.
 *
 * The block codec is written here rather than taken from lz4js: lz4js's compressor lets a match
 * start within the last 12 bytes of a block, which the reference decoder (and so the Java client)
 * rejects as corrupt, and its decompressor never checks bounds, so corrupt input decodes to garbage.
 */
import { xxhash32 } from "./xxhash32.ts"

const FRAME_MAGIC = 0x184d2204
const SKIPPABLE_MAGIC_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
const UNCOMPRESSED_BLOCK = 0x80000000

const MIN_MATCH = 4
/** The format's end-of-block rules: the last 5 bytes are literals, the last match starts 12 bytes before the end. */
const LAST_LITERALS = 5
const MATCH_START_MARGIN = 12
const MAX_OFFSET = 65535
const HASH_BITS = 14
/** After 2^6 misses in a row the search steps 2 bytes at a time, then 3..., so incompressible input is crossed fast. */
const SKIP_TRIGGER = 6

/** The block size Kafka's Java client writes (BD = 4 << 4). */
export const KAFKA_BLOCK_BYTES = 64 * 1024
const BLOCK_MAX_BYTES: Readonly<Record<number, number>> = { 4: 64 << 10, 5: 256 << 10, 6: 1 << 20, 7: 4 << 20 }
const KAFKA_FLG = 0b0110_0000
const KAFKA_BD = 4 << 4

/** A block of `n` bytes compresses to at most this many. */
export const compressBound = (n: number): number => n + Math.floor(n / 255) + 16

const readU32 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)
const readU32LE = (b: Uint8Array, i: number): number => readU32(b, i) >>> 0

function writeU32LE(b: Uint8Array, i: number, v: number): void {
  b[i] = v
  b[i + 1] = v >>> 8
  b[i + 2] = v >>> 16
  b[i + 3] = v >>> 24
}

function corrupt(what: string): never {
  throw new Error(`LZ4: ${what}`)
}

function writeLength(dst: Uint8Array, dp: number, extra: number): number {
  for (; extra >= 255; extra -= 255) dst[dp++] = 255
  dst[dp++] = extra
  return dp
}

function copyLiterals(dst: Uint8Array, dp: number, src: Uint8Array, from: number, to: number): number {
  // Short runs dominate; a call into set() costs more than a loop over a few bytes.
  if (to - from > 32) dst.set(src.subarray(from, to), dp)
  else for (let i = from, o = dp; i < to; ) dst[o++] = src[i++]!
  return dp + to - from
}

/**
 * Compresses `src[start..end)` into `dst` from index 0 (which must hold `compressBound(end -
 * start)` bytes) and returns the compressed length. Matches stay inside the block, so blocks
 * are independent. `hashTable` is scratch; what an earlier call left in it is harmless, because
 * every candidate is checked against the bytes.
 */
export function compressBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, hashTable: Int32Array): number {
  let dp = 0
  let anchor = start
  if (end - start > MATCH_START_MARGIN) {
    const lastMatchStart = end - MATCH_START_MARGIN
    const matchEndLimit = end - LAST_LITERALS
    let ip = start
    search: for (;;) {
      let ref = 0
      let attempts = 1 << SKIP_TRIGGER
      for (;;) {
        if (ip > lastMatchStart) break search
        const sequence = readU32(src, ip)
        const slot = Math.imul(sequence, 2654435761) >>> (32 - HASH_BITS)
        ref = hashTable[slot]!
        hashTable[slot] = ip
        if (ref >= start && ref < ip && ip - ref <= MAX_OFFSET && readU32(src, ref) === sequence) break
        ip += attempts++ >>> SKIP_TRIGGER
      }
      while (ip > anchor && ref > start && src[ip - 1] === src[ref - 1]) {
        ip--
        ref--
      }
      let matchEnd = ip + MIN_MATCH
      for (let r = ref + MIN_MATCH; matchEnd < matchEndLimit && src[matchEnd] === src[r]; r++) matchEnd++

      const literals = ip - anchor
      const matchExtra = matchEnd - ip - MIN_MATCH
      const tokenAt = dp++
      let token = literals >= 15 ? 0xf0 : literals << 4
      if (literals >= 15) dp = writeLength(dst, dp, literals - 15)
      dp = copyLiterals(dst, dp, src, anchor, ip)
      const offset = ip - ref
      dst[dp++] = offset
      dst[dp++] = offset >>> 8
      if (matchExtra >= 15) {
        token |= 15
        dp = writeLength(dst, dp, matchExtra - 15)
      } else {
        token |= matchExtra
      }
      dst[tokenAt] = token
      anchor = ip = matchEnd
      // The position two back is likely to start the next repeat; the reference encoder indexes it too.
      if (ip - 2 > start) hashTable[Math.imul(readU32(src, ip - 2), 2654435761) >>> (32 - HASH_BITS)] = ip - 2
    }
  }
  const literals = end - anchor
  if (literals >= 15) {
    dst[dp++] = 0xf0
    dp = writeLength(dst, dp, literals - 15)
  } else {
    dst[dp++] = literals << 4
  }
  return copyLiterals(dst, dp, src, anchor, end)
}

/**
 * Decompresses the block `src[start..end)` into `dst` from `at`, writing nothing at or past
 * `limit`; matches may reach back to `windowStart` (earlier blocks, for dependent blocks).
 * Returns the index after the last byte written. Throws on any malformed sequence.
 */
export function decompressBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array, at: number, limit: number, windowStart: number): number {
  let sp = start
  let dp = at
  for (;;) {
    if (sp >= end) corrupt("block ends inside a sequence")
    const token = src[sp++]!
    let literals = token >>> 4
    if (literals === 15) {
      let b: number
      do {
        if (sp >= end) corrupt("block ends inside a literal length")
        b = src[sp++]!
        literals += b
      } while (b === 255)
    }
    if (literals > end - sp) corrupt("literals run past the block")
    if (literals > limit - dp) corrupt("block decompresses past its maximum size")
    dp = copyLiterals(dst, dp, src, sp, sp + literals)
    sp += literals
    if (sp === end) return dp
    if (end - sp < 2) corrupt("block ends inside a match offset")
    const offset = src[sp]! | (src[sp + 1]! << 8)
    sp += 2
    if (offset === 0 || offset > dp - windowStart) corrupt(`match offset ${offset} reaches before the window`)
    let length = token & 15
    if (length === 15) {
      let b: number
      do {
        if (sp >= end) corrupt("block ends inside a match length")
        b = src[sp++]!
        length += b
      } while (b === 255)
    }
    length += MIN_MATCH
    if (length > limit - dp) corrupt("block decompresses past its maximum size")
    let from = dp - offset
    if (offset >= length && length > 32) {
      dst.copyWithin(dp, from, from + length)
      dp += length
    } else {
      // Overlapping copies repeat the last `offset` bytes, which is what a byte loop does.
      for (const stop = dp + length; dp < stop; ) dst[dp++] = dst[from++]!
    }
  }
}

const scratchBlock = new Uint8Array(compressBound(KAFKA_BLOCK_BYTES))
const scratchHashTable = new Int32Array(1 << HASH_BITS)

/** An LZ4 frame of `src` as the Java client writes it (see the file comment). */
export function compressFrame(src: Uint8Array): Uint8Array {
  const blocks = Math.ceil(src.length / KAFKA_BLOCK_BYTES)
  const out = new Uint8Array(7 + src.length + 4 * blocks + 4)
  writeU32LE(out, 0, FRAME_MAGIC)
  out[4] = KAFKA_FLG
  out[5] = KAFKA_BD
  out[6] = (xxhash32(out, 4, 6) >>> 8) & 0xff
  let op = 7
  for (let at = 0; at < src.length; at += KAFKA_BLOCK_BYTES) {
    const end = Math.min(at + KAFKA_BLOCK_BYTES, src.length)
    const compressed = compressBlock(src, at, end, scratchBlock, scratchHashTable)
    if (compressed < end - at) {
      writeU32LE(out, op, compressed)
      out.set(scratchBlock.subarray(0, compressed), op + 4)
      op += 4 + compressed
    } else {
      writeU32LE(out, op, (end - at) | UNCOMPRESSED_BLOCK)
      out.set(src.subarray(at, end), op + 4)
      op += 4 + end - at
    }
  }
  writeU32LE(out, op, 0)
  return out.subarray(0, op + 4)
}

/** The content of one or more LZ4 frames (see the file comment for what is accepted). */
export function decompressFrame(src: Uint8Array): Uint8Array {
  if (src.length === 0) corrupt("no frame")
  let out = new Uint8Array(0)
  let op = 0
  const reserve = (bytes: number): void => {
    if (op + bytes <= out.length) return
    const grown = new Uint8Array(Math.max(op + bytes, out.length * 2))
    grown.set(out.subarray(0, op))
    out = grown
  }
  let sp = 0
  while (sp < src.length) {
    if (src.length - sp < 4) corrupt("truncated frame magic")
    const magic = readU32LE(src, sp)
    if (((magic & SKIPPABLE_MAGIC_MASK) >>> 0) === SKIPPABLE_MAGIC) {
      if (src.length - sp < 8) corrupt("truncated skippable frame")
      const size = readU32LE(src, sp + 4)
      if (size > src.length - sp - 8) corrupt("skippable frame runs past the input")
      sp += 8 + size
      continue
    }
    if (magic !== FRAME_MAGIC) corrupt(`bad frame magic 0x${magic.toString(16)}`)
    sp += 4
    if (src.length - sp < 3) corrupt("truncated frame descriptor")
    const flg = src[sp]!
    const bd = src[sp + 1]!
    if (flg >>> 6 !== 1) corrupt(`frame version ${flg >>> 6}`)
    if ((flg & 0b10) !== 0 || (bd & 0b1000_1111) !== 0) corrupt("reserved descriptor bits set")
    const maxBlock = BLOCK_MAX_BYTES[(bd >>> 4) & 7] ?? corrupt(`block size code ${(bd >>> 4) & 7}`)
    const independent = (flg & 0x20) !== 0
    const blockChecksums = (flg & 0x10) !== 0
    const hasContentSize = (flg & 0x08) !== 0
    const contentChecksum = (flg & 0x04) !== 0
    if ((flg & 0x01) !== 0) corrupt("frames that need a dictionary are not supported")
    const descriptorEnd = sp + 2 + (hasContentSize ? 8 : 0)
    if (descriptorEnd >= src.length) corrupt("truncated frame descriptor")
    if (src[descriptorEnd] !== ((xxhash32(src, sp, descriptorEnd) >>> 8) & 0xff)) corrupt("frame header checksum mismatch")
    let contentSize = -1
    if (hasContentSize) {
      const high = readU32LE(src, sp + 6)
      if (high >= 1 << 21) corrupt("content size beyond 2^53")
      contentSize = high * 2 ** 32 + readU32LE(src, sp + 2)
      // No block expands more than ~255 times, so a bigger claim is corrupt, not a reason to allocate.
      if (contentSize > src.length * 255) corrupt(`content size ${contentSize} is more than ${src.length} bytes can hold`)
    }
    reserve(contentSize >= 0 ? contentSize : (src.length - sp) * 3)
    sp = descriptorEnd + 1
    const frameStart = op
    for (;;) {
      if (src.length - sp < 4) corrupt("truncated block size")
      const word = readU32LE(src, sp)
      sp += 4
      if (word === 0) break
      const size = word & 0x7fffffff
      if (size > maxBlock) corrupt(`block of ${size} bytes in a frame of ${maxBlock}-byte blocks`)
      if (size > src.length - sp) corrupt("block runs past the input")
      if (word >>> 31 === 1) {
        reserve(size)
        out.set(src.subarray(sp, sp + size), op)
        op += size
      } else {
        // A compressed byte expands to at most ~255, so small blocks of big-block frames reserve little.
        const room = Math.min(maxBlock, size * 255 + 32)
        reserve(room)
        op = decompressBlock(src, sp, sp + size, out, op, op + room, independent ? op : frameStart)
      }
      sp += size
      if (blockChecksums) {
        if (src.length - sp < 4) corrupt("truncated block checksum")
        if (readU32LE(src, sp) !== xxhash32(src, sp - size, sp)) corrupt("block checksum mismatch")
        sp += 4
      }
    }
    if (contentChecksum) {
      if (src.length - sp < 4) corrupt("truncated content checksum")
      if (readU32LE(src, sp) !== xxhash32(out, frameStart, op)) corrupt("content checksum mismatch")
      sp += 4
    }
    if (contentSize >= 0 && op - frameStart !== contentSize) corrupt(`frame holds ${op - frameStart} bytes, its header says ${contentSize}`)
  }
  return out.subarray(0, op)
}
