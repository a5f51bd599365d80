/**
 * Crash consistency of the partition store on FaultyFs: an append workload with flushes after
 * random groups of appends, segment rolls, checkpoints, high-watermark moves and a delete-records,
 * crashed at EVERY write/fsync point, each time in several ways (process crash, power loss keeping
 * nothing unsynced, seeded power losses keeping random prefixes of unsynced writes and directory
 * operations, with torn and zero-filled writes). After recovery:
 *
 * - recovery never throws on a crash-produced state;
 * - the log is a run of the appended batches, byte for byte, with no gap (nothing after a hole
 *   is exposed), ending no earlier than the last batch a returned flush() covered;
 * - the log start is at least what a returned delete-records set (deleted records stay deleted);
 * - recovery is itself crash-safe: crashing it at each of its own points and recovering again
 *   gives the same log;
 * - the recovered store works: a batch appended and flushed after recovery survives a power loss.
 */
import { describe, expect, it } from "vitest"
import { FaultyFs, SimulatedCrash, mulberry32, type CrashMode } from "../../adapters/disk/fs.ts"
import { PartitionStore, parseLogConfig } from "../../adapters/disk/partition/index.ts"
import { allRecords, batch } from "./partition-helpers.ts"

const DIR = "/data/topic-0"
const config = parseLogConfig({ "segment.bytes": "900", "index.interval.bytes": "200" })
const N = 40
const rand = mulberry32(11)
const specs = Array.from({ length: N }, (_, i) => ({ count: 1 + Math.floor(rand() * 3), timestamp: 1000 + i }))
/** Flush after these appends: groups of 1 to 4 (group commit). */
const flushAfter = new Set<number>()
for (let i = 0; i < N; i += 1 + Math.floor(rand() * 4)) flushAfter.add(i)
const DELETE_AT = 25

interface Progress {
  /** Bytes of each appended batch as stored (offsets and epoch stamped). */
  appended: Uint8Array[]
  /** Batches covered by a flush() that returned. */
  flushed: number
  /** Log start made durable by a delete-records that returned. */
  logStart: number
}

function workload(fs: FaultyFs, p: Progress): void {
  const { store } = PartitionStore.open(fs, DIR, { config, now: 0 })
  for (let i = 0; i < N; i++) {
    const b = batch(specs[i]!)
    const epoch = Math.floor(i / 12)
    const now = 1000 + i
    // Record before the call: a crash inside it may or may not leave the batch behind.
    p.appended.push(b)
    store.appendAsLeader(b, epoch, now) // stamps offset and epoch into `b`
    if (flushAfter.has(i)) {
      store.flush()
      p.flushed = i + 1
      store.setHighWatermark(store.logEndOffset)
      store.tick(now + 5000) // checkpoints the high watermark and recovery point
    }
    if (i === DELETE_AT) p.logStart = store.deleteRecordsBefore(Math.floor(store.highWatermark / 2), now)
  }
  store.close(2000)
  p.flushed = N
}

const fresh = (): Progress => ({ appended: [], flushed: 0, logStart: 0 })
const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

function check(fs: FaultyFs, p: Progress, what: string): { store: PartitionStore; batches: Uint8Array[]; truncated: boolean } {
  let opened: ReturnType<typeof PartitionStore.open>
  try {
    opened = PartitionStore.open(fs, DIR, { config, now: 3000 })
  } catch (e) {
    throw new Error(`${what}: recovery threw: ${(e as Error).stack}`)
  }
  const { store, recovery } = opened
  store.assertInvariants()
  const batches = [...store.batches()].map((b) => b.bytes)
  expect(store.logStartOffset, `${what}: deleted records came back`).toBeGreaterThanOrEqual(p.logStart)
  // The recovered batches are appended[first..first+n), byte for byte, contiguous.
  const first = batches.length === 0 ? -1 : p.appended.findIndex((a) => same(a, batches[0]!))
  if (batches.length > 0) expect(first, `${what}: the first batch is not one that was appended`).toBeGreaterThanOrEqual(0)
  batches.forEach((b, k) => expect(same(b, p.appended[first + k]!), `${what}: batch ${k} differs from append ${first + k}`).toBe(true))
  const end = batches.length === 0 ? store.logEndOffset : store.logEndOffset
  const flushedEnd = p.flushed === 0 ? 0 : lastOffsetOf(p.appended[p.flushed - 1]!) + 1
  expect(end, `${what}: flushed batches lost (log ends at ${end}, flushed up to ${flushedEnd})`).toBeGreaterThanOrEqual(flushedEnd)
  if (batches.length > 0) expect(first + batches.length).toBeGreaterThanOrEqual(p.flushed)
  return { store, batches, truncated: recovery.truncatedBytes > 0 }
}

const lastOffsetOf = (b: Uint8Array): number => {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength)
  return Number(v.getBigInt64(0)) + v.getInt32(23)
}

