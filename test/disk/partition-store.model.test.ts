/**
 * Model-based test of the partition store (fc.commands) against core/log's `PartitionLog` (the
 * offsets model, itself checked against a per-offset model) plus the list of batch bytes:
 * leader appends with epoch bumps, high-watermark moves, truncations
 * to batch boundaries, delete-records, rolls, flushes, clean reopens and power losses after a
 * flush, all on tiny segments so every command crosses segment boundaries.
 *
 * After every command: the same batches byte for byte, the same log start, log end and epoch
 * cache (and OffsetsForLeaderEpoch answers), the high watermark (a power loss may take it back
 * to its last checkpoint, never below the log start), and reads from every batch boundary.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { FaultyFs } from "../../adapters/disk/fs.ts"
import { PartitionStore, parseLogConfig } from "../../adapters/disk/partition/index.ts"
import { PartitionLog, readBatchHeader, type BatchMeta } from "../../core/log/index.ts"
import { batch } from "./partition-helpers.ts"

const config = parseLogConfig({ "segment.bytes": "400", "index.interval.bytes": "100" })
const DIR = "/p"

interface Model {
  log: PartitionLog
  bytes: Map<number, Uint8Array>
  now: number
}
interface Real {
  fs: FaultyFs
  store: PartitionStore
}
type Cmd = fc.Command<Model, Real>

/** How often the commands that matter did something (a run that never does is no test). */
const did = { deletes: 0, truncations: 0, powerLosses: 0, rolls: 0 }

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

function meta(b: Uint8Array): BatchMeta {
  const h = readBatchHeader(b)
  return {
    baseOffset: h.baseOffset,
    lastOffset: h.baseOffset + h.lastOffsetDelta,
    epoch: h.partitionLeaderEpoch,
    sizeBytes: h.sizeBytes,
    maxTimestamp: h.maxTimestamp,
    producerId: h.producerId,
    producerEpoch: h.producerEpoch,
    baseSequence: h.baseSequence,
    transactional: h.transactional,
    control: h.control,
  }
}

function check(m: Model, r: Real): void {
  const s = r.store
  s.assertInvariants()
  expect(s.logEndOffset).toBe(m.log.logEndOffset)
  expect(s.logStartOffset).toBe(m.log.logStartOffset)
  expect(s.highWatermark).toBe(m.log.highWatermark)
  expect(s.epochCache).toEqual(m.log.epochs)
  for (let e = -1; e <= s.latestEpoch + 1; e++) expect(s.endOffsetForEpoch(e)).toEqual(m.log.endOffsetFor(e))
  const got = [...s.batches()]
  const want = m.log.batches.filter((b) => b.lastOffset >= m.log.logStartOffset)
  expect(got.map((g) => g.header.baseOffset)).toEqual(want.map((b) => b.baseOffset))
  got.forEach((g, i) => expect(same(g.bytes, m.bytes.get(want[i]!.baseOffset)!)).toBe(true))
  for (const b of want) {
    const from = Math.max(b.baseOffset, m.log.logStartOffset)
    const slice = s.read(from, { maxBytes: 1 })
    expect(slice.firstOffset).toBe(b.baseOffset)
    expect(same(s.readSlice(slice), m.bytes.get(b.baseOffset)!)).toBe(true)
  }
}

class LeaderAppend implements Cmd {
  constructor(
    readonly bump: number,
    readonly count: number,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    const epoch = Math.max(0, m.log.latestEpoch + this.bump)
    m.now += 10
    const b = batch({ count: this.count, timestamp: m.now })
    const res = r.store.appendAsLeader(b, epoch, m.now)
    expect(res.baseOffset).toBe(m.log.logEndOffset)
    m.bytes.set(res.baseOffset, b.slice())
    m.log = m.log.append(meta(b))
    check(m, r)
  }
  toString = () => `LeaderAppend(+${this.bump}, ${this.count})`
}

