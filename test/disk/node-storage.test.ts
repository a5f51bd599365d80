import * as nfs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { recoverDurable } from "../../core/consensus/durable.ts"
import type { Durable, Persist, Snapshot as Base, Txn } from "../../core/consensus/types.ts"
import { makeZxid } from "../../core/consensus/zxid.ts"
import { FaultyFs, nodeFs } from "../../adapters/disk/fs.ts"
import { CorruptLogError, NodeStorage, StorageError, type NodeStorageOptions } from "../../adapters/disk/node-storage.ts"
import { latestValidSnapshot, listSnapshots, purgeSnapshots, readSnapshot, snapshotName, writeSnapshot } from "../../adapters/disk/snapshots.ts"
import { baseData, bytes, describeDurable, persistStream, prefixFolds, rng, sameBytes, sameDurable } from "./helpers.ts"

const tmpRoot = nfs.mkdtempSync(path.join(os.tmpdir(), "sequent-disk-"))
afterAll(() => nfs.rmSync(tmpRoot, { recursive: true, force: true }))
let dirs = 0
const tmpDir = (): string => path.join(tmpRoot, `n${++dirs}`, "data") // two levels created by open

const N = 120
const records = persistStream(3, N)
const folds = prefixFolds(records)

/** Writes records[0..n) with a flush after every 5, on real files. Returns the log segments. */
function fill(dir: string, n: number, segmentBytes: number): string[] {
  const { storage } = NodeStorage.open(dir, nodeFs, { segmentBytes, myid: 2 })
  for (let i = 0; i < n; i++) {
    storage.persist(records[i]!)
    if (i % 5 === 4) storage.flush()
  }
  storage.flush()
  storage.close()
  return nfs
    .readdirSync(dir)
    .filter((f) => /^log\.[0-9a-f]{16}$/.test(f))
    .sort()
}

