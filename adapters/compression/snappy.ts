/**
 * Snappy as Kafka clients put it in a record batch. The Java client writes snappy-java's "xerial"
 * stream (SnappyOutputStream): a 16-byte header, magic 0x82 "SNAPPY" 0x00 then int32 BE version 1
 * and compatible version 1, then for each 32 KiB of input an int32 BE length and a raw snappy
 * block. kafkajs-snappy and some librdkafka builds send one raw snappy block instead, so the
 * decoder takes both (and, as snappy-java does, xerial streams concatenated).
 *
 * Blocks are compressed by snappyjs. They are decompressed here, because snappyjs's decoder
 * checks neither the declared length nor where copies land: corrupt input comes back as
 * zero-padded garbage instead of an error.
 */
import snappy from "snappyjs"

const XERIAL_MAGIC = [0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00] as const
const XERIAL_HEADER_BYTES = 16
/** snappy-java's SnappyOutputStream.DEFAULT_BLOCK_SIZE, which Kafka's SnappyFactory keeps. */
export const XERIAL_BLOCK_BYTES = 32 * 1024
/**
 * A snappy element yields at most 64 bytes from 3 (a 2-byte-offset copy), so no valid block
 * expands more than this; a bigger declared length is corrupt and is not allocated.
 */
const MAX_EXPANSION = 22

function corrupt(what: string): never {
  throw new Error(`snappy: ${what}`)
}

const startsWithXerialMagic = (b: Uint8Array, at: number): boolean =>
  b.length - at >= XERIAL_MAGIC.length && XERIAL_MAGIC.every((m, i) => b[at + i] === m)

/** A xerial stream of `src`, as snappy-java's SnappyOutputStream writes it. */
export function compressXerial(src: Uint8Array): Uint8Array {
  const blocks: Uint8Array[] = []
  let total = XERIAL_HEADER_BYTES
  for (let at = 0; at < src.length; at += XERIAL_BLOCK_BYTES) {
    const block = snappy.compress(src.subarray(at, Math.min(at + XERIAL_BLOCK_BYTES, src.length)))
    blocks.push(block)
    total += 4 + block.length
  }
  const out = new Uint8Array(total)
  const view = new DataView(out.buffer)
  out.set(XERIAL_MAGIC)
  view.setInt32(8, 1)
  view.setInt32(12, 1)
  let op = XERIAL_HEADER_BYTES
  for (const block of blocks) {
    view.setInt32(op, block.length)
    out.set(block, op + 4)
    op += 4 + block.length
  }
  return out
}

/** A raw snappy block (no framing). */
export function compressRaw(src: Uint8Array): Uint8Array {
  return snappy.compress(src)
}

/** The declared uncompressed length of the raw block `src[start..end)`, and where its elements begin. */
function readPreamble(src: Uint8Array, start: number, end: number): { length: number; at: number } {
  let length = 0
  let at = start
  for (let shift = 0; ; shift += 7) {
    if (at >= end) corrupt("block ends inside its length")
    if (shift > 28) corrupt("block length takes more than 5 bytes")
    const b = src[at++]!
    length += (b & 0x7f) * 2 ** shift
    if (b < 0x80) break
  }
  if (length > (end - at) * MAX_EXPANSION) corrupt(`declared length ${length} is more than ${end - at} bytes can hold`)
  return { length, at }
}

/** Decodes the elements `src[at..end)` into `dst[dp..dp+length)`, which they must fill exactly. */
function decodeElements(src: Uint8Array, at: number, end: number, dst: Uint8Array, dp: number, length: number): void {
  const start = dp
  const stop = dp + length
  let sp = at
  while (sp < end) {
    const tag = src[sp++]!
    const type = tag & 3
    if (type === 0) {
      let n = (tag >>> 2) + 1
      if (n > 60) {
        const bytes = n - 60
        if (end - sp < bytes) corrupt("block ends inside a literal length")
        n = 0
        for (let i = 0; i < bytes; i++) n += src[sp + i]! * 2 ** (8 * i)
        n += 1
        sp += bytes
      }
      if (n > end - sp) corrupt("literal runs past the block")
      if (n > stop - dp) corrupt("literal runs past the declared length")
      for (const to = sp + n; sp < to; ) dst[dp++] = src[sp++]!
      continue
    }
    let n: number
    let offset: number
    if (type === 1) {
      if (end - sp < 1) corrupt("block ends inside a copy")
      n = ((tag >>> 2) & 7) + 4
      offset = ((tag >>> 5) << 8) | src[sp++]!
    } else if (type === 2) {
      if (end - sp < 2) corrupt("block ends inside a copy")
      n = (tag >>> 2) + 1
      offset = src[sp]! | (src[sp + 1]! << 8)
      sp += 2
    } else {
      if (end - sp < 4) corrupt("block ends inside a copy")
      n = (tag >>> 2) + 1
      offset = (src[sp]! | (src[sp + 1]! << 8) | (src[sp + 2]! << 16) | (src[sp + 3]! << 24)) >>> 0
      sp += 4
    }
    if (offset === 0 || offset > dp - start) corrupt(`copy offset ${offset} reaches before the block`)
    if (n > stop - dp) corrupt("copy runs past the declared length")
    // Overlapping copies (offset < n) repeat the last `offset` bytes, as a byte loop does.
    for (let from = dp - offset, to = dp + n; dp < to; ) dst[dp++] = dst[from++]!
  }
  if (dp !== stop) corrupt(`block holds ${dp - start} bytes, it declares ${length}`)
}

/** Decompresses a raw snappy block. */
export function decompressRaw(src: Uint8Array): Uint8Array {
  const { length, at } = readPreamble(src, 0, src.length)
  const out = new Uint8Array(length)
  decodeElements(src, at, src.length, out, 0, length)
  return out
}

/** Decompresses a xerial stream (or several back to back), a raw snappy block, or nothing (as snappy-java does). */
export function decompress(src: Uint8Array): Uint8Array {
  if (src.length === 0) return new Uint8Array(0)
  if (!startsWithXerialMagic(src, 0)) return decompressRaw(src)
  // Two passes: sizes first, so the output is allocated once.
  const blocks: { at: number; end: number; length: number }[] = []
  let total = 0
  let sp = 0
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength)
  while (sp < src.length) {
    if (startsWithXerialMagic(src, sp)) {
      if (src.length - sp < XERIAL_HEADER_BYTES) corrupt("truncated xerial header")
      sp += XERIAL_HEADER_BYTES
      continue
    }
    if (src.length - sp < 4) corrupt("truncated xerial block length")
    const size = view.getInt32(sp)
    sp += 4
    if (size < 0 || size > src.length - sp) corrupt(`xerial block of ${size} bytes runs past the input`)
    const { length, at } = readPreamble(src, sp, sp + size)
    blocks.push({ at, end: sp + size, length })
    total += length
    sp += size
  }
  const out = new Uint8Array(total)
  let op = 0
  for (const b of blocks) {
    // Decoding each block into its own small array, then copying, measured ~40% faster than
    // decoding in place into the big one (bench/compression.ts).
    const part = new Uint8Array(b.length)
    decodeElements(src, b.at, b.end, part, 0, b.length)
    out.set(part, op)
    op += b.length
  }
  return out
}
