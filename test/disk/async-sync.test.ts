import * as nfs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { FaultyFs, nodeFs, type FileSystem } from "../../adapters/disk/fs.ts"
import { NodeStorage } from "../../adapters/disk/node-storage.ts"
import { persistStream, prefixFolds, sameDurable } from "./helpers.ts"

const tmpRoot = nfs.mkdtempSync(path.join(os.tmpdir(), "sequent-async-"))
afterAll(() => nfs.rmSync(tmpRoot, { recursive: true, force: true }))
let dirs = 0
const tmpDir = (): string => path.join(tmpRoot, `n${++dirs}`, "data")

const N = 120
const records = persistStream(7, N)
const folds = prefixFolds(records)

const syncAsync = (s: NodeStorage): Promise<Error | null> => new Promise((resolve) => s.syncAsync(resolve))

describe("NodeStorage.write + syncAsync", () => {
  it("on real files: overlapping fsyncs across segment rolls and a compaction, then a close while one is under way", async () => {
    const dir = tmpDir()
    const opts = { segmentBytes: 400, compactBytes: 3000, myid: 1 }
    const { storage } = NodeStorage.open(dir, nodeFs, opts)
    const waits: Promise<void>[] = []
    let compacted = false
    for (let i = 0; i < N; i++) {
      storage.persist(records[i]!)
      const upTo = storage.write()
      expect(upTo).toBe(i + 1)
      if (i % 3 === 0)
        waits.push(
          syncAsync(storage).then((err) => {
            expect(err).toBeNull()
            expect(storage.durableUpTo).toBeGreaterThanOrEqual(upTo)
          }),
        )
      if (i === 60) compacted = storage.compact(true) // flushes and rewrites, fsyncs under way
      if (i === 60) expect(storage.durableUpTo).toBe(61)
    }
    expect(compacted).toBe(true)
    await Promise.all(waits)
    const last = syncAsync(storage)
    storage.close() // the handle closes once the fsync is done
    expect(await last).toBeNull()
    expect(storage.durableUpTo).toBe(N)
    const again = NodeStorage.open(dir, nodeFs, opts)
    expect(sameDurable(again.durable, folds[N]!)).toBe(true)
    again.storage.close()
  })

  it("written records are durable only once syncAsync reports it (in-memory crash model)", async () => {
    const fs = new FaultyFs()
    const { storage } = NodeStorage.open("/n", fs)
    for (let i = 0; i < 10; i++) storage.persist(records[i]!)
    expect(storage.write()).toBe(10)
    expect(storage.durableUpTo).toBe(0)
    expect(NodeStorage.open("/n", fs.clone().crash("lose-unsynced")).durable.log.length).toBe(0)
    expect(await syncAsync(storage)).toBeNull()
    expect(storage.durableUpTo).toBe(10)
    expect(sameDurable(NodeStorage.open("/n", fs.clone().crash("lose-unsynced")).durable, folds[10]!)).toBe(true)
    // Nothing new written: completes at once, no change.
    expect(await syncAsync(storage)).toBeNull()
    expect(storage.durableUpTo).toBe(10)
  })

  it("a failed asynchronous fsync is reported, counts nothing as durable, and poisons the storage", async () => {
    let fail = false
    const failing: FileSystem = {
      ...nodeFs,
      openAppend: (file) => {
        const h = nodeFs.openAppend(file)
        return {
          ...h,
          syncAsync: (done) => (fail ? setImmediate(done, new Error("EIO: simulated")) : h.syncAsync!(done)),
        }
      },
    }
    const { storage } = NodeStorage.open(tmpDir(), failing)
    storage.persist(records[0]!)
    storage.write()
    expect(await syncAsync(storage)).toBeNull()
    storage.persist(records[1]!)
    storage.write()
    fail = true
    expect((await syncAsync(storage))?.message).toMatch(/EIO/)
    expect(storage.durableUpTo).toBe(1)
    storage.persist(records[2]!)
    expect(() => storage.flush()).toThrow(/unusable/)
    expect((await syncAsync(storage))?.message).toMatch(/unusable/)
    storage.close()
  })
})
