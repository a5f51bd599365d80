/**
 * Crash consistency of NodeStorage on FaultyFs: run a workload of Persist records with group
 * commits, snapshots, bases (log compactions to a snapshot, and SNAPs from a leader, two with a
 * base older than the current one), each followed like on the server by a purge of snapshots
 * and a compaction (forced once); crash it at EVERY write/fsync point, each time in several
 * ways (process crash, power loss keeping nothing unsynced, seeded power losses keeping random
 * prefixes of unsynced writes and directory operations, with torn and zero-filled writes);
 * recover and check:
 *
 * - recovery never throws on a crash-produced state;
 * - the recovered Durable is the fold of a prefix of the persisted records that includes every
 *   record whose flush() returned (so nothing acknowledged is lost, and nothing after a hole is
 *   exposed);
 * - the recovered snapshot is one that was written (by saveSnapshot() or for a base), intact,
 *   and no older than the newest one whose write returned; the recovered base has its data
 *   (part of comparing with the fold), so no purge or compaction lost a snapshot it needs;
 * - recovery is itself crash-safe: crashing it at each of its own points and recovering again
 *   yields the same state;
 * - the recovered storage works: a record persisted and flushed after recovery survives.
 */
import { describe, expect, it } from "vitest"
import { recoverDurable } from "../../core/consensus/durable.ts"
import type { Durable, Persist } from "../../core/consensus/types.ts"
import { FaultyFs, SimulatedCrash, type CrashMode } from "../../adapters/disk/fs.ts"
import { NodeStorage, type NodeStorageOptions } from "../../adapters/disk/node-storage.ts"
import { baseData, describeDurable, persistStream, prefixFolds, rng, sameBytes, sameDurable } from "./helpers.ts"

const DIR = "/var/sequent/node1"
const OPTIONS: NodeStorageOptions = { segmentBytes: 350, compactBytes: 1 << 30, myid: 1 }
const N = 70
/** Seed 4 has eight bases: compactions, SNAPs, two SNAPs to a base older than the current one. */
const records = persistStream(4, N, { bases: true })
const folds = prefixFolds(records)
const r = rng(7)
/** Flush after these record indexes: batches of 1 to 4 records (group commit). */
const flushAfter = new Set<number>()
for (let i = 0; i < N; i += 1 + Math.floor(r() * 4)) flushAfter.add(i)
const SNAPSHOT_AT = new Set([20, 50])
/** Forced compaction here (a record with a base: record 35 is a SNAP). */
const COMPACT_AT = 35
const lastZxid = (d: Durable): number => d.log[d.log.length - 1]?.zxid ?? d.base?.zxid ?? 0

interface Progress {
  persisted: number
  flushed: number
  /** Snapshot files whose write started: by saveSnapshot, or by persist for a base. */
  snapshotsStarted: { zxid: number; bytes: Uint8Array }[]
  /** The newest zxid of a snapshot file whose write returned (-1: none). */
  snapshotDone: number
  rewrites: number
}

function workload(fs: FaultyFs, p: Progress): void {
  const { storage } = NodeStorage.open(DIR, fs, OPTIONS)
  for (let i = 0; i < N; i++) {
    const base = records[i]!.base
    if (base !== undefined) p.snapshotsStarted.push({ zxid: base.zxid, bytes: base.data })
    storage.persist(records[i]!) // with a base, writes its snapshot file first
    p.persisted = i + 1
    if (base !== undefined) p.snapshotDone = Math.max(p.snapshotDone, base.zxid)
    if (flushAfter.has(i)) {
      storage.flush()
      p.flushed = i + 1
    }
    if (SNAPSHOT_AT.has(i)) {
      // A snapshot's content is a function of its zxid (baseData), as the application's is.
      const zxid = lastZxid(folds[i + 1]!)
      p.snapshotsStarted.push({ zxid, bytes: baseData(zxid) })
      storage.saveSnapshot(zxid, baseData(zxid)) // flushes first
      p.flushed = i + 1
      p.snapshotDone = Math.max(p.snapshotDone, zxid)
    }
    if (base !== undefined) {
      // As the server does after a snapshot: purge (before the rewrite, the log still names
      // older bases), then compact (a rewrite when the base left most of the log dead).
      storage.purgeSnapshots(1)
      if (storage.compact(i === COMPACT_AT)) p.rewrites++ // flushes first
      p.flushed = i + 1
    }
  }
  storage.flush()
  p.flushed = N
  storage.close()
}

const fresh = (): Progress => ({ persisted: 0, flushed: 0, snapshotsStarted: [], snapshotDone: -1, rewrites: 0 })