describe("NodeStorage on real files", () => {
  it("reopens to the same state; drops a truncated last record and keeps appending", () => {
    const dir = tmpDir()
    const segs = fill(dir, N, 1 << 20)
    expect(segs).toEqual(["log.0000000000000001"])
    const again = NodeStorage.open(dir, nodeFs, { myid: 2 })
    expect(sameDurable(again.durable, folds[N]!)).toBe(true)
    expect(again.recovery.truncatedBytes).toBe(0)
    expect(again.myid).toBe(2)
    again.storage.close()

    const last = path.join(dir, segs[0]!)
    const size = nfs.statSync(last).size
    nfs.truncateSync(last, size - 3) // the last record loses its last 3 bytes
    const torn = NodeStorage.open(dir, nodeFs)
    expect(sameDurable(torn.durable, folds[N - 1]!), describeDurable(torn.durable)).toBe(true)
    expect(torn.recovery.truncatedBytes).toBeGreaterThan(0)
    expect(torn.recovery.truncatedSegment).toBe(segs[0])
    expect(nfs.statSync(last).size).toBe(size - 3 - torn.recovery.truncatedBytes)
    torn.storage.persist(records[N - 1]!)
    torn.storage.flush()
    torn.storage.close()
    const healed = NodeStorage.open(dir, nodeFs)
    expect(sameDurable(healed.durable, folds[N]!)).toBe(true)
    expect(healed.recovery.truncatedBytes).toBe(0)
    healed.storage.close()
  })

  it("fails loudly when a byte in the middle of an older segment is flipped", () => {
    const dir = tmpDir()
    const segs = fill(dir, N, 500)
    expect(segs.length).toBeGreaterThan(3)
    const older = path.join(dir, segs[1]!)
    const b = nfs.readFileSync(older)
    b[Math.floor(b.length / 2)]! ^= 0x10
    nfs.writeFileSync(older, b)
    expect(() => NodeStorage.open(dir, nodeFs)).toThrow(CorruptLogError)
    expect(() => NodeStorage.open(dir, nodeFs)).toThrow(
      new RegExp(`${segs[1]!.replace(".", "\\.")} at offset \\d+: .*closed segment.*refusing to drop`),
    )
  })

  it("treats a flipped byte in the newest segment as a torn tail: keeps the prefix before it", () => {
    const dir = tmpDir()
    const segs = fill(dir, N, 1 << 20)
    const file = path.join(dir, segs[segs.length - 1]!)
    const b = nfs.readFileSync(file)
    b[b.length - 40]! ^= 0x01
    nfs.writeFileSync(file, b)
    const { durable, recovery, storage } = NodeStorage.open(dir, nodeFs)
    storage.close()
    expect(recovery.truncatedBytes).toBeGreaterThan(0)
    expect(folds.slice(N - 5).some((f) => sameDurable(f, durable))).toBe(true)
  })

  it("refuses a data directory of another node", () => {
    const dir = tmpDir()
    fill(dir, 3, 1 << 20)
    expect(() => NodeStorage.open(dir, nodeFs, { myid: 3 })).toThrow(/belongs to node 2, not 3/)
    expect(() => NodeStorage.open(dir, nodeFs, { myid: 3 })).toThrow(StorageError)
  })

  it("snapshots: atomic write, fallback past a corrupt newest one, purge", () => {
    const dir = tmpDir()
    const { storage } = NodeStorage.open(dir, nodeFs)
    const r = rng(5)
    const snaps = [10, 20, 30, 40].map((z) => ({ zxid: z * 2 ** 32 + 1, bytes: bytes(r, 50 + z) }))
    for (const s of snaps) storage.saveSnapshot(s.zxid, s.bytes)
    storage.close()
    const newest = path.join(dir, snapshotName(snaps[3]!.zxid))
    nfs.truncateSync(newest, nfs.statSync(newest).size - 1) // truncated
    const b = nfs.readFileSync(path.join(dir, snapshotName(snaps[2]!.zxid)))
    b[b.length - 1]! ^= 0xff // corrupt payload
    nfs.writeFileSync(path.join(dir, snapshotName(snaps[2]!.zxid)), b)
    const opened = NodeStorage.open(dir, nodeFs)
    expect(opened.snapshot?.zxid).toBe(snaps[1]!.zxid)
    expect(sameBytes(opened.snapshot!.bytes, snaps[1]!.bytes)).toBe(true)
    expect(opened.recovery.skippedSnapshots.map((s) => s.name)).toEqual([snapshotName(snaps[3]!.zxid), snapshotName(snaps[2]!.zxid)])
    // Purge keeps the newest valid one and drops everything else, corrupt ones included.
    expect(opened.storage.purgeSnapshots(1).sort()).toEqual([0, 2, 3].map((i) => snapshotName(snaps[i]!.zxid)).sort())
    expect(latestValidSnapshot(nodeFs, dir).snapshot?.zxid).toBe(snaps[1]!.zxid)
    opened.storage.close()
  })
})

describe("NodeStorage (in memory)", () => {
  it("rejects a record that does not apply, changing nothing", () => {
    const fs = new FaultyFs()
    const { storage } = NodeStorage.open("/n", fs)
    storage.persist({ _tag: "Persist", append: [{ zxid: 5, data: new Uint8Array(1) }] })
    expect(() => storage.persist({ _tag: "Persist", truncateTo: 2 })).toThrow(/beyond the durable log/)
    expect(() => storage.persist({ _tag: "Persist", truncateTo: 1, append: [{ zxid: 5, data: new Uint8Array(1) }] })).toThrow(/out of order/)
    expect(storage.pendingRecords).toBe(1)
    expect(storage.durable.log.map((t) => t.zxid)).toEqual([5])
    storage.persist({ _tag: "Persist", truncateTo: 0, append: [{ zxid: 5, data: new Uint8Array(1) }] }) // replacing is fine
  })

  it("compacts past the threshold only, into a log that recovers the same state", () => {
    const fs = new FaultyFs()
    const opts = { segmentBytes: 300, compactBytes: 2000 }
    const { storage } = NodeStorage.open("/n", fs, opts)
    let compactions = 0
    for (let i = 0; i < N; i++) {
      storage.persist(records[i]!)
      storage.flush()
      if (storage.compact()) {
        compactions++
        expect(storage.logBytes).toBeLessThan(2000)
        expect(sameDurable(NodeStorage.open("/n", fs.clone().crash("lose-unsynced"), opts).durable, folds[i + 1]!)).toBe(true)
      }
    }
    expect(compactions).toBeGreaterThan(0)
    expect(storage.logBytes).toBeLessThan(4000)
    expect(sameDurable(NodeStorage.open("/n", fs.clone().crash("lose-unsynced"), opts).durable, folds[N]!)).toBe(true)
  })

  it("purgeSnapshots never deletes the newest valid snapshot", () => {
    const fs = new FaultyFs()
    fs.mkdir("/s")
    writeSnapshot(fs, "/s", 1, new Uint8Array([1]))
    writeSnapshot(fs, "/s", 2, new Uint8Array([2]))
    fs.writeFile(`/s/${snapshotName(2)}`, new Uint8Array(3)) // newest is garbage
    expect(purgeSnapshots(fs, "/s", 1)).toEqual([snapshotName(2)])
    expect(latestValidSnapshot(fs, "/s").snapshot).toEqual({ zxid: 1, bytes: new Uint8Array([1]) })
  })
})

