/**
 * Model-based test of core/log's PartitionLog: random appends (with epoch bumps), high-watermark
 * moves, truncations to batch boundaries and log-start advances, against a model that keeps one
 * entry per offset. After every command: the offsets, the high watermark, the batch lookup and
 * the OffsetsForLeaderEpoch answers agree.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { PartitionLog, UNDEFINED, type BatchMeta } from "../../core/log/index.ts"

interface Model {
  logStart: number
  end: number
  hw: number
  /** One per offset in [logStart, end): its epoch and its batch's base. */
  records: { offset: number; epoch: number; base: number }[]
  /** The epoch in force at logStart when its records were deleted (the cache keeps it). */
  startEpoch: number | undefined
}
interface Real {
  log: PartitionLog
}
type Cmd = fc.Command<Model, Real>

const meta = (base: number, count: number, epoch: number): BatchMeta => ({
  baseOffset: base,
  lastOffset: base + count - 1,
  epoch,
  sizeBytes: 100,
  maxTimestamp: 0,
  producerId: -1,
  producerEpoch: -1,
  baseSequence: -1,
  transactional: false,
  control: false,
})

const latest = (m: Model): number => Math.max(-1, m.startEpoch ?? -1, ...m.records.map((r) => r.epoch))

function check(m: Model, r: Real): void {
  const log = r.log
  expect(log.logStartOffset).toBe(m.logStart)
  expect(log.logEndOffset).toBe(m.end)
  expect(log.highWatermark).toBe(m.hw)
  expect(log.latestEpoch).toBe(latest(m))
  for (const rec of m.records) expect(log.batchFor(rec.offset)?.baseOffset).toBe(rec.base)
  expect(log.batchFor(m.end)).toBeUndefined()
  const known = [...new Set([...(m.startEpoch === undefined ? [] : [m.startEpoch]), ...m.records.map((x) => x.epoch)])].sort((a, b) => a - b)
  for (let e = -1; e <= latest(m) + 1; e++) {
    const f = known.filter((k) => k <= e).pop()
    const expected =
      f === undefined ? UNDEFINED : { epoch: f, endOffset: m.records.find((x) => x.epoch > f)?.offset ?? m.end }
    expect(log.endOffsetFor(e), `epoch ${e}`).toEqual(expected)
  }
}

class Append implements Cmd {
  constructor(readonly bump: number, readonly count: number) {}
  check = () => true
  run(m: Model, r: Real): void {
    const epoch = Math.max(0, latest(m) + this.bump)
    // A new epoch starting at an emptied log's start replaces the one kept there (Kafka's rule).
    if (m.records.length === 0 && m.startEpoch !== undefined && epoch > m.startEpoch) m.startEpoch = undefined
    r.log = r.log.append(meta(m.end, this.count, epoch))
    for (let i = 0; i < this.count; i++) m.records.push({ offset: m.end + i, epoch, base: m.end })
    m.end += this.count
    check(m, r)
  }
  toString = () => `Append(+${this.bump}, ${this.count})`
}

class SetHw implements Cmd {
  constructor(readonly frac: number) {}
  check = () => true
  run(m: Model, r: Real): void {
    const hw = m.logStart + Math.floor(this.frac * (m.end - m.logStart + 1) * 0.999)
    r.log = r.log.withHighWatermark(hw)
    m.hw = Math.max(m.hw, hw)
    check(m, r)
  }
  toString = () => `SetHw(${this.frac.toFixed(2)})`
}

class Truncate implements Cmd {
  constructor(readonly pick: number) {}
  check = () => true
  run(m: Model, r: Real): void {
    // A batch boundary at or above the log start (a base whose batch starts there, or the end).
    const bounds = [...new Set([...m.records.map((x) => x.base).filter((b) => b >= m.logStart), m.end])]
    const to = bounds[this.pick % bounds.length]!
    r.log = r.log.truncateTo(to)
    if (to < m.end) {
      m.records = m.records.filter((x) => x.offset < to)
      m.end = to
      m.hw = Math.min(m.hw, to)
      if (to === m.logStart) m.startEpoch = undefined
    }
    check(m, r)
  }
  toString = () => `Truncate(${this.pick})`
}

class AdvanceStart implements Cmd {
  constructor(readonly frac: number) {}
  check = () => true
  run(m: Model, r: Real): void {
    const to = m.logStart + Math.floor(this.frac * (m.hw - m.logStart + 1) * 0.999)
    r.log = r.log.advanceLogStart(to)
    if (to > m.logStart) {
      const inForce = m.records.filter((x) => x.offset <= to).pop()?.epoch ?? m.startEpoch
      // Records are deleted a batch at a time: a batch that reaches `to` stays whole.
      const firstKept = m.records.find((x) => x.offset >= to)
      m.records = firstKept === undefined ? [] : m.records.filter((x) => x.offset >= to)
      m.startEpoch = inForce
      m.logStart = to
    }
    check(m, r)
  }
  toString = () => `AdvanceStart(${this.frac.toFixed(2)})`
}

// Fractions as integers: fc.double({ min: 0, max: 1 }) draws mostly values near 0.
const fraction = fc.integer({ min: 0, max: 100 }).map((p) => p / 100)
const commands = [
  fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 1, max: 5 })).map(([b, c]) => new Append(b, c)),
  fraction.map((f) => new SetHw(f)),
  fc.nat().map((p) => new Truncate(p)),
  fraction.map((f) => new AdvanceStart(f)),
]

describe("PartitionLog against a per-offset model", () => {
  it("agrees on offsets, high watermark, batch lookup and epoch end offsets", () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 60 }), (cmds) => {
        fc.modelRun(() => ({ model: { logStart: 0, end: 0, hw: 0, records: [], startEpoch: undefined }, real: { log: PartitionLog.empty() } }), cmds)
      }),
      { numRuns: 300 },
    )
  })

  it("refuses what a correct replica never does", () => {
    const log = PartitionLog.empty().append(meta(0, 3, 2))
    expect(() => log.append(meta(5, 1, 2))).toThrow(/the log ends at 3/)
    expect(() => log.append(meta(3, 1, 1))).toThrow(/epoch 1 after epoch 2/)
    expect(() => log.truncateTo(1)).toThrow(/inside the batch/)
    expect(() => log.withHighWatermark(4)).toThrow(RangeError)
    expect(() => log.advanceLogStart(1)).toThrow(/beyond the high watermark/)
  })
})
