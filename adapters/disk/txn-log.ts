/**
 * An append-only log of opaque records in segment files, with group commit, torn-tail recovery
 * and crash-safe compaction. See README.md for the layout and the fsync rules.
 *
 *   segment := header record*
 *   header  := "SQLG" version:u8 (=1) kind:u8 (1 base, 0 continuation) 0:u16 seq:u64be crc32(previous 16 bytes):u32be
 *   record  := length:u32le crc32(payload):u32le payload      (length >= 1)
 *
 * Segment files are `log.<seq as 16 hex digits>` and only ever appear by rename of a complete,
 * fsynced `*.tmp` file, so every segment has a valid header. A *base* segment starts a history:
 * recovery reads from the newest base segment to the newest segment and ignores (deletes)
 * anything older, which makes `rewrite` (compaction) atomic. Every segment but the newest is
 * closed: fsynced completely before its successor was created, so a bad record in it is
 * corruption (thrown), while a bad record in the newest one is a torn tail (truncated away).
 */
import * as path from "node:path"
import { crc32 } from "node:zlib"
import { ensureDir, type AppendHandle, type FileSystem } from "./fs.ts"

export class CorruptLogError extends Error {
  override readonly name = "CorruptLogError"
  constructor(
    message: string,
    readonly file: string,
    readonly offset: number,
  ) {
    super(message)
  }
}

export interface TxnLogOptions {
  /** Roll to a new segment once the current one holds at least this many bytes. Default 64 MiB. */
  segmentBytes?: number
}

export interface TxnLogRecovery {
  /** The payloads of the recovered history, in order. */
  records: Uint8Array[]
  /** Bytes cut from the end of the newest segment: a torn or unsynced tail (0 if clean). */
  truncatedBytes: number
  /** The segment that was truncated, if any. */
  truncatedSegment?: string
  /** Files deleted by recovery: leftover `*.tmp` files and segments superseded by a newer base. */
  removedFiles: string[]
  /** Live segment names after recovery, oldest first. */
  segments: string[]
}

export const SEGMENT_HEADER_BYTES = 20
export const RECORD_HEADER_BYTES = 8
const MAGIC = [0x53, 0x51, 0x4c, 0x47] // "SQLG"
const VERSION = 1
const MAX_RECORD = 0xffff_ffff
const SEG_RE = /^log\.([0-9a-f]{16})$/
const TMP_RE = /^log\.[0-9a-f]{16}\.tmp$/

export const segmentName = (seq: number): string => `log.${seq.toString(16).padStart(16, "0")}`

function segmentHeader(seq: number, base: boolean): Uint8Array {
  const h = new Uint8Array(SEGMENT_HEADER_BYTES)
  const v = new DataView(h.buffer)
  h.set(MAGIC, 0)
  h[4] = VERSION
  h[5] = base ? 1 : 0
  v.setUint32(8, Math.floor(seq / 2 ** 32))
  v.setUint32(12, seq >>> 0)
  v.setUint32(16, crc32(h.subarray(0, 16)))
  return h
}

function parseHeader(bytes: Uint8Array, name: string): { seq: number; base: boolean } {
  const bad = (why: string): never => {
    throw new CorruptLogError(`${name}: bad segment header (${why}); segments are created atomically, so this is corruption`, name, 0)
  }
  if (bytes.length < SEGMENT_HEADER_BYTES) bad(`file is ${bytes.length} bytes`)
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (v.getUint32(16) !== crc32(bytes.subarray(0, 16))) bad("checksum mismatch")
  if (MAGIC.some((m, i) => bytes[i] !== m)) bad("wrong magic")
  if (bytes[4] !== VERSION) bad(`unknown version ${bytes[4]}`)
  return { seq: v.getUint32(8) * 2 ** 32 + v.getUint32(12), base: bytes[5] === 1 }
}

