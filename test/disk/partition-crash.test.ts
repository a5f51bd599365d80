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
import { batch } from "./partition-helpers.ts"

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
