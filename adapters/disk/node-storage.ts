/**
 * Durable storage of one consensus node in one data directory: the `Persist` records of the
 * Zab core in a transaction log (group-committed), state-machine snapshots, and a `myid` file.
 * See README.md for the layout and the durability rules.
 *
 *   const { storage, durable, snapshot } = NodeStorage.open("/var/lib/sequent/1", nodeFs, { myid: 1 })
 *   let { state, outputs } = start(config, durable)
 *   // per step: storage.persist(p) for the Persist output, and before carrying out any output
 *   // that follows a Persist (of this step or of any step batched with it): storage.flush()
 *
 * A `Persist` with a `base` (the core compacted its log to a snapshot, or a leader sent one)
 * stores the base's data as the snapshot file of its zxid, written before the record; the log
 * record holds only its position and zxid. `compact()` then rewrites the log without the
 * entries the base covers.
 */
import * as path from "node:path"
import type { Durable, Persist, Snapshot as Base } from "../../core/consensus/types.ts"
import { applyPersistInPlace, durableBuffer, durableOf, persistError, recoverDurable, type DurableBuffer } from "../../core/consensus/durable.ts"
import { ensureDir, nodeFs, type FileSystem } from "./fs.ts"
import { decodePersist, durableToPersists, encodePersist } from "./persist-codec.ts"
import { latestValidSnapshot, purgeSnapshots, readSnapshot, snapshotName, writeSnapshot, type Snapshot } from "./snapshots.ts"
import { CorruptLogError, TxnLog } from "./txn-log.ts"

export interface NodeStorageOptions {
  /** Roll the log to a new segment past this many bytes. Default 64 MiB. */
  segmentBytes?: number
  /**
   * `compact()` rewrites the log once it holds more than this many bytes and more than twice
   * its size right after the previous compaction. Default 256 MiB. (It also rewrites, whatever
   * the size, once a new base has made most of the log dead: see `compact`.)
   */
  compactBytes?: number
  /** This node's id: written to `myid` on first open, checked against it afterwards. */
  myid?: number
}

export interface StorageRecovery {
  /** `Persist` records replayed from the log. */
  records: number
  /** Bytes of torn or unsynced tail cut from the newest log segment (0 after a clean stop). */
  truncatedBytes: number
  truncatedSegment?: string
  /** Leftover tmp files and log segments superseded by a compaction, deleted. */
  removedFiles: string[]
  /** Snapshot files that failed verification and were skipped (newest first), not deleted. */
  skippedSnapshots: { name: string; why: string }[]
}

export interface OpenedStorage {
  storage: NodeStorage
  /** What to hand to the core's `start`. */
  durable: Durable
  /**
   * The newest valid snapshot, if any. Not necessarily `durable.base`: it may be newer (a tree
   * snapshot saved since, or a base whose record was lost in the crash) or older (a base from
   * a leader's SNAP).
   */
  snapshot?: Snapshot
  /** The id in `myid`, if there is one. */
  myid?: number
  recovery: StorageRecovery
}

export class StorageError extends Error {
  override readonly name = "StorageError"
}

const MYID = "myid"

function readMyid(fs: FileSystem, dir: string, expected: number | undefined): number | undefined {
  const file = path.join(dir, MYID)
  if (fs.exists(file)) {
    const text = new TextDecoder().decode(fs.readFile(file)).trim()
    const id = Number(text)
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(id)) throw new StorageError(`${file}: not a node id: '${text}'`)
    if (expected !== undefined && id !== expected)
      throw new StorageError(`${file} says this data directory belongs to node ${id}, not ${expected}`)
    return id
  }
  if (expected === undefined) return undefined
  const tmp = `${file}.tmp`
  fs.writeFile(tmp, new TextEncoder().encode(`${expected}\n`))
  fs.fsync(tmp)
  fs.rename(tmp, file)
  fs.fsyncDir(dir)
  return expected
}

/** Byte-wise equality (a snapshot's data against the file's). */
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a === b || (a.length === b.length && Buffer.compare(a, b) === 0)

const hex = (z: number): string => `0x${z.toString(16)}`