// ---------------------------------------------------------------------------------------------
// Bases: the log compacted to a snapshot (Persist.base)

const txn = (epoch: number, counter: number, size = 20): Txn => ({ zxid: makeZxid(epoch, counter), data: new Uint8Array(size).fill(counter) })
const txns = (epoch: number, from: number, to: number, size = 20): Txn[] => {
  const out: Txn[] = []
  for (let c = from; c <= to; c++) out.push(txn(epoch, c, size))
  return out
}
/** A base at position `index` of a history of epoch-1 transactions numbered from 1. */
const baseAt = (index: number, epoch = 1): Base => ({ index, zxid: makeZxid(epoch, index), data: baseData(makeZxid(epoch, index)) })
const snapshotFiles = (fs: FaultyFs, dir: string): number[] => listSnapshots(fs, dir).map((s) => s.zxid)

/** Persists `ps`, flushing after each; returns the fold they should recover to. */
function persistAll(storage: NodeStorage, ps: readonly Persist[], from?: Durable): Durable {
  for (const p of ps) {
    storage.persist(p)
    storage.flush()
  }
  return recoverDurable(ps, from)
}

/** Opens what a power loss now would leave of `fs` (a copy: `fs` goes on). */
const reopen = (fs: FaultyFs, dir: string, options: NodeStorageOptions = {}) => NodeStorage.open(dir, fs.clone().crash("lose-unsynced"), options)

