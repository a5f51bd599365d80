/**
 * Durable storage of one consensus node in one data directory: the `Persist` records of the
 * Zab core in a transaction log (group-committed), state-machine snapshots, and a `myid` file.
 * See README.md for the layout and the durability rules.
 *
 *   const { storage, durable, snapshot } = NodeStorage.open("/var/lib/sequent/1", nodeFs, { myid: 1 })
 *   let { state, outputs } = start(config, durable)
 *   // per step: storage.persist(p) for the Persist output, and before carrying out any output
 *   // that follows a Persist (of this step or of any step batched with it): storage.flush()
 */
import * as path from "node:path"
import type { Durable, Persist, Txn } from "../../core/consensus/types.ts"
import { recoverDurable } from "../../core/consensus/durable.ts"
import { ensureDir, nodeFs, type FileSystem } from "./fs.ts"
import { decodePersist, durableToPersists, encodePersist } from "./persist-codec.ts"
import { latestValidSnapshot, purgeSnapshots, writeSnapshot, type Snapshot } from "./snapshots.ts"
import { CorruptLogError, TxnLog } from "./txn-log.ts"

export interface NodeStorageOptions {
  /** Roll the log to a new segment past this many bytes. Default 64 MiB. */
  segmentBytes?: number
  /**
   * `compact()` rewrites the log once it holds more than this many bytes and more than twice
   * its size right after the previous compaction. Default 256 MiB.
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
  /** The newest valid snapshot, if any. */
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

export class NodeStorage {
  private readonly log: Txn[]
  private currentEpoch: number
  private acceptedEpoch: number
  private commitIndex: number
  private pending: Uint8Array[] = []
  /**
   * Positions in the stream of records: how many have been written to the log file, and how
   * many of those are known durable (fsynced). Records buffered by `persist` count in neither.
   */
  private written = 0
  private synced = 0
  private sizeAfterCompaction: number
  private readonly compactBytes: number

  private constructor(
    private readonly fs: FileSystem,
    readonly dir: string,
    private readonly txnLog: TxnLog,
    d: Durable,
    compactBytes: number,
  ) {
    this.log = [...d.log]
    this.currentEpoch = d.currentEpoch
    this.acceptedEpoch = d.acceptedEpoch
    this.commitIndex = d.commitIndex
    this.compactBytes = compactBytes
    this.sizeAfterCompaction = 0
  }

  /**
   * Opens (creating if needed) the data directory and recovers it. Throws `CorruptLogError`
   * when the log is corrupt in a way a crash cannot explain, and `StorageError` on a `myid`
   * mismatch or a checksummed record that does not decode or replay.
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
    for (const name of fs.list(dir).filter((n) => /^(snapshot\.[0-9a-f]{16}|myid)\.tmp$/.test(n))) {
      fs.unlink(path.join(dir, name))
      recovery.removedFiles.push(name)
    }
    const snap = latestValidSnapshot(fs, dir)
    const storage = new NodeStorage(fs, dir, log, durable, options.compactBytes ?? 256 << 20)
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
    return { currentEpoch: this.currentEpoch, acceptedEpoch: this.acceptedEpoch, log: this.log, commitIndex: this.commitIndex }
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
   */
  persist(p: Persist): void {
    if (p.truncateTo !== undefined && !(p.truncateTo <= this.log.length))
      throw new StorageError(`truncate to ${p.truncateTo} beyond the durable log (${this.log.length})`)
    const keep = p.truncateTo ?? this.log.length
    let last = keep > 0 ? this.log[keep - 1]!.zxid : undefined
    for (const t of p.append ?? []) {
      if (last !== undefined && !(t.zxid > last)) throw new StorageError(`append out of order: zxid ${t.zxid} after ${last}`)
      last = t.zxid
    }
    this.pending.push(encodePersist(p))
    this.log.length = keep
    for (const t of p.append ?? []) this.log.push(t)
    this.currentEpoch = p.currentEpoch ?? this.currentEpoch
    this.acceptedEpoch = p.acceptedEpoch ?? this.acceptedEpoch
    this.commitIndex = Math.min(p.commitIndex ?? this.commitIndex, this.log.length)
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

  /** Flushes, then writes the snapshot atomically; durable on return. Returns the file name. */
  saveSnapshot(zxid: number, bytes: Uint8Array): string {
    this.flush()
    return writeSnapshot(this.fs, this.dir, zxid, bytes)
  }

  /** Keeps the newest `keep` valid snapshots, deletes the rest. Returns the deleted names. */
  purgeSnapshots(keep: number): string[] {
    return purgeSnapshots(this.fs, this.dir, keep)
  }

  /**
   * Flushes, then, if the log exceeds the threshold (or `force`), rewrites it as the folded
   * durable state (one base segment, atomically). Returns whether it rewrote.
   */
  compact(force = false): boolean {
    this.flush()
    const size = this.txnLog.sizeBytes
    if (!force && (size <= this.compactBytes || size <= 2 * this.sizeAfterCompaction)) return false
    this.txnLog.rewrite(durableToPersists(this.durable).map(encodePersist))
    this.sizeAfterCompaction = this.txnLog.sizeBytes
    return true
  }

  /** Closes the log. Buffered records that were not flushed are not written. */
  close(): void {
    this.txnLog.close()
  }
}

export { CorruptLogError }
