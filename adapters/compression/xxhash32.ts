/**
 * XXH32, the checksum of the LZ4 frame format (header checksum, block and content checksums).
 * Written here because it is small and the LZ4 packages on npm either hide theirs or pull in a
 * 64-bit integer library for it.
 */

const PRIME1 = 0x9e3779b1
const PRIME2 = 0x85ebca77
const PRIME3 = 0xc2b2ae3d
const PRIME4 = 0x27d4eb2f
const PRIME5 = 0x165667b1

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))

const readU32 = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)

const round = (acc: number, lane: number): number => Math.imul(rotl((acc + Math.imul(lane, PRIME2)) | 0, 13), PRIME1)

/** XXH32 of `b[start..end)`, as an unsigned 32-bit number. */
export function xxhash32(b: Uint8Array, start = 0, end = b.length, seed = 0): number {
  const length = end - start
  let i = start
  let h: number
  if (length >= 16) {
    let v1 = (seed + PRIME1 + PRIME2) | 0
    let v2 = (seed + PRIME2) | 0
    let v3 = seed | 0
    let v4 = (seed - PRIME1) | 0
    for (const last = end - 16; i <= last; i += 16) {
      v1 = round(v1, readU32(b, i))
      v2 = round(v2, readU32(b, i + 4))
      v3 = round(v3, readU32(b, i + 8))
      v4 = round(v4, readU32(b, i + 12))
    }
    h = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0
  } else {
    h = (seed + PRIME5) | 0
  }
  h = (h + length) | 0
  for (; i + 4 <= end; i += 4) h = Math.imul(rotl((h + Math.imul(readU32(b, i), PRIME3)) | 0, 17), PRIME4)
  for (; i < end; i++) h = Math.imul(rotl((h + Math.imul(b[i]!, PRIME5)) | 0, 11), PRIME1)
  h ^= h >>> 15
  h = Math.imul(h, PRIME2)
  h ^= h >>> 13
  h = Math.imul(h, PRIME3)
  h ^= h >>> 16
  return h >>> 0
}