describe("NodeStorage with a base (log compacted to a snapshot)", () => {
  it("writes the base's data as the snapshot file of its zxid before buffering the record, and recovers it", () => {
    const fs = new FaultyFs()
    const { storage } = NodeStorage.open("/n", fs)
    const start: Persist = { _tag: "Persist", currentEpoch: 1, acceptedEpoch: 1, append: txns(1, 1, 10), commitIndex: 8 }
    const before = persistAll(storage, [start])
    const b = baseAt(6)
    storage.persist({ _tag: "Persist", base: b })
    // Durable already (written, fsynced, renamed, directory fsynced), though the record is not.
    expect(reopen(fs, "/n").snapshot).toEqual({ zxid: b.zxid, bytes: b.data })
    expect(storage.durable.base).toBe(b)
    expect(storage.durable.log.map((t) => t.zxid)).toEqual(txns(1, 7, 10).map((t) => t.zxid))
    expect(storage.durable.commitIndex).toBe(8)
    // Unflushed, the record may be lost: the file is then just another snapshot.
    expect(sameDurable(reopen(fs, "/n").durable, before)).toBe(true)

    storage.flush()
    const expected = recoverDurable([start, { _tag: "Persist", base: b }])
    const again = reopen(fs, "/n")
    expect(sameDurable(again.durable, expected), describeDurable(again.durable)).toBe(true)
    expect(sameBytes(again.durable.base!.data, b.data)).toBe(true)
    expect(sameDurable(again.storage.durable, expected)).toBe(true)
  })

  it("rejects a base that does not apply, changing nothing and writing no snapshot", () => {
    const fs = new FaultyFs()
    const { storage } = NodeStorage.open("/n", fs)
    const expected = persistAll(storage, [
      { _tag: "Persist", append: txns(1, 1, 10), commitIndex: 10 },
      { _tag: "Persist", base: baseAt(4) },
    ])
    const points = fs.points
    // Entries after a new base must continue it (the zxid at its position), or be cut off.
    const stranger: Base = { index: 6, zxid: makeZxid(2, 6), data: new Uint8Array([1]) }
    expect(() => storage.persist({ _tag: "Persist", base: stranger })).toThrow(/do not continue it/)
    // A base older than the durable one needs a truncation to it.
    expect(() => storage.persist({ _tag: "Persist", base: baseAt(2) })).toThrow(/older than the durable one/)
    expect(() => storage.persist({ _tag: "Persist", base: baseAt(2), truncateTo: 3 })).toThrow(StorageError)
    // Positions count compacted entries: before the base or past the log is outside.
    expect(() => storage.persist({ _tag: "Persist", truncateTo: 3 })).toThrow(/before the base/)
    expect(() => storage.persist({ _tag: "Persist", truncateTo: 11 })).toThrow(/beyond the durable log/)
    expect(() => storage.persist({ _tag: "Persist", append: [txn(1, 4)] })).toThrow(/out of order/)
    expect(() => storage.persist({ _tag: "Persist", truncateTo: 4, append: [txn(1, 4)] })).toThrow(/out of order/)
    expect(fs.points).toBe(points)
    expect(storage.pendingRecords).toBe(0)
    expect(sameDurable(storage.durable, expected)).toBe(true)
    // What does apply: cutting to the base, then appending past its zxid; a new base that the
    // entries do not continue, with a truncation to it.
    storage.persist({ _tag: "Persist", truncateTo: 4, append: [txn(1, 5)] })
    storage.persist({ _tag: "Persist", base: stranger, truncateTo: 6 })
    expect(storage.durable.log).toEqual([])
    expect(storage.durable.base).toBe(stranger)
  })

  it("takes a base older than the current one with a truncation to it (a SNAP from a leader that compacted less)", () => {
    const fs = new FaultyFs()
    const { storage } = NodeStorage.open("/n", fs, { segmentBytes: 400 })
    const records: Persist[] = [
      { _tag: "Persist", currentEpoch: 1, acceptedEpoch: 1, append: txns(1, 1, 20), commitIndex: 15 },
      { _tag: "Persist", base: baseAt(12) },
      // The leader's SNAP: its base at 8, then the rest of its history (9..15, then epoch 2).
      { _tag: "Persist", acceptedEpoch: 2, currentEpoch: 2, base: baseAt(8), truncateTo: 8, append: [...txns(1, 9, 15), ...txns(2, 1, 3)], commitIndex: 16 },
    ]
    const expected = persistAll(storage, records)
    expect(storage.durable.base?.index).toBe(8)
    expect(storage.durable.log).toHaveLength(10)
    expect(storage.durable.commitIndex).toBe(16)
    expect(sameDurable(storage.durable, expected)).toBe(true)
    expect(sameDurable(reopen(fs, "/n").durable, expected)).toBe(true)
    // Rewritten around the older base, it recovers the same.
    expect(storage.compact(true)).toBe(true)
    const after = reopen(fs, "/n")
    expect(sameDurable(after.durable, expected), describeDurable(after.durable)).toBe(true)
    expect(after.recovery.records).toBe(1)
  })

  it("compaction after a base drops the entries it covers from the disk, below compactBytes", () => {
    const fs = new FaultyFs()
    const { storage } = NodeStorage.open("/n", fs, { segmentBytes: 20_000 })
    const records: Persist[] = [{ _tag: "Persist", currentEpoch: 1, acceptedEpoch: 1 }]
    for (let c = 1; c <= 200; c += 10) records.push({ _tag: "Persist", append: txns(1, c, c + 9, 500), commitIndex: c + 9 })
    let expected = persistAll(storage, records)
    expect(storage.compact()).toBe(false) // no base yet, far below the default 256 MiB
    const full = storage.logBytes
    expect(full).toBeGreaterThan(100_000)

    // A base covering a few entries leaves most of the log live: no rewrite.
    expected = persistAll(storage, [{ _tag: "Persist", base: baseAt(20) }], expected)
    expect(storage.compact()).toBe(false)
    // One covering most of it: the rewrite keeps only what follows the base.
    expected = persistAll(storage, [{ _tag: "Persist", base: baseAt(190) }], expected)
    expect(storage.compact()).toBe(true)
    expect(storage.logBytes).toBeLessThan(10 * 520 + 200)
    expect(storage.compact()).toBe(false) // nothing more to drop
    const again = reopen(fs, "/n")
    expect(sameDurable(again.durable, expected), describeDurable(again.durable)).toBe(true)
    expect(again.durable.log).toHaveLength(10)
    expect(again.recovery.records).toBe(1)
    expect(again.storage.logBytes).toBe(storage.logBytes)
  })

  it("purgeSnapshots keeps the base's snapshot, and older bases' while the log names them", () => {
    const fs = new FaultyFs()
    const { storage } = NodeStorage.open("/n", fs)
    const z = (c: number): number => makeZxid(1, c)
    let expected = persistAll(storage, [{ _tag: "Persist", currentEpoch: 1, acceptedEpoch: 1, append: txns(1, 1, 30), commitIndex: 30 }])
    storage.saveSnapshot(z(5), baseData(z(5)))
    expected = persistAll(storage, [{ _tag: "Persist", base: baseAt(5) }], expected) // the saved file serves
    expected = persistAll(storage, [{ _tag: "Persist", base: baseAt(10) }], expected) // written by persist
    storage.saveSnapshot(z(20), baseData(z(20)))
    storage.saveSnapshot(z(25), baseData(z(25)))
    expect(snapshotFiles(fs, "/n")).toEqual([5, 10, 20, 25].map(z))

    // The newest, the current base, and base 5 (its record is still in the log: a crash that
    // lost the record of base 10 would recover it).
    expect(storage.purgeSnapshots(1)).toEqual([snapshotName(z(20))])
    expect(snapshotFiles(fs, "/n")).toEqual([5, 10, 25].map(z))
    // Once the log is rewritten from base 10, base 5 is history.
    expect(storage.compact(true)).toBe(true)
    expect(storage.purgeSnapshots(1)).toEqual([snapshotName(z(5))])
    expect(snapshotFiles(fs, "/n")).toEqual([10, 25].map(z))
    const again = reopen(fs, "/n")
    expect(sameDurable(again.durable, expected)).toBe(true)
    expect(again.snapshot?.zxid).toBe(z(25))
    // Even keep=1 with a newer snapshot never takes the base's.
    again.storage.saveSnapshot(z(30), baseData(z(30)))
    expect(again.storage.purgeSnapshots(1)).toEqual([snapshotName(z(25))])
    expect(sameDurable(reopen(fs, "/n").durable, expected)).toBe(true)
  })

  it("pins older bases recovered from the log too, until a rewrite", () => {
    const fs = new FaultyFs()
    const { storage } = NodeStorage.open("/n", fs)
    persistAll(storage, [
      { _tag: "Persist", currentEpoch: 1, acceptedEpoch: 1, append: txns(1, 1, 30), commitIndex: 30 },
      { _tag: "Persist", base: baseAt(5) },
      { _tag: "Persist", base: baseAt(25) },
    ])
    storage.close()
    const { storage: s2 } = NodeStorage.open("/n", fs)
    s2.saveSnapshot(makeZxid(1, 28), baseData(makeZxid(1, 28)))
    expect(s2.purgeSnapshots(1)).toEqual([])
    // The bases recovered from the log count as moved: 5 of the 30 entries on disk are live.
    expect(s2.compact()).toBe(true)
    expect(s2.purgeSnapshots(1)).toEqual([snapshotName(makeZxid(1, 5))])
  })

  it("uses an existing snapshot file that holds the base's bytes, and replaces one that does not", () => {
    const fs = new FaultyFs()
    const { storage } = NodeStorage.open("/n", fs)
    persistAll(storage, [{ _tag: "Persist", currentEpoch: 1, acceptedEpoch: 1, append: txns(1, 1, 30), commitIndex: 30 }])
    const b5 = baseAt(5)
    writeSnapshot(fs, "/n", b5.zxid, b5.data) // as another incarnation would have left it
    let points = fs.points
    storage.persist({ _tag: "Persist", base: b5 })
    expect(fs.points - points).toBe(2) // no rewrite: an fsync of the file and of the directory
    const b10 = baseAt(10)
    writeSnapshot(fs, "/n", b10.zxid, new Uint8Array([9, 9, 9])) // valid, other bytes
    storage.persist({ _tag: "Persist", base: b10 })
    expect(readSnapshot(fs, "/n", snapshotName(b10.zxid))).toEqual({ zxid: b10.zxid, bytes: b10.data })
    const b15 = baseAt(15)
    writeSnapshot(fs, "/n", b15.zxid, b15.data)
    fs.truncate(`/n/${snapshotName(b15.zxid)}`, 40) // damaged
    storage.persist({ _tag: "Persist", base: b15 })
    expect(readSnapshot(fs, "/n", snapshotName(b15.zxid))).toEqual({ zxid: b15.zxid, bytes: b15.data })
    // Saved by this storage: persist trusts it without reading it back.
    const b20 = baseAt(20)
    storage.saveSnapshot(b20.zxid, b20.data)
    points = fs.points
    storage.persist({ _tag: "Persist", base: b20 })
    expect(fs.points).toBe(points)
    storage.flush()
    expect(reopen(fs, "/n").durable.base).toEqual(b20)
  })

  it("fails loudly when the durable base's snapshot file is missing or damaged", () => {
    const fs = new FaultyFs()
    const { storage } = NodeStorage.open("/n", fs)
    const b = baseAt(5)
    persistAll(storage, [
      { _tag: "Persist", currentEpoch: 1, acceptedEpoch: 1, append: txns(1, 1, 10), commitIndex: 10 },
      { _tag: "Persist", base: b },
    ])
    storage.saveSnapshot(makeZxid(1, 8), baseData(makeZxid(1, 8))) // a valid newer one does not stand in
    storage.close()
    const file = `/n/${snapshotName(b.zxid)}`
    const damaged = fs.clone()
    damaged.writeFile(file, new Uint8Array(40))
    expect(() => NodeStorage.open("/n", damaged)).toThrow(StorageError)
    expect(() => NodeStorage.open("/n", damaged)).toThrow(/snapshot\.0000000100000005, which fails verification: header checksum mismatch/)
    fs.unlink(file)
    expect(() => NodeStorage.open("/n", fs)).toThrow(StorageError)
    expect(() => NodeStorage.open("/n", fs)).toThrow(/base \(the first 5 transactions, up to zxid 0x100000005\) is stored in snapshot\.0000000100000005, which is missing/)
  })

  it("a random stream with bases, compactions and purges reopens to every fold", () => {
    for (const seed of [1, 2, 6, 7]) {
      const stream = persistStream(seed, 150, { bases: true })
      const sfolds = prefixFolds(stream)
      const fs = new FaultyFs()
      const opts = { segmentBytes: 300 }
      const { storage } = NodeStorage.open("/n", fs, opts)
      const r = rng(seed)
      let rewrites = 0
      for (let i = 0; i < stream.length; i++) {
        storage.persist(stream[i]!)
        if (r() < 0.5) storage.flush()
        if (stream[i]!.base !== undefined) {
          storage.purgeSnapshots(1)
          if (storage.compact()) rewrites++
        }
        if (r() < 0.2) {
          storage.flush()
          const got = reopen(fs, "/n", opts).durable
          expect(sameDurable(got, sfolds[i + 1]!), `seed ${seed} at ${i + 1}: ${describeDurable(got)} vs ${describeDurable(sfolds[i + 1]!)}`).toBe(true)
        }
      }
      expect(rewrites).toBeGreaterThan(0)
      storage.flush()
      expect(sameDurable(reopen(fs, "/n", opts).durable, sfolds[stream.length]!)).toBe(true)
    }
  })
})

describe("NodeStorage with a base, on real files", () => {
  it("recovers the base and the entries after it; compaction shrinks the log", () => {
    const dir = tmpDir()
    const stream = persistStream(6, 150, { bases: true })
    const sfolds = prefixFolds(stream)
    const { storage } = NodeStorage.open(dir, nodeFs, { myid: 1 })
    for (const p of stream) storage.persist(p)
    storage.flush()
    const before = storage.logBytes
    expect(storage.compact(true)).toBe(true)
    expect(storage.logBytes).toBeLessThan(before / 2)
    storage.close()
    const again = NodeStorage.open(dir, nodeFs, { myid: 1 })
    expect(sameDurable(again.durable, sfolds[150]!), describeDurable(again.durable)).toBe(true)
    expect(again.durable.base).toBeDefined()
    again.storage.close()
  })
})