describe("partition store crash consistency", () => {
  it("survives a crash at every write/fsync point, in every crash mode", () => {
    const clean = new FaultyFs()
    const done = fresh()
    workload(clean, done)
    const total = clean.points
    const whole = check(clean.crash("lose-unsynced"), done, "no crash")
    expect(whole.batches.length).toBeGreaterThan(10)
    expect(whole.store.segmentCount).toBeGreaterThan(3)
    expect(done.logStart).toBeGreaterThan(0)

    const modes: CrashMode[] = ["process", "lose-unsynced", 1, 2, 3, 4, 5, 6]
    let recoveries = 0
    let truncated = 0
    let nested = 0
    for (let k = 1; k <= total; k++) {
      const fs = new FaultyFs({ crashAt: k })
      const p = fresh()
      expect(() => workload(fs, p)).toThrow(SimulatedCrash)
      for (const mode of modes) {
        const image = fs.clone().crash(mode)
        const what = `crash at point ${k}/${total}, mode ${mode}`
        const before = image.clone()
        const got = check(image, p, what)
        recoveries++
        if (got.truncated) truncated++
        // The recovered store keeps working: a batch flushed after recovery survives power loss.
        const extra = batch({ count: 2, timestamp: 9999 })
        got.store.appendAsLeader(extra, 99, 3001)
        got.store.flush()
        const again = PartitionStore.open(image.crash("lose-unsynced"), DIR, { config, now: 3002 })
        const last = [...again.store.batches()].pop()
        expect(last !== undefined && same(last.bytes, extra), `${what}: the batch written after recovery`).toBe(true)

        // Crash recovery itself at each of its points, then recover again: the same log.
        if (typeof mode === "number" && mode > 2) continue
        const probe = before.clone()
        PartitionStore.open(probe, DIR, { config, now: 3000 })
        for (let q = 1; q <= probe.points; q++) {
          for (const m2 of ["lose-unsynced", 9] as const) {
            const c = before.clone()
            c.crashAt = q
            expect(() => PartitionStore.open(c, DIR, { config, now: 3000 })).toThrow(SimulatedCrash)
            const second = check(c.crash(m2), p, `${what}, then recovery crashed at its point ${q}`)
            expect(second.batches.length, `${what}, recovery crashed at ${q}`).toBe(got.batches.length)
            nested++
          }
        }
      }
    }
    console.log(`partition crash test: ${total} crash points x ${modes.length} modes = ${recoveries} recoveries (${truncated} truncated a torn tail), ${nested} after crashing recovery itself`)
    expect(total).toBeGreaterThan(100)
    expect(truncated).toBeGreaterThan(10)
  })
})

describe("partition store crash consistency: compaction", () => {
  // A compacted topic: keyed records and tombstones; every flush commits, rolls and cleans, so
  // each cleaning's rewrite-and-rename of segments is crashed at every one of its points too.
  const keyed = parseLogConfig({ "segment.bytes": "700", "index.interval.bytes": "200", "cleanup.policy": "compact", "delete.retention.ms": "10" })
  const M = 30
  const r = mulberry32(5)
  const rows = Array.from({ length: M }, () => ({ key: `k${Math.floor(r() * 4)}`, tombstone: r() < 0.2 }))
  const cleanAfter = new Set([7, 14, 21, 29])
  const DIR2 = "/data/compacted-0"

  interface Rec {
    offset: number
    key: string | null
    value: string | null
    timestamp: number
  }
  interface P {
    appended: Rec[]
    /** Records that must survive: flushed, and the latest of their key as of the last clean. */
    required: Rec[]
  }

  function cleanWorkload(fs: FaultyFs, p: P): void {
    const { store } = PartitionStore.open(fs, DIR2, { config: keyed, now: 0 })
    for (let i = 0; i < M; i++) {
      const row = rows[i]!
      const offset = store.logEndOffset
      p.appended.push({ offset, key: row.key, value: row.tombstone ? null : `v${i}`, timestamp: 100 * i })
      store.appendAsLeader(batch({ count: 1, timestamp: 100 * i, key: () => row.key, value: () => (row.tombstone ? null : `v${i}`) }), 0, 100 * i)
      if (cleanAfter.has(i)) {
        store.flush()
        store.setHighWatermark(store.logEndOffset)
        store.roll(100 * i)
        // Everything flushed must stay, unless a later record of its key (or its age, for a
        // tombstone older than delete.retention.ms) lets this cleaning remove it.
        const latest = new Map(p.appended.map((x) => [x.key, x.offset]))
        p.required = p.appended.filter((x) => latest.get(x.key) === x.offset && (x.value !== null || x.timestamp >= 100 * i - 10))
        store.compact(100 * i)
      }
    }
    store.close(100 * M)
  }

  it("a crash anywhere in a cleaning leaves the old segment or the new one, and loses nothing it should keep", () => {
    const clean = new FaultyFs()
    const done: P = { appended: [], required: [] }
    cleanWorkload(clean, done)
    const total = clean.points
    let recoveries = 0
    for (let k = 1; k <= total; k++) {
      const fs = new FaultyFs({ crashAt: k })
      const p: P = { appended: [], required: [] }
      expect(() => cleanWorkload(fs, p)).toThrow(SimulatedCrash)
      for (const mode of ["process", "lose-unsynced", 1, 2, 3] as CrashMode[]) {
        const what = `crash at point ${k}/${total}, mode ${mode}`
        let store: PartitionStore
        try {
          store = PartitionStore.open(fs.clone().crash(mode), DIR2, { config: keyed, now: 5000 }).store
        } catch (e) {
          throw new Error(`${what}: recovery threw: ${(e as Error).stack}`)
        }
        store.assertInvariants()
        const got = allRecords(store)
        for (const x of got) expect(p.appended.find((a) => a.offset === x.offset), `${what}: record ${x.offset} was never appended as such`).toEqual(x)
        for (const x of p.required) expect(got.find((g) => g.offset === x.offset), `${what}: record ${x.offset} (${x.key}) lost`).toEqual(x)
        recoveries++
      }
    }
    console.log(`partition compaction crash test: ${total} crash points, ${recoveries} recoveries`)
    expect(total).toBeGreaterThan(100)
  })
})
