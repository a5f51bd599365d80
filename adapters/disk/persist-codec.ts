/**
 * Binary encoding of the consensus core's `Persist` records (one per step), as stored in the
 * transaction log. Compact: a version byte, a presence-flags byte, unsigned LEB128 varints for
 * numbers, and for `append` a count followed by (zxid, length-prefixed data) per transaction,
 * zxids delta-encoded when they increase (they always do in practice, so a zxid costs ~1 byte).
 *
 *   record  := version:u8 (=1) flags:u8 [base] [currentEpoch] [acceptedEpoch] [truncateTo] [append] [commitIndex]
 *   base    := index:varint (>= 1) zxid:varint
 *   append  := count:varint { zxid:varint  dataLength:varint  data:bytes }*
 *   flags   := 1 currentEpoch | 2 acceptedEpoch | 4 truncateTo | 8 append | 16 commitIndex
 *              | 32 zxids are deltas from the previous one (the first from 0) | 64 base
 *
 * `base` stores the snapshot's position and zxid only: its data (the whole application state)
 * lives in the snapshot file `snapshot.<zxid>` (`snapshots.ts`), which `NodeStorage` writes
 * before the record and reads back on recovery. So a decoded base carries `BASE_DATA_PLACEHOLDER`
 * (empty) as its data until the storage resolves it. Flag 64 came after the first records were
 * written: older records never set it and decode as before, while an older decoder refuses a
 * record with a base (unknown flag) instead of silently dropping the base.
 *
 * Numbers must be non-negative safe integers (zxids are below 2^52). Decoding is strict: an
 * unknown version or flag, a truncated field or trailing bytes throw `PersistCodecError`.
 */
import type { Durable, Persist, Snapshot, Txn } from "../../core/consensus/types.ts"

export class PersistCodecError extends Error {
  override readonly name = "PersistCodecError"
}

const VERSION = 1
const F_CURRENT = 1
const F_ACCEPTED = 2
const F_TRUNCATE = 4
const F_APPEND = 8
const F_COMMIT = 16
const F_DELTA = 32
const F_BASE = 64
const KNOWN = F_CURRENT | F_ACCEPTED | F_TRUNCATE | F_APPEND | F_COMMIT | F_DELTA | F_BASE

/**
 * The data of every base `decodePersist` returns: the record does not hold it (see the header).
 * One shared empty array, so a base not yet resolved can be told by identity.
 */
export const BASE_DATA_PLACEHOLDER: Uint8Array = new Uint8Array(0)

class Writer {
  buf = new Uint8Array(64)
  len = 0
  private ensure(n: number): void {
    if (this.len + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.len + n) cap *= 2
    const b = new Uint8Array(cap)
    b.set(this.buf.subarray(0, this.len))
    this.buf = b
  }
  byte(b: number): void {
    this.ensure(1)
    this.buf[this.len++] = b
  }
  varint(n: number, what: string): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new PersistCodecError(`${what} is not a non-negative safe integer: ${n}`)
    this.ensure(8)
    while (n >= 0x80) {
      this.buf[this.len++] = (n % 0x80) | 0x80
      n = Math.floor(n / 0x80)
    }
    this.buf[this.len++] = n
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}

class Reader {
  pos = 0
  constructor(readonly buf: Uint8Array) {}
  byte(what: string): number {
    const b = this.buf[this.pos]
    if (b === undefined) throw new PersistCodecError(`truncated record: missing ${what}`)
    this.pos++
    return b
  }
  varint(what: string): number {
    let n = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      const b = this.byte(what)
      n += (b & 0x7f) * scale
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(n)) throw new PersistCodecError(`${what} out of range`)
        return n
      }
      scale *= 0x80
    }
    throw new PersistCodecError(`${what}: varint too long`)
  }
  bytes(n: number, what: string): Uint8Array {
    if (this.pos + n > this.buf.length) throw new PersistCodecError(`truncated record: ${what} needs ${n} bytes`)
    const out = this.buf.slice(this.pos, this.pos + n)
    this.pos += n
    return out
  }
}