class SetHw implements Cmd {
  constructor(readonly frac: number) {}
  check = () => true
  run(m: Model, r: Real): void {
    const hw = m.log.logStartOffset + Math.floor(this.frac * (m.log.logEndOffset - m.log.logStartOffset + 1) * 0.999)
    r.store.setHighWatermark(hw)
    m.log = m.log.withHighWatermark(hw)
    check(m, r)
  }
  toString = () => `SetHw(${this.frac.toFixed(2)})`
}

class Truncate implements Cmd {
  constructor(readonly pick: number) {}
  check = () => true
  run(m: Model, r: Real): void {
    const bounds = [...m.log.batches.map((b) => b.baseOffset).filter((o) => o >= m.log.logStartOffset), m.log.logEndOffset]
    const to = bounds[this.pick % bounds.length]!
    m.now += 1
    r.store.truncateTo(to, m.now)
    if (to < m.log.logEndOffset) did.truncations++
    m.log = m.log.truncateTo(to)
    for (const k of [...m.bytes.keys()]) if (k >= to) m.bytes.delete(k)
    check(m, r)
  }
  toString = () => `Truncate(${this.pick})`
}

class DeleteRecords implements Cmd {
  constructor(readonly frac: number) {}
  check = () => true
  run(m: Model, r: Real): void {
    const to = m.log.logStartOffset + Math.floor(this.frac * (m.log.highWatermark - m.log.logStartOffset + 1) * 0.999)
    m.now += 1
    expect(r.store.deleteRecordsBefore(to, m.now)).toBe(Math.max(to, m.log.logStartOffset))
    if (to > m.log.logStartOffset) did.deletes++
    m.log = m.log.advanceLogStart(to)
    check(m, r)
  }
  toString = () => `DeleteRecords(${this.frac.toFixed(2)})`
}

class Reopen implements Cmd {
  constructor(readonly powerLoss: boolean) {}
  check = () => true
  run(m: Model, r: Real): void {
    m.now += 1
    if (this.powerLoss) {
      did.powerLosses++
      r.store.flush()
      r.fs = r.fs.crash(m.now)
    } else r.store.close(m.now)
    r.store = PartitionStore.open(r.fs, DIR, { config, now: m.now }).store
    // The high watermark comes back from its last checkpoint (replication re-learns it).
    expect(r.store.highWatermark).toBeLessThanOrEqual(m.log.highWatermark)
    if (!this.powerLoss) expect(r.store.highWatermark).toBe(m.log.highWatermark)
    r.store.setHighWatermark(m.log.highWatermark)
    check(m, r)
  }
  toString = () => `Reopen(powerLoss=${this.powerLoss})`
}

class Roll implements Cmd {
  check = () => true
  run(m: Model, r: Real): void {
    m.now += 1
    if (m.log.logEndOffset > 0) did.rolls++
    r.store.roll(m.now)
    check(m, r)
  }
  toString = () => "Roll"
}

const append = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 4 })).map(([b, c]) => new LeaderAppend(b, c))
// Fractions as integers: fc.double({ min: 0, max: 1 }) draws mostly values near 0.
const fraction = fc.integer({ min: 0, max: 100 }).map((p) => p / 100)
const commands = [
  append,
  append,
  append,
  fraction.map((f) => new SetHw(f)),
  fc.nat().map((p) => new Truncate(p)),
  fraction.map((f) => new DeleteRecords(f)),
  fc.boolean().map((p) => new Reopen(p)),
  fc.constant(new Roll()),
]

describe("PartitionStore against the PartitionLog model", () => {
  it("agrees on batches, offsets, high watermark and epochs through truncations, deletes, rolls and reopens", () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 60, size: "max" }), (cmds) => {
        const fs = new FaultyFs()
        fc.modelRun(() => ({ model: { log: PartitionLog.empty(), bytes: new Map(), now: 0 }, real: { fs, store: PartitionStore.open(fs, DIR, { config, now: 0 }).store } }), cmds)
      }),
      { numRuns: 150 },
    )
    expect(did.deletes).toBeGreaterThan(50)
    expect(did.truncations).toBeGreaterThan(50)
    expect(did.powerLosses).toBeGreaterThan(50)
    expect(did.rolls).toBeGreaterThan(50)
  })
})
