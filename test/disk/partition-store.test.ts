/**
 * adapters/disk/partition: the partition store's behaviour on its own: appends and offsets,
 * reads by offset and by timestamp against brute force, segment rolls, retention, delete-records,
 * truncation, reopening, recovery of torn and corrupt logs, bad input, config, flush policy.
 * Crash consistency has its own file (partition-crash.test.ts).
 */
import * as os from "node:os"
import * as nodePath from "node:path"
import { mkdtempSync, rmSync } from "node:fs"
import { describe, expect, it } from "vitest"
import { FaultyFs, nodeFs, type FileSystem } from "../../adapters/disk/fs.ts"
import {
  CorruptLogError,
  LogConfigError,
  MessageTooLargeError,
  OffsetOutOfRangeError,
  PartitionStore,
  parseLogConfig,
  type LogConfig,
} from "../../adapters/disk/partition/index.ts"
import { RecordBatchError, decodeRecords, readBatchHeader } from "../../core/log/index.ts"
import { allRecords, batch } from "./partition-helpers.ts"

const small = (extra: Record<string, string> = {}): LogConfig => parseLogConfig({ "segment.bytes": "4000", "index.interval.bytes": "500", ...extra })

/** A store with `n` batches of 1-4 records, leader epochs bumping every 25 batches. */
function filled(n: number, config = small(), fs: FileSystem = new FaultyFs(), dir = "/p") {
  const { store } = PartitionStore.open(fs, dir, { config, now: 0 })
  const timestamps: number[] = []
  for (let i = 0; i < n; i++) {
    // Timestamps go up and sometimes back (CreateTime is the producer's clock).
    const ts = 10_000 + i * 10 - (i % 5 === 4 ? 35 : 0)
    timestamps.push(ts)
    store.appendAsLeader(batch({ count: 1 + (i % 4), timestamp: ts, key: (r) => `k${(i + r) % 11}` }), Math.floor(i / 25), ts)
  }
  return { store, fs, timestamps }
}

describe("partition store: appends and reads", () => {
  it("assigns offsets from the log end, stamps the leader epoch, and rolls segments by size", () => {
    const { store } = filled(120)
    expect(store.segmentCount).toBeGreaterThanOrEqual(4)
    let expected = 0
    for (const { header } of store.batches()) {
      expect(header.baseOffset).toBe(expected)
      expected = header.baseOffset + header.lastOffsetDelta + 1
    }
    expect(store.logEndOffset).toBe(expected)
    expect(store.epochCache.map((e) => e.epoch)).toEqual([0, 1, 2, 3, 4])
    const e2 = store.epochCache[2]!
    expect(store.endOffsetForEpoch(1)).toEqual({ epoch: 1, endOffset: e2.startOffset })
    expect(store.endOffsetForEpoch(99)).toEqual({ epoch: 4, endOffset: store.logEndOffset })
    expect(store.endOffsetForEpoch(-5)).toEqual({ epoch: -1, endOffset: -1 })
    store.assertInvariants()
  })

  it("reads by offset return whole batches from the one holding the offset, within the byte and offset bounds", () => {
    const { store } = filled(120)
    store.setHighWatermark(200)
    const all = allRecords(store)
    for (let offset = 0; offset <= store.logEndOffset; offset++) {
      const slice = store.read(offset, { maxBytes: 700, maxOffset: store.highWatermark })
      const bytes = store.readSlice(slice)
      expect(bytes.length).toBe(slice.length)
      let at = 0
      let count = 0
      while (at < bytes.length) {
        const { header, records } = decodeRecords(bytes.subarray(at))
        if (count === 0) expect(header.baseOffset).toBe(slice.firstOffset)
        expect(header.baseOffset).toBeLessThan(store.highWatermark)
        for (const r of records) expect(all.find((x) => x.offset === header.baseOffset + r.offsetDelta)).toBeDefined()
        at += header.sizeBytes
        count++
      }
      if (offset >= store.highWatermark) expect(slice.length).toBe(0)
      else {
        expect(count).toBeGreaterThan(0)
        expect(slice.firstOffset).toBeLessThanOrEqual(offset)
        expect(slice.nextOffset).toBeGreaterThan(offset)
        expect(slice.length <= 700 || count === 1).toBe(true)
      }
    }
    expect(() => store.read(store.logEndOffset + 1, { maxBytes: 100 })).toThrow(OffsetOutOfRangeError)
    expect(() => store.read(-1, { maxBytes: 100 })).toThrow(OffsetOutOfRangeError)
  })

  it("a batch bigger than maxBytes comes alone with minOneBatch, and not at all without it", () => {
    const { store } = filled(10)
    const first = store.read(0, { maxBytes: 1 })
    expect(first.length).toBe(readBatchHeader(store.readSlice(first)).sizeBytes)
    expect(store.read(0, { maxBytes: 1, minOneBatch: false }).length).toBe(0)
  })

  it("reads by timestamp find the first record at or after it (brute force agrees), and the max-timestamp record", () => {
    const { store } = filled(120)
    const all = allRecords(store)
    for (let ts = 9_950; ts <= 11_300; ts += 7) {
      const expected = all.find((r) => r.timestamp >= ts)
      expect(store.offsetForTimestamp(ts), `timestamp ${ts}`).toEqual(expected === undefined ? undefined : { offset: expected.offset, timestamp: expected.timestamp })
    }
    const maxTs = Math.max(...all.map((r) => r.timestamp))
    expect(store.offsetOfMaxTimestamp()).toEqual({ offset: all.find((r) => r.timestamp === maxTs)!.offset, timestamp: maxTs })
  })

  it("rolls a segment once its first batch is segment.ms old", () => {
    const { store } = PartitionStore.open(new FaultyFs(), "/p", { config: parseLogConfig({ "segment.ms": "1000" }), now: 0 })
    store.appendAsLeader(batch({ count: 1, timestamp: 0 }), 0, 0)
    store.appendAsLeader(batch({ count: 1, timestamp: 999 }), 0, 999)
    expect(store.segmentCount).toBe(1)
    store.appendAsLeader(batch({ count: 1, timestamp: 1000 }), 0, 1000)
    expect(store.segmentCount).toBe(2)
  })
})