/** Recovers `fs` and checks the recovered state against the progress made before the crash. */
function checkRecovery(fs: FaultyFs, p: Progress, what: string): { durable: Durable; truncated: number; expected: Durable } {
  let opened: ReturnType<typeof NodeStorage.open>
  try {
    opened = NodeStorage.open(DIR, fs, OPTIONS)
  } catch (e) {
    throw new Error(`${what}: recovery threw: ${(e as Error).stack}`)
  }
  const { durable, snapshot, storage } = opened
  let j = -1
  for (let k = p.flushed; k <= p.persisted; k++) if (sameDurable(folds[k]!, durable)) j = k
  expect(j, `${what}: recovered ${describeDurable(durable)}, acked ${p.flushed} of ${p.persisted}`).toBeGreaterThanOrEqual(0)

  if (p.snapshotDone >= 0) expect(snapshot, `${what}: a saved snapshot is missing`).toBeDefined()
  if (snapshot !== undefined) {
    const i = p.snapshotsStarted.findIndex((s) => s.zxid === snapshot.zxid && sameBytes(s.bytes, snapshot.bytes))
    expect(i, `${what}: unknown or damaged snapshot ${snapshot.zxid}`).toBeGreaterThanOrEqual(0)
    expect(snapshot.zxid, `${what}: snapshot older than the newest one written`).toBeGreaterThanOrEqual(p.snapshotDone)
  }
  expect(opened.myid === undefined || opened.myid === 1).toBe(true)

  // The recovered storage keeps working: one more record, flushed, survives a power loss.
  const extra: Persist = { _tag: "Persist", currentEpoch: durable.currentEpoch + 1, acceptedEpoch: durable.acceptedEpoch + 1 }
  const expected = recoverDurable([extra], durable)
  storage.persist(extra)
  storage.flush()
  return { durable, truncated: opened.recovery.truncatedBytes, expected }
}

describe("NodeStorage crash consistency", () => {
  it("survives a crash at every write/fsync point, in every crash mode", () => {
    // A full run: count the points and check the final state.
    const clean = new FaultyFs()
    const done = fresh()
    workload(clean, done)
    const total = clean.points
    const end = NodeStorage.open(DIR, clean.crash("lose-unsynced"), OPTIONS)
    expect(sameDurable(end.durable, folds[N]!), `${describeDurable(end.durable)} vs ${describeDurable(folds[N]!)} ${JSON.stringify(end.recovery)}`).toBe(true)
    expect(end.snapshot?.zxid).toBe(done.snapshotDone)
    expect(end.snapshot?.bytes).toEqual(baseData(done.snapshotDone))
    // The workload covers what it means to: bases of each kind, rewrites that drop entries.
    const bases = records.flatMap((p, i) => (p.base === undefined ? [] : [{ i, older: p.base.index < (folds[i]!.base?.index ?? 0) }]))
    expect(bases.length).toBeGreaterThanOrEqual(6)
    expect(bases.some((b) => b.older)).toBe(true)
    expect(bases.some((b) => b.i < COMPACT_AT)).toBe(true)
    expect(records[COMPACT_AT]!.base).toBeDefined()
    expect(done.rewrites, "compactions that rewrote the log").toBeGreaterThanOrEqual(2)

    const modes: CrashMode[] = ["process", "lose-unsynced", 1, 2, 3, 4, 5, 6]
    let recoveries = 0
    let tornTails = 0
    let nested = 0
    let lostUnacked = 0
    for (let k = 1; k <= total; k++) {
      const fs = new FaultyFs({ crashAt: k })
      const p = fresh()
      expect(() => workload(fs, p)).toThrow(SimulatedCrash)
      expect(fs.points).toBe(k)
      for (const mode of modes) {
        const image = fs.clone().crash(mode)
        const what = `crash at point ${k}/${total}, mode ${mode}`
        const before = image.clone()
        const got = checkRecovery(image, p, what)
        recoveries++
        if (got.truncated > 0) tornTails++
        if (!sameDurable(got.durable, folds[p.persisted]!)) lostUnacked++
        // The record flushed after recovery survives a power loss.
        const again = NodeStorage.open(DIR, image.crash("lose-unsynced"), OPTIONS)
        expect(sameDurable(again.durable, got.expected), `${what}: the record written after recovery`).toBe(true)

        // Crash recovery itself at each of its points (modes: power loss, seeded), recover again.
        if (typeof mode === "number" && mode > 2) continue
        const probe = before.clone()
        NodeStorage.open(DIR, probe, OPTIONS)
        for (let q = 1; q <= probe.points; q++) {
          for (const m2 of ["lose-unsynced", 9] as const) {
            const c = before.clone()
            c.crashAt = q
            expect(() => NodeStorage.open(DIR, c, OPTIONS)).toThrow(SimulatedCrash)
            const second = NodeStorage.open(DIR, c.crash(m2), OPTIONS)
            expect(sameDurable(second.durable, got.durable), `${what}, then recovery crashed at its point ${q}`).toBe(true)
            nested++
          }
        }
      }
    }
    console.log(
      `disk crash test: ${total} crash points (workload: ${done.rewrites} log rewrites) x ${modes.length} modes = ${recoveries} recoveries ` +
        `(${tornTails} with a torn/unsynced tail truncated, ${lostUnacked} recovered without some unflushed records, as allowed), ` +
        `${nested} recoveries after crashing recovery itself`,
    )
    expect(total).toBeGreaterThan(100)
    expect(tornTails).toBeGreaterThan(20)
  })
})
