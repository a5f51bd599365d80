import * as nfs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { FaultyFs, nodeFs } from "../../adapters/disk/fs.ts"
import { CorruptLogError, NodeStorage, StorageError } from "../../adapters/disk/node-storage.ts"
import { latestValidSnapshot, purgeSnapshots, snapshotName, writeSnapshot } from "../../adapters/disk/snapshots.ts"
import { bytes, describeDurable, persistStream, prefixFolds, rng, sameBytes, sameDurable } from "./helpers.ts"

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