/** Frames payloads as records. */
export function encodeRecords(payloads: readonly Uint8Array[]): Uint8Array {
  let total = 0
  for (const p of payloads) {
    if (p.length === 0 || p.length > MAX_RECORD) throw new RangeError(`record payload of ${p.length} bytes (must be 1..2^32-1)`)
    total += RECORD_HEADER_BYTES + p.length
  }
  const out = new Uint8Array(total)
  const v = new DataView(out.buffer)
  let off = 0
  for (const p of payloads) {
    v.setUint32(off, p.length, true)
    v.setUint32(off + 4, crc32(p), true)
    out.set(p, off + RECORD_HEADER_BYTES)
    off += RECORD_HEADER_BYTES + p.length
  }
  return out
}

type Parsed = { ok: true; payload: Uint8Array; next: number } | { ok: false; why: string }

function parseRecord(bytes: Uint8Array, off: number): Parsed {
  if (bytes.length - off < RECORD_HEADER_BYTES) return { ok: false, why: `short record header (${bytes.length - off} bytes)` }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const len = v.getUint32(off, true)
  const crc = v.getUint32(off + 4, true)
  if (len === 0) return { ok: false, why: "zero-length record" }
  const end = off + RECORD_HEADER_BYTES + len
  if (end > bytes.length) return { ok: false, why: `record of ${len} bytes runs past the end of the file` }
  const payload = bytes.subarray(off + RECORD_HEADER_BYTES, end)
  if (crc32(payload) !== crc) return { ok: false, why: "record checksum mismatch" }
  return { ok: true, payload, next: end }
}

/**
 * The log. `open` recovers it; `append` + `sync` is group commit (one fsync for a batch);
 * `rewrite` replaces the whole history atomically. Not safe to use after an operation threw:
 * reopen (which recovers) instead.
 */