describe("partition store: retention, delete-records, truncation", () => {
  it("time retention deletes closed segments whose newest record expired, never past the high watermark", () => {
    const { store } = filled(120)
    const segments = store.segmentCount
    const before = allRecords(store)
    const now = 10_000 + 600 + 7 * 24 * 3600 * 1000 // records before 10_600 have expired
    expect(store.applyRetention(now)).toBe(0) // nothing committed yet
    store.setHighWatermark(store.logEndOffset)
    const deleted = store.applyRetention(now)
    expect(deleted).toBeGreaterThan(0)
    expect(store.segmentCount).toBe(segments - deleted)
    const first = allRecords(store)[0]!
    expect(store.logStartOffset).toBe(first.offset)
    expect(before.filter((r) => r.offset < first.offset).every((r) => r.timestamp < 10_600)).toBe(true)
    expect(store.applyRetention(now)).toBe(0) // the first remaining segment holds a newer record
    expect(() => store.read(store.logStartOffset - 1, { maxBytes: 100 })).toThrow(OffsetOutOfRangeError)
    store.assertInvariants()
  })

  it("an expired active segment is rolled so it can go; everything expires", () => {
    const { store } = filled(30, parseLogConfig({ "retention.ms": "1000" }))
    store.setHighWatermark(store.logEndOffset)
    expect(store.applyRetention(10_000 + 300 + 1001)).toBe(1)
    expect(store.logStartOffset).toBe(store.logEndOffset)
    expect(allRecords(store)).toEqual([])
  })

  it("size retention deletes the oldest closed segments while the rest is at least retention.bytes", () => {
    const { store } = filled(120, small({ "retention.bytes": "10000", "retention.ms": "-1" }))
    store.setHighWatermark(store.logEndOffset)
    store.applyRetention(0)
    expect(store.sizeBytes).toBeGreaterThanOrEqual(10_000 - 4000)
    expect(store.sizeBytes).toBeLessThan(10_000 + 4000)
  })

  it("delete-records moves the log start (up to the high watermark), durably, and drops whole segments below it", () => {
    const fs = new FaultyFs()
    const { store } = filled(120, small(), fs)
    store.setHighWatermark(150)
    expect(() => store.deleteRecordsBefore(151, 1)).toThrow(OffsetOutOfRangeError)
    const segments = store.segmentCount
    expect(store.deleteRecordsBefore(97, 1)).toBe(97)
    expect(store.segmentCount).toBeLessThan(segments)
    expect(allRecords(store)[0]!.offset).toBe(97)
    expect(store.offsetForTimestamp(0)?.offset).toBe(97)
    expect(store.deleteRecordsBefore(-1, 1)).toBe(150) // -1: up to the high watermark
    // Durable: a crash right now (nothing flushed since) does not bring them back.
    const { store: after } = PartitionStore.open(fs.crash("lose-unsynced"), "/p", { config: small(), now: 2 })
    expect(after.logStartOffset).toBe(150)
    expect(allRecords(after)[0]?.offset ?? after.logEndOffset).toBeGreaterThanOrEqual(150)
    expect(after.epochCache[0]!.startOffset).toBeGreaterThanOrEqual(150)
  })

  it("truncation removes the batches from the offset on, durably, with the epoch cache and high watermark", () => {
    const fs = new FaultyFs()
    const { store } = filled(120, small(), fs)
    store.flush()
    store.setHighWatermark(store.logEndOffset)
    const cut = store.epochCache[3]!.startOffset // a batch boundary, as epoch end offsets are
    store.truncateTo(cut, 1)
    expect(store.logEndOffset).toBe(cut)
    expect(store.highWatermark).toBe(cut)
    expect(store.epochCache.map((e) => e.epoch)).toEqual([0, 1, 2])
    store.appendAsLeader(batch({ count: 2, timestamp: 1 }), 7, 2)
    store.flush()
    const { store: after } = PartitionStore.open(fs.crash("lose-unsynced"), "/p", { config: small(), now: 3 })
    expect(after.logEndOffset).toBe(cut + 2)
    expect(after.epochCache.map((e) => e.epoch)).toEqual([0, 1, 2, 7])
    expect(allRecords(after).filter((r) => r.offset >= cut).map((r) => r.timestamp)).toEqual([1, 2])
    after.assertInvariants()
  })

  it("a follower appends its leader's batches as they are, and refuses ones that go back", () => {
    const { store: leader } = filled(20)
    const { store: follower } = PartitionStore.open(new FaultyFs(), "/f", { config: small(), now: 0 })
    for (const { bytes } of leader.batches()) follower.appendAsFollower(bytes.slice(), 0)
    expect(allRecords(follower)).toEqual(allRecords(leader))
    expect(follower.epochCache).toEqual(leader.epochCache)
    const first = leader.batches().next().value!.bytes
    expect(() => follower.appendAsFollower(first.slice(), 0)).toThrow(RecordBatchError)
  })
})