export class NodeStorage {
  /** The durable state including buffered records, folded in place by the core's rules. */
  private readonly d: DurableBuffer
  private pending: Uint8Array[] = []
  /**
   * Positions in the stream of records: how many have been written to the log file, and how
   * many of those are known durable (fsynced). Records buffered by `persist` count in neither.
   */
  private written = 0
  private synced = 0
  private sizeAfterCompaction: number
  private readonly compactBytes: number
  /**
   * Zxids of the bases named by records in the log since its last rewrite (those on disk and
   * those buffered): their snapshot files must stay, since a crash can recover any of them as
   * the durable base (a later base record may be lost, or cut off as a torn tail). Only the
   * current base once `compact` has rewritten the log.
   */
  private pinned: Set<number>
  /** Whether a record after the first one in the log (since its last rewrite) sets a base. */
  private baseMovedSinceRewrite: boolean
  /** The snapshot file this storage last wrote or verified: saves re-reading it for a base. */
  private known: { zxid: number; bytes: Uint8Array } | undefined

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    private readonly txnLog: TxnLog,
    d: Durable,
    compactBytes: number,
    pinned: Set<number>,
    baseMoved: boolean,
  ) {
    this.d = durableBuffer(d)
    this.compactBytes = compactBytes
    this.sizeAfterCompaction = 0
    this.pinned = pinned
    this.baseMovedSinceRewrite = baseMoved
  }

  /**
   * Opens (creating if needed) the data directory and recovers it. Throws `CorruptLogError`
   * when the log is corrupt in a way a crash cannot explain, and `StorageError` on a `myid`
   * mismatch, a checksummed record that does not decode or replay, or a durable base whose
   * snapshot file is missing or fails verification (its state would be lost).
   */
  static open(dir: string, fs: FileSystem = nodeFs, options: NodeStorageOptions = {}): OpenedStorage {
    ensureDir(fs, dir)
    const myid = readMyid(fs, dir, options.myid)
    const { log, recovery } = TxnLog.open(fs, dir, options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes })
    const records = recovery.records.map((payload, i) => {
      try {
        return decodePersist(payload)
      } catch (e) {
        throw new StorageError(`${dir}: log record ${i} has a valid checksum but does not decode: ${(e as Error).message}`, { cause: e })
      }
    })
    let durable: Durable
    try {
      durable = recoverDurable(records)
    } catch (e) {
      throw new StorageError(`${dir}: the log's records do not replay: ${(e as Error).message}`, { cause: e })
    }
    // Records carry a base's position and zxid only, and recoverDurable does not look at its
    // data: fold first, then read the one base that survived from its snapshot file.
    if (durable.base !== undefined) {
      const b = durable.base
      const name = snapshotName(b.zxid)
      const snap = fs.exists(path.join(dir, name)) ? readSnapshot(fs, dir, name) : { invalid: "is missing" }
      if ("invalid" in snap)
        throw new StorageError(
          `${dir}: the log's base (the first ${b.index} transactions, up to zxid ${hex(b.zxid)}) is stored in ${name}, ` +
            `which ${snap.invalid === "is missing" ? "is missing" : `fails verification: ${snap.invalid}`}; the state it stands for is lost`,
        )
      durable = { ...durable, base: { index: b.index, zxid: b.zxid, data: snap.bytes } }
    }
    const pinned = new Set(records.flatMap((p) => (p.base === undefined ? [] : [p.base.zxid])))
    const baseMoved = records.slice(1).some((p) => p.base !== undefined)
    for (const name of fs.list(dir).filter((n) => /^(snapshot\.[0-9a-f]{16}|myid)\.tmp$/.test(n))) {
      fs.unlink(path.join(dir, name))
      recovery.removedFiles.push(name)
    }
    const snap = latestValidSnapshot(fs, dir)
    const storage = new NodeStorage(fs, dir, log, durable, options.compactBytes ?? 256 << 20, pinned, baseMoved)
    const out: OpenedStorage = {
      storage,
      durable,
      recovery: {
        records: records.length,
        truncatedBytes: recovery.truncatedBytes,
        removedFiles: recovery.removedFiles,
        skippedSnapshots: snap.skipped,
        ...(recovery.truncatedSegment === undefined ? {} : { truncatedSegment: recovery.truncatedSegment }),
      },
    }
    if (snap.snapshot !== undefined) out.snapshot = snap.snapshot
    if (myid !== undefined) out.myid = myid
    return out
  }

  /**
   * The durable state including buffered records: a live view (its `log` array changes with
   * later calls; copy it to keep it).
   */
  get durable(): Durable {
    return durableOf(this.d)
  }

  /** Bytes in the transaction log now (what `compact` compares with its threshold). */
  get logBytes(): number {
    return this.txnLog.sizeBytes
  }

  /** Records written to the log file so far (by `write` or `flush`), counted from the open. */
  get writtenUpTo(): number {
    return this.written
  }

  /** Records known durable (fsynced) so far, counted like `writtenUpTo`. */
  get durableUpTo(): number {
    return this.synced
  }

  /** Records buffered by `persist` and not yet flushed. */
  get pendingRecords(): number {
    return this.pending.length
  }

  /**
   * Buffers one `Persist` record (not durable until `flush`). Throws, changing nothing, if the
   * record does not apply to the current state (the same checks as `recoverDurable`).
   *
   * With `base`, first makes sure the snapshot file of `base.zxid` holds exactly `base.data`,
   * durably (writing it if it is missing or differs): the record may become durable at the next
   * write, and must never be durable without its data. That write is synchronous; if it throws,
   * nothing was buffered (treat it like a failed flush: reopen).
   */
  persist(p: Persist): void {
    const why = persistError(this.d, p)
    if (why !== undefined) throw new StorageError(why)
    const record = encodePersist(p)
    if (p.base !== undefined) this.storeBase(p.base)

    this.pending.push(record)
    if (p.base !== undefined) {
      this.pinned.add(p.base.zxid)
      this.baseMovedSinceRewrite = true
    }
    applyPersistInPlace(this.d, p)
  }

  /** Makes the snapshot file of `b.zxid` hold exactly `b.data`, durably. */
  private storeBase(b: Base): void {
    if (this.known?.zxid === b.zxid && sameBytes(this.known.bytes, b.data)) return
    const name = snapshotName(b.zxid)
    const file = path.join(this.dir, name)
    const found = this.fs.exists(file) ? readSnapshot(this.fs, this.dir, name) : undefined
    if (found !== undefined && !("invalid" in found) && sameBytes(found.bytes, b.data)) {
      // The usual case: the server saved this snapshot and then compacted the log to it. Not
      // written by this process, it may be a name a process crash left unsynced (a rename
      // before its directory fsync): make it durable before a record can depend on it.
      this.fs.fsync(file)
      this.fs.fsyncDir(this.dir)
    } else writeSnapshot(this.fs, this.dir, b.zxid, b.data)
    this.known = { zxid: b.zxid, bytes: b.data }
  }

  /**
   * Group commit: writes every buffered record and fsyncs once. Every record passed to
   * `persist` before the call is durable when it returns. After a throw, reopen the storage.
   */
  flush(): void {
    this.write()
    if (this.synced === this.written) return
    this.txnLog.sync()
    this.synced = this.written
  }

  /**
   * Writes every buffered record to the log, without fsync (the first half of an asynchronous
   * group commit; `syncAsync` is the second). Returns `writtenUpTo`.
   */
  write(): number {
    if (this.pending.length === 0) return this.written
    const batch = this.pending
    this.pending = []
    this.txnLog.append(batch)
    this.written += batch.length
    return this.written
  }

  /**
   * Asynchronous fsync: when `done(null)` runs, every record written (`write`) before the call
   * is durable, and `durableUpTo` is at least the `writtenUpTo` of the call. `done(err)`: the
   * fsync failed, nothing new may be treated as durable, and the storage is unusable (the
   * process must restart and recover: after a failed fsync the page cache state is unknown).
   */
  syncAsync(done: (err: Error | null) => void): void {
    const upTo = this.written
    this.txnLog.syncAsync((err) => {
      if (err === null && upTo > this.synced) this.synced = upTo
      done(err)
    })
  }

  /**
   * Flushes, then writes the snapshot atomically; durable on return. Returns the file name.
   * Saving over the durable base's snapshot (same zxid) with other bytes replaces the base's
   * data too (both stand for the state at that zxid): `durable.base` then has the new bytes.
   */
  saveSnapshot(zxid: number, bytes: Uint8Array): string {
    this.flush()
    const name = writeSnapshot(this.fs, this.dir, zxid, bytes)
    this.known = { zxid, bytes }
    if (this.d.base?.zxid === zxid && !sameBytes(this.d.base.data, bytes)) this.d.base = { ...this.d.base, data: bytes }
    return name
  }

  /**
   * Keeps the newest `keep` valid snapshots and the snapshot of every base the log still names
   * (the durable base, and until `compact` rewrites the log, older bases whose records are in
   * it: a crash can bring any of those back), deletes the rest. Returns the deleted names.
   */
  purgeSnapshots(keep: number): string[] {
    const removed = purgeSnapshots(this.fs, this.dir, keep, this.pinned)
    if (this.known !== undefined && removed.includes(snapshotName(this.known.zxid))) this.known = undefined
    return removed
  }

  /**
   * Flushes, then rewrites the log as the folded durable state (one base segment, atomically:
   * the base's position and zxid, then the entries after it) when `force`, or when:
   *
   * - the log exceeds `compactBytes` and twice its size after the previous rewrite (it grows
   *   with superseded records: truncated entries, commit-index updates); or
   * - a base was set since the previous rewrite and the log is more than twice the (estimated)
   *   size of the folded state: at least half of it is entries the base covers or superseded
   *   records. This is what drops compacted entries from the disk. It ignores `compactBytes`:
   *   the server calls `compact()` once per snapshot, and a rewrite writes less than it frees,
   *   so the rewrites cost at most the bytes ever appended, whatever the log's size.
   *
   * Returns whether it rewrote. After a rewrite only the current base's snapshot is pinned.
   */
  compact(force = false): boolean {
    this.flush()
    const size = this.txnLog.sizeBytes
    const grown = size > this.compactBytes && size > 2 * this.sizeAfterCompaction
    const mostlyDead = this.baseMovedSinceRewrite && size > 2 * this.foldedBytes()
    if (!force && !grown && !mostlyDead) return false
    this.txnLog.rewrite(durableToPersists(this.durable).map(encodePersist))
    this.sizeAfterCompaction = this.txnLog.sizeBytes
    this.pinned = new Set(this.d.base === undefined ? [] : [this.d.base.zxid])
    this.baseMovedSinceRewrite = false
    return true
  }

  /**
   * About the bytes a rewrite would take: each transaction's data plus its zxid, length and a
   * share of a record header (a little over; the segment and first-record overhead on top).
   */
  private foldedBytes(): number {
    let n = 64
    for (const t of this.d.log) n += t.data.length + 12
    return n
  }

  /** Closes the log. Buffered records that were not flushed are not written. */
  close(): void {
    this.txnLog.close()
  }
}

export { CorruptLogError }
