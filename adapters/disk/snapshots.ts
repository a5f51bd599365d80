/**
 * State-machine snapshots (the ZooKeeper server's znode tree): opaque bytes tagged with the zxid
 * they cover, one file each, written atomically.
 *
 *   file   := `snapshot.<zxid as 16 hex digits>`
 *   layout := "SQSN" version:u8 (=1) 0:u24 zxid:u64be length:u64be crc32(payload):u32be
 *             crc32(previous 28 bytes):u32be payload
 *
 * Written as `<file>.tmp`, fsynced, renamed over `<file>`, then the directory is fsynced: a
 * snapshot file that exists is complete unless the disk corrupted it, which the checksums catch.
 */
import * as path from "node:path"
import { crc32 } from "node:zlib"
import { writeFileAtomic, type FileSystem } from "./fs.ts"

export const SNAPSHOT_HEADER_BYTES = 32
const MAGIC = [0x53, 0x51, 0x53, 0x4e] // "SQSN"
const VERSION = 1
const SNAP_RE = /^snapshot\.([0-9a-f]{16})$/
const TMP_RE = /^snapshot\.[0-9a-f]{16}\.tmp$/

export interface Snapshot {
  zxid: number
  bytes: Uint8Array
}

export const snapshotName = (zxid: number): string => `snapshot.${zxid.toString(16).padStart(16, "0")}`

/** Snapshot files in `dir` (not validated), oldest first. */
export function listSnapshots(fs: FileSystem, dir: string): { name: string; zxid: number }[] {
  return fs
    .list(dir)
    .flatMap((name) => {
      const m = SNAP_RE.exec(name)
      return m ? [{ name, zxid: Number.parseInt(m[1]!, 16) }] : []
    })
    .sort((a, b) => a.zxid - b.zxid)
}

/** Atomically writes the snapshot for `zxid` (replacing one with the same zxid). Durable on return. */
export function writeSnapshot(fs: FileSystem, dir: string, zxid: number, bytes: Uint8Array): string {
  if (!Number.isSafeInteger(zxid) || zxid < 0) throw new RangeError(`snapshot zxid must be a non-negative safe integer: ${zxid}`)
  const out = new Uint8Array(SNAPSHOT_HEADER_BYTES + bytes.length)
  const v = new DataView(out.buffer)
  out.set(MAGIC, 0)
  out[4] = VERSION
  v.setUint32(8, Math.floor(zxid / 2 ** 32))
  v.setUint32(12, zxid >>> 0)
  v.setUint32(16, Math.floor(bytes.length / 2 ** 32))
  v.setUint32(20, bytes.length >>> 0)
  v.setUint32(24, crc32(bytes))
  v.setUint32(28, crc32(out.subarray(0, 28)))
  out.set(bytes, SNAPSHOT_HEADER_BYTES)
  const name = snapshotName(zxid)
  writeFileAtomic(fs, dir, name, out)
  return name
}

/** Parses and verifies a snapshot file; returns why it is invalid otherwise. */
export function readSnapshot(fs: FileSystem, dir: string, name: string): Snapshot | { invalid: string } {
  const m = SNAP_RE.exec(name)
  if (!m) return { invalid: "not a snapshot file name" }
  const b = fs.readFile(path.join(dir, name))
  if (b.length < SNAPSHOT_HEADER_BYTES) return { invalid: `file is ${b.length} bytes, shorter than the header` }
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  if (v.getUint32(28) !== crc32(b.subarray(0, 28))) return { invalid: "header checksum mismatch" }
  if (MAGIC.some((x, i) => b[i] !== x) || b[4] !== VERSION) return { invalid: "wrong magic or version" }
  const zxid = v.getUint32(8) * 2 ** 32 + v.getUint32(12)
  if (zxid !== Number.parseInt(m[1]!, 16)) return { invalid: `header says zxid ${zxid}` }
  const len = v.getUint32(16) * 2 ** 32 + v.getUint32(20)
  if (b.length !== SNAPSHOT_HEADER_BYTES + len) return { invalid: `payload is ${b.length - SNAPSHOT_HEADER_BYTES} bytes, header says ${len}` }
  const bytes = b.subarray(SNAPSHOT_HEADER_BYTES)
  if (crc32(bytes) !== v.getUint32(24)) return { invalid: "payload checksum mismatch" }
  return { zxid, bytes }
}

/**
 * The newest snapshot that verifies, skipping (and reporting, not deleting) newer invalid ones.
 */
export function latestValidSnapshot(fs: FileSystem, dir: string): { snapshot?: Snapshot; skipped: { name: string; why: string }[] } {
  const skipped: { name: string; why: string }[] = []
  for (const { name } of listSnapshots(fs, dir).reverse()) {
    const r = readSnapshot(fs, dir, name)
    if ("invalid" in r) skipped.push({ name, why: r.invalid })
    else return { snapshot: r, skipped }
  }
  return { skipped }
}

/**
 * Keeps the newest `keep` (>= 1) valid snapshots and every snapshot whose zxid is in `pinned`
 * (whatever its state: a pinned snapshot is still needed, so even a damaged one is evidence),
 * and deletes every other snapshot file: older ones, invalid ones newer than the oldest kept
 * one, and leftover `*.tmp` files. Never deletes the newest valid snapshot. Returns the deleted
 * names.
 */
export function purgeSnapshots(fs: FileSystem, dir: string, keep: number, pinned: ReadonlySet<number> = new Set()): string[] {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`purgeSnapshots keeps at least 1 snapshot (got ${keep})`)
  const removed: string[] = []
  let kept = 0
  for (const { name, zxid } of listSnapshots(fs, dir).reverse()) {
    if (kept < keep && !("invalid" in readSnapshot(fs, dir, name))) kept++
    else if (!pinned.has(zxid)) removed.push(name)
  }
  if (kept === 0) return [] // nothing valid: leave the evidence alone
  for (const name of fs.list(dir).filter((n) => TMP_RE.test(n))) removed.push(name)
  for (const name of removed) fs.unlink(path.join(dir, name))
  if (removed.length > 0) fs.fsyncDir(dir)
  return removed
}