export class TxnLog {
  private handle: AppendHandle
  private seq: number
  private firstSeq: number
  private segSize: number
  private closedBytes: number
  private dirty = false
  /** Asynchronous fsyncs under way, and the handles whose close waits for them to finish. */
  private syncing = 0
  private retired: AppendHandle[] = []
  private broken: unknown = undefined

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    private readonly segmentBytes: number,
    firstSeq: number,
    lastSeq: number,
    lastSize: number,
    closedBytes: number,
  ) {
    this.firstSeq = firstSeq
    this.seq = lastSeq
    this.segSize = lastSize
    this.closedBytes = closedBytes
    this.handle = fs.openAppend(this.pathOf(lastSeq))
  }

  private pathOf(seq: number): string {
    return path.join(this.dir, segmentName(seq))
  }

  /**
   * Recovers the log in `dir` (creating it if empty): deletes leftover tmp files and segments
   * superseded by a newer base, reads every record from the newest base segment on, truncates a
   * torn tail of the newest segment (and fsyncs it), and opens the newest segment for appends.
   * Throws `CorruptLogError` on corruption that a crash cannot produce: a bad segment header, a
   * missing segment in the sequence, or any bad record in a closed (not newest) segment.
   */
  static open(fs: FileSystem, dir: string, options: TxnLogOptions = {}): { log: TxnLog; recovery: TxnLogRecovery } {
    const segmentBytes = options.segmentBytes ?? 64 << 20
    ensureDir(fs, dir)
    const names = fs.list(dir)
    const removedFiles: string[] = []
    for (const n of names.filter((n) => TMP_RE.test(n)).sort()) {
      fs.unlink(path.join(dir, n))
      removedFiles.push(n)
    }
    const segs = names
      .flatMap((name) => {
        const m = SEG_RE.exec(name)
        return m ? [{ name, seq: Number.parseInt(m[1]!, 16) }] : []
      })
      .sort((a, b) => a.seq - b.seq)

    // Newest first, back to the newest base segment.
    const live: { name: string; seq: number; bytes: Uint8Array }[] = []
    let baseAt = -1
    for (let i = segs.length - 1; i >= 0; i--) {
      const s = segs[i]!
      const bytes = fs.readFile(path.join(dir, s.name))
      const h = parseHeader(bytes, s.name)
      if (h.seq !== s.seq) throw new CorruptLogError(`${s.name}: header says segment ${h.seq}`, s.name, 0)
      live.unshift({ ...s, bytes })
      if (h.base) {
        baseAt = i
        break
      }
    }
    if (segs.length > 0 && baseAt < 0)
      throw new CorruptLogError(
        `${dir}: no base segment among ${segs.map((s) => s.name).join(", ")}; the start of the history is missing`,
        segs[0]!.name,
        0,
      )
    for (let i = 1; i < live.length; i++)
      if (live[i]!.seq !== live[i - 1]!.seq + 1)
        throw new CorruptLogError(`${dir}: segment ${segmentName(live[i - 1]!.seq + 1)} is missing (before ${live[i]!.name})`, live[i]!.name, 0)

    const records: Uint8Array[] = []
    let truncatedBytes = 0
    let truncatedSegment: string | undefined
    let closedBytes = 0
    let lastSize = SEGMENT_HEADER_BYTES
    for (let j = 0; j < live.length; j++) {
      const { name, bytes } = live[j]!
      const newest = j === live.length - 1
      let off = SEGMENT_HEADER_BYTES
      while (off < bytes.length) {
        const r = parseRecord(bytes, off)
        if (!r.ok) {
          if (!newest)
            throw new CorruptLogError(
              `${name} at offset ${off}: ${r.why}, in a closed segment (${live[j + 1]!.name} follows); ` +
                `refusing to drop the ${bytes.length - off} bytes after it`,
              name,
              off,
            )
          const file = path.join(dir, name)
          fs.truncate(file, off)
          fs.fsync(file)
          truncatedBytes = bytes.length - off
          truncatedSegment = name
          break
        }
        records.push(r.payload)
        off = r.next
      }
      if (newest) lastSize = off
      else closedBytes += bytes.length
    }

    for (const s of segs.slice(0, Math.max(0, baseAt))) {
      fs.unlink(path.join(dir, s.name))
      removedFiles.push(s.name)
    }
    if (removedFiles.length > 0) fs.fsyncDir(dir)

    if (live.length === 0) {
      createSegment(fs, dir, 1, true, [])
      live.push({ name: segmentName(1), seq: 1, bytes: new Uint8Array(0) })
    }
    const log = new TxnLog(fs, dir, segmentBytes, live[0]!.seq, live[live.length - 1]!.seq, lastSize, closedBytes)
    const recovery: TxnLogRecovery = { records, truncatedBytes, removedFiles, segments: live.map((s) => s.name) }
    if (truncatedSegment !== undefined) recovery.truncatedSegment = truncatedSegment
    return { log, recovery }
  }

  private guard<T>(f: () => T): T {
    if (this.broken !== undefined)
      throw new Error(`TxnLog ${this.dir} is unusable after an earlier I/O failure; reopen it`, { cause: this.broken })
    try {
      return f()
    } catch (e) {
      this.broken = e
      throw e
    }
  }

  /** Writes the records (not durable until `sync`). Rolls to a new segment past the threshold. */
  append(payloads: readonly Uint8Array[]): void {
    this.guard(() => {
      let batch: Uint8Array[] = []
      let batchBytes = 0
      const writeBatch = (): void => {
        if (batch.length === 0) return
        this.handle.write(encodeRecords(batch))
        this.segSize += batchBytes
        this.dirty = true
        batch = []
        batchBytes = 0
      }
      for (const p of payloads) {
        if (this.segSize + batchBytes >= this.segmentBytes && this.segSize + batchBytes > SEGMENT_HEADER_BYTES) {
          writeBatch()
          this.roll()
        }
        batch.push(p)
        batchBytes += RECORD_HEADER_BYTES + p.length
      }
      writeBatch()
    })
  }

  /** fsync: every record appended so far is durable on return. */
  sync(): void {
    this.guard(() => {
      // Not dirty but an asynchronous fsync under way: what it covers is not durable yet.
      if (!this.dirty && this.syncing === 0) return
      this.handle.sync()
      this.dirty = false
    })
  }

  /**
   * Asynchronous fsync: every record appended before the call is durable when `done(null)`
   * runs. `done(err)` means the fsync failed: the log is then unusable (later calls throw), and
   * the records must not be treated as durable. Several may be under way at once. Without an
   * asynchronous handle (`FaultyFs`) it is `sync()` followed by `done` on a later turn.
   */
  syncAsync(done: (err: Error | null) => void): void {
    if (this.broken !== undefined) {
      const err = new Error(`TxnLog ${this.dir} is unusable after an earlier I/O failure; reopen it`, { cause: this.broken })
      return void setImmediate(done, err)
    }
    // Earlier segments were fsynced in full when rolled, so the current one is all that can be
    // unsynced. An fsync under way may have started before the latest writes: issue a new one.
    if (!this.dirty && this.syncing === 0) return void setImmediate(done, null)
    const h = this.handle
    if (h.syncAsync === undefined) {
      try {
        this.sync()
      } catch (e) {
        return void setImmediate(done, e as Error)
      }
      return void setImmediate(done, null)
    }
    this.dirty = false
    this.syncing++
    h.syncAsync((err) => {
      this.syncing--
      if (err !== null && this.broken === undefined) this.broken = err
      if (this.syncing === 0) for (const r of this.retired.splice(0)) r.close()
      done(err)
    })
  }

  /** Closes a handle now, or once no asynchronous fsync (possibly on it) is under way. */
  private retire(h: AppendHandle): void {
    if (this.syncing > 0) this.retired.push(h)
    else h.close()
  }

  /** Closes the current segment (fsynced in full) and starts the next one. */
  private roll(): void {
    this.handle.sync()
    this.retire(this.handle)
    this.dirty = false
    this.closedBytes += this.segSize
    this.seq++
    createSegment(this.fs, this.dir, this.seq, false, [])
    this.handle = this.fs.openAppend(this.pathOf(this.seq))
    this.segSize = SEGMENT_HEADER_BYTES
  }

  /**
   * Replaces the whole history by `payloads`, atomically: writes them into a new base segment
   * (tmp file, fsync, rename, fsync of the directory), and only then deletes the older
   * segments. A crash at any point leaves either the old history or the new one. Records
   * appended but not synced before the call are dropped with the old history.
   */
  rewrite(payloads: readonly Uint8Array[]): void {
    this.guard(() => {
      this.retire(this.handle)
      const oldFirst = this.firstSeq
      const oldLast = this.seq
      this.seq++
      this.segSize = createSegment(this.fs, this.dir, this.seq, true, payloads)
      this.firstSeq = this.seq
      this.closedBytes = 0
      this.dirty = false
      this.handle = this.fs.openAppend(this.pathOf(this.seq))
      for (let s = oldFirst; s <= oldLast; s++) this.fs.unlink(this.pathOf(s))
      this.fs.fsyncDir(this.dir)
    })
  }

  /** Bytes in the live segments (headers included): what compaction would shrink. */
  get sizeBytes(): number {
    return this.closedBytes + this.segSize
  }

  /** Live segment names, oldest first. */
  get segments(): string[] {
    const out: string[] = []
    for (let s = this.firstSeq; s <= this.seq; s++) out.push(segmentName(s))
    return out
  }

  close(): void {
    this.retire(this.handle)
  }
}

/** Creates segment `seq` atomically (tmp, fsync, rename, fsync dir). Returns its size. */
function createSegment(fs: FileSystem, dir: string, seq: number, base: boolean, payloads: readonly Uint8Array[]): number {
  const header = segmentHeader(seq, base)
  const body = encodeRecords(payloads)
  const bytes = new Uint8Array(header.length + body.length)
  bytes.set(header)
  bytes.set(body, header.length)
  const final = path.join(dir, segmentName(seq))
  const tmp = `${final}.tmp`
  fs.writeFile(tmp, bytes)
  fs.fsync(tmp)
  fs.rename(tmp, final)
  fs.fsyncDir(dir)
  return bytes.length
}