export function encodePersist(p: Persist): Uint8Array {
  const w = new Writer()
  const append = p.append
  let delta = append !== undefined
  if (append !== undefined) for (let i = 1; i < append.length; i++) if (!(append[i]!.zxid > append[i - 1]!.zxid)) delta = false
  const flags =
    (p.base !== undefined ? F_BASE : 0) |
    (p.currentEpoch !== undefined ? F_CURRENT : 0) |
    (p.acceptedEpoch !== undefined ? F_ACCEPTED : 0) |
    (p.truncateTo !== undefined ? F_TRUNCATE : 0) |
    (append !== undefined ? F_APPEND : 0) |
    (p.commitIndex !== undefined ? F_COMMIT : 0) |
    (delta ? F_DELTA : 0)
  w.byte(VERSION)
  w.byte(flags)
  if (p.base !== undefined) {
    // A base stands for at least one transaction (Snapshot.index is positive).
    if (!(p.base.index >= 1)) throw new PersistCodecError(`base index must be at least 1: ${p.base.index}`)
    w.varint(p.base.index, "base index")
    w.varint(p.base.zxid, "base zxid")
  }
  if (p.currentEpoch !== undefined) w.varint(p.currentEpoch, "currentEpoch")
  if (p.acceptedEpoch !== undefined) w.varint(p.acceptedEpoch, "acceptedEpoch")
  if (p.truncateTo !== undefined) w.varint(p.truncateTo, "truncateTo")
  if (append !== undefined) {
    w.varint(append.length, "append count")
    let prev = 0
    for (const t of append) {
      w.varint(delta ? t.zxid - prev : t.zxid, "zxid")
      prev = t.zxid
      w.varint(t.data.length, "data length")
      w.bytes(t.data)
    }
  }
  if (p.commitIndex !== undefined) w.varint(p.commitIndex, "commitIndex")
  return w.done()
}

/** Decodes a record; a base's data is `BASE_DATA_PLACEHOLDER` (the storage reads the snapshot file). */
export function decodePersist(bytes: Uint8Array): Persist {
  const r = new Reader(bytes)
  const version = r.byte("version")
  if (version !== VERSION) throw new PersistCodecError(`unknown Persist record version ${version}`)
  const flags = r.byte("flags")
  if ((flags & ~KNOWN) !== 0) throw new PersistCodecError(`unknown Persist flags 0x${flags.toString(16)}`)
  if ((flags & F_DELTA) !== 0 && (flags & F_APPEND) === 0) throw new PersistCodecError("delta flag without append")
  const out: {
    _tag: "Persist"
    base?: Snapshot
    currentEpoch?: number
    acceptedEpoch?: number
    truncateTo?: number
    append?: Txn[]
    commitIndex?: number
  } = { _tag: "Persist" }
  if (flags & F_BASE) {
    const index = r.varint("base index")
    if (index < 1) throw new PersistCodecError("base index 0")
    out.base = { index, zxid: r.varint("base zxid"), data: BASE_DATA_PLACEHOLDER }
  }
  if (flags & F_CURRENT) out.currentEpoch = r.varint("currentEpoch")
  if (flags & F_ACCEPTED) out.acceptedEpoch = r.varint("acceptedEpoch")
  if (flags & F_TRUNCATE) out.truncateTo = r.varint("truncateTo")
  if (flags & F_APPEND) {
    const n = r.varint("append count")
    // Each transaction takes at least 2 bytes: refuse counts the record cannot hold.
    if (n * 2 > bytes.length - r.pos) throw new PersistCodecError(`append count ${n} exceeds the record`)
    const txns: Txn[] = []
    let prev = 0
    for (let i = 0; i < n; i++) {
      let zxid = r.varint("zxid")
      if (flags & F_DELTA) {
        zxid += prev
        if (!Number.isSafeInteger(zxid)) throw new PersistCodecError("zxid out of range")
      }
      prev = zxid
      const len = r.varint("data length")
      txns.push({ zxid, data: r.bytes(len, "data") })
    }
    out.append = txns
  }
  if (flags & F_COMMIT) out.commitIndex = r.varint("commitIndex")
  if (r.pos !== bytes.length) throw new PersistCodecError(`${bytes.length - r.pos} trailing bytes after the record`)
  return out
}

/**
 * A whole durable state as `Persist` records whose fold is exactly `d`: the first sets the base
 * (if any), truncates to it (to 0 without one) and sets the epochs, the log after the base is
 * split into chunks of about `chunkBytes` of data, and the last sets `commitIndex`. Used to
 * compact the log into its folded state, so the compacted entries leave the disk. The fold is
 * `d` from the empty state and, with a base, from any state (the truncation to the base drops
 * whatever followed); a state without a base cannot be reached from one with a base.
 */
export function durableToPersists(d: Durable, chunkBytes = 1 << 20): Persist[] {
  const out: Persist[] = []
  let chunk: Txn[] = []
  let size = 0
  const push = (last: boolean): void => {
    const first = out.length === 0
    out.push({
      _tag: "Persist",
      ...(first && d.base !== undefined ? { base: d.base } : {}),
      ...(first ? { truncateTo: d.base?.index ?? 0, currentEpoch: d.currentEpoch, acceptedEpoch: d.acceptedEpoch } : {}),
      append: chunk,
      ...(last ? { commitIndex: d.commitIndex } : {}),
    })
    chunk = []
    size = 0
  }
  for (const t of d.log) {
    if (chunk.length > 0 && size + t.data.length > chunkBytes) push(false)
    chunk.push(t)
    size += t.data.length + 16
  }
  push(true)
  return out
}