describe("partition store: reopening and recovery", () => {
  it("a clean close and reopen loads every index instead of scanning, and reads the same records", () => {
    const fs = new FaultyFs()
    const { store } = filled(120, small(), fs)
    store.setHighWatermark(100)
    const before = allRecords(store)
    store.close(5)
    const { store: again, recovery } = PartitionStore.open(fs, "/p", { config: small(), now: 6 })
    expect(recovery.indexesRebuilt).toBe(0)
    expect(recovery.scanned).toBe(0) // the recovery point covers the last segment, whose index close() saved
    expect(recovery.truncatedBytes).toBe(0)
    expect(allRecords(again)).toEqual(before)
    expect(again.highWatermark).toBe(100)
    expect(again.offsetForTimestamp(10_500)).toEqual(store.offsetForTimestamp(10_500))
  })

  it("a torn tail after the recovery point is cut at the last whole batch", () => {
    const fs = new FaultyFs()
    const { store } = filled(30, small(), fs)
    store.close(1)
    const end = store.logEndOffset
    const last = [...fs.files().keys()].filter((f) => f.endsWith(".log")).sort().pop()!
    const h = fs.openAppend(last)
    h.write(batch({ count: 3, timestamp: 5 }).subarray(0, 40)) // half a header
    const { store: again, recovery } = PartitionStore.open(fs, "/p", { config: small(), now: 2 })
    expect(again.logEndOffset).toBe(end)
    expect(recovery.truncatedBytes).toBe(40)
    expect(recovery.truncatedBecause).toMatch(/torn|runs past/)
  })

  it("a corrupt batch before the recovery point is refused loudly, not dropped", () => {
    const fs = new FaultyFs()
    const { store } = filled(120, small(), fs)
    store.close(1)
    const logs = [...fs.files().keys()].filter((f) => f.endsWith(".log")).sort()
    // A byte flipped inside the records of the second segment's first batch.
    const victim = logs[1]!
    const bytes = fs.readFile(victim)
    bytes[70] = bytes[70]! ^ 0xff
    fs.writeFile(victim, bytes)
    fs.unlink(victim.replace(/\.log$/, ".index")) // so its index must be rebuilt from the log
    expect(() => PartitionStore.open(fs, "/p", { config: small(), now: 2 })).toThrow(CorruptLogError)
  })

  it("verifyAll checks every CRC even where indexes are valid", () => {
    const fs = new FaultyFs()
    const { store } = filled(120, small(), fs)
    store.close(1)
    const victim = [...fs.files().keys()].filter((f) => f.endsWith(".log")).sort()[0]!
    const bytes = fs.readFile(victim)
    bytes[100] = bytes[100]! ^ 0x01
    fs.writeFile(victim, bytes)
    expect(() => PartitionStore.open(fs, "/p", { config: small(), now: 2 })).not.toThrow() // the index is trusted
    expect(() => PartitionStore.open(fs, "/p", { config: small(), now: 2, verifyAll: true })).toThrow(CorruptLogError)
  })

  it("a stale or damaged index is detected and rebuilt", () => {
    const fs = new FaultyFs()
    const { store } = filled(120, small(), fs)
    const before = allRecords(store)
    store.close(1)
    const index = [...fs.files().keys()].filter((f) => f.endsWith(".index")).sort()[1]!
    const bytes = fs.readFile(index)
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0x10
    fs.writeFile(index, bytes)
    const { store: again, recovery } = PartitionStore.open(fs, "/p", { config: small(), now: 2 })
    expect(recovery.indexesRebuilt).toBe(1)
    expect(allRecords(again)).toEqual(before)
  })

  it("works the same on the real file system", () => {
    const dir = mkdtempSync(nodePath.join(os.tmpdir(), "sequent-partition-"))
    try {
      const { store } = filled(60, small({ "flush.messages": "1" }), nodeFs, dir)
      expect(store.recoveryPoint).toBe(store.logEndOffset)
      const before = allRecords(store)
      store.close(1)
      const { store: again } = PartitionStore.open(nodeFs, dir, { config: small(), now: 2 })
      expect(allRecords(again)).toEqual(before)
      again.close(3)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe("partition store: bad input and configuration", () => {
  it("a batch with a bad CRC, stray bytes, or one over max.message.bytes is refused and nothing is written", () => {
    const { store } = filled(5, small({ "max.message.bytes": "300" }))
    const end = store.logEndOffset
    const size = store.sizeBytes
    const bad = batch({ count: 2, timestamp: 1 })
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1
    expect(() => store.appendAsLeader(bad, 0, 1)).toThrow(expect.objectContaining({ reason: "crc" }))
    const good = batch({ count: 2, timestamp: 1 })
    const stray = new Uint8Array(good.length + 5)
    stray.set(good)
    expect(() => store.appendAsLeader(stray, 0, 1)).toThrow(RecordBatchError)
    expect(() => store.appendAsLeader(new Uint8Array(0), 0, 1)).toThrow(RecordBatchError)
    expect(() => store.appendAsLeader(batch({ count: 40, timestamp: 1 }), 0, 1)).toThrow(MessageTooLargeError)
    const magic1 = batch({ count: 1, timestamp: 1 })
    magic1[16] = 1
    expect(() => store.appendAsLeader(magic1, 0, 1)).toThrow(/magic 1/)
    expect(() => store.appendAsLeader(batch({ count: 1, timestamp: 1 }), -5, 1)).toThrow(/older/)
    expect(store.logEndOffset).toBe(end)
    expect(store.sizeBytes).toBe(size)
  })

  it("config values are checked with messages that name the setting", () => {
    expect(parseLogConfig({ "segment.bytes": "1048576", "cleanup.policy": "compact, delete", "unknown.thing": "x" })).toMatchObject({ segmentBytes: 1048576, cleanupPolicy: "compact,delete" })
    expect(parseLogConfig({ "flush.ms": "9223372036854775807" }).flushMs).toBe(Number.MAX_SAFE_INTEGER)
    expect(() => parseLogConfig({ "segment.bytes": "10" })).toThrow(new LogConfigError("segment.bytes: 10 is outside [14, 2147483647]"))
    expect(() => parseLogConfig({ "retention.ms": "soon" })).toThrow(/retention.ms: 'soon' is not an integer/)
    expect(() => parseLogConfig({ "cleanup.policy": "shred" })).toThrow(/cleanup.policy/)
    expect(() => parseLogConfig({ "flush.messages": "99999999999999999999" })).toThrow(/64-bit/)
  })
})

describe("partition store: flush policy", () => {
  it("flush.messages=1 fsyncs every append; the default leaves it to flush(), rolls and flush.ms", () => {
    const every = filled(3, small({ "flush.messages": "1" })).store
    expect(every.recoveryPoint).toBe(every.logEndOffset)
    const lazy = filled(3, small({ "flush.ms": "100" })).store
    expect(lazy.recoveryPoint).toBe(0)
    lazy.tick(10_000 + 99) // the first unflushed append was at 10_000
    expect(lazy.recoveryPoint).toBe(0)
    lazy.tick(10_000 + 100)
    expect(lazy.recoveryPoint).toBe(lazy.logEndOffset)
  })

  it("flush.messages=N fsyncs once N records are unflushed", () => {
    const { store } = PartitionStore.open(new FaultyFs(), "/p", { config: parseLogConfig({ "flush.messages": "5" }), now: 0 })
    store.appendAsLeader(batch({ count: 3, timestamp: 0 }), 0, 0)
    expect(store.recoveryPoint).toBe(0)
    store.appendAsLeader(batch({ count: 2, timestamp: 0 }), 0, 0)
    expect(store.recoveryPoint).toBe(5)
  })
})

