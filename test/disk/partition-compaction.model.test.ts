/**
 * Model-based test of log compaction (fc.commands): random appends to a compacted partition
 * (a few keys, values and tombstones, compressed or not, from idempotent producers or not), and
 * cleaning passes at random times, reopenings and power losses after a flush, against a model
 * that is a plain list of records by offset. The model's rule, in the words: after
 * compaction the latest value per key, and only tombstones younger than the delete horizon,
 * remain, at their original offsets.
 *
 * After every command the store holds exactly the model's records (offsets, keys, values), its
 * log end has not moved, and a read from any offset starts at the first surviving record there.
 */
import { gunzipSync, gzipSync } from "node:zlib"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { FaultyFs } from "../../adapters/disk/fs.ts"
import { PartitionStore, parseLogConfig } from "../../adapters/disk/partition/index.ts"
import { Compression, decodeRecords, type Codecs } from "../../core/log/index.ts"
import { allRecords, batch } from "./partition-helpers.ts"

const codecs: Codecs = { [Compression.gzip]: { compress: (b) => gzipSync(b), decompress: (b) => gunzipSync(b) } }
const DELETE_RETENTION = 100
const config = parseLogConfig({
  "cleanup.policy": "compact",
  "segment.bytes": "600",
  "index.interval.bytes": "150",
  "delete.retention.ms": String(DELETE_RETENTION),
})
const DIR = "/p"

interface Rec {
  offset: number
  key: string | null
  value: string | null
  timestamp: number
}
interface Model {
  records: Rec[]
  end: number
  now: number
}
interface Real {
  fs: FaultyFs
  store: PartitionStore
}
type Cmd = fc.Command<Model, Real>

function check(m: Model, r: Real): void {
  const got = allRecords(r.store, codecs)
  expect(got).toEqual(m.records)
  expect(r.store.logEndOffset).toBe(m.end)
  r.store.assertInvariants()
  // Reads by offset, as a consumer does them (a slice of emptied batches moves it on to the
  // slice's next offset): the first record it gets is the model's next one.
  for (let offset = 0; offset < m.end; offset += 3) {
    const next = m.records.find((x) => x.offset >= offset)
    const offsets: number[] = []
    for (let position = offset; offsets.length === 0 && position < m.end; ) {
      const slice = r.store.read(position, { maxBytes: 1 << 20 })
      expect(slice.nextOffset, `read from ${position} makes progress`).toBeGreaterThan(position)
      const bytes = r.store.readSlice(slice)
      for (let at = 0; at < bytes.length; ) {
        const { header, records } = decodeRecords(bytes.subarray(at), codecs)
        for (const x of records) if (header.baseOffset + x.offsetDelta >= offset) offsets.push(header.baseOffset + x.offsetDelta)
        at += header.sizeBytes
      }
      position = slice.nextOffset
    }
    expect(offsets[0], `read from ${offset}`).toBe(next?.offset)
  }
}

class Append implements Cmd {
  constructor(
    readonly keys: (number | null)[],
    readonly tombstones: boolean[],
    readonly gzip: boolean,
    readonly producer: boolean,
    readonly advance: number,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    m.now += this.advance
    const key = (i: number) => (this.keys[i] === null ? null : `key-${this.keys[i]}`)
    const value = (i: number) => (this.tombstones[i] ? null : `v${m.end + i}`)
    const b = batch({ count: this.keys.length, timestamp: m.now, key, value, ...(this.producer ? { producerId: 7 } : {}) }, codecs, this.gzip ? Compression.gzip : Compression.none)
    r.store.appendAsLeader(b, 0, m.now)
    this.keys.forEach((_, i) => m.records.push({ offset: m.end + i, key: key(i), value: value(i), timestamp: m.now + i }))
    m.end += this.keys.length
    check(m, r)
  }
  toString = () => `Append(${JSON.stringify(this.keys)}, ${JSON.stringify(this.tombstones)}, gzip=${this.gzip}, pid=${this.producer}, +${this.advance})`
}

let compactions = 0
let recordsRemoved = 0

/** Commits everything, closes the active segment, and cleans: all of the log is cleanable. */
class Compact implements Cmd {
  constructor(readonly advance: number) {}
  check = () => true
  run(m: Model, r: Real): void {
    m.now += this.advance
    r.store.flush()
    r.store.setHighWatermark(r.store.logEndOffset)
    r.store.roll(m.now)
    recordsRemoved += r.store.compact(m.now).recordsRemoved
    compactions++
    const latest = new Map<string, number>()
    for (const x of m.records) if (x.key !== null) latest.set(x.key, x.offset)
    const horizon = m.now - DELETE_RETENTION
    m.records = m.records.filter((x) => x.key !== null && latest.get(x.key) === x.offset && (x.value !== null || x.timestamp >= horizon))
    check(m, r)
  }
  toString = () => `Compact(+${this.advance})`
}

class Reopen implements Cmd {
  constructor(readonly powerLoss: boolean) {}
  check = () => true
  run(m: Model, r: Real): void {
    if (this.powerLoss) {
      r.store.flush()
      r.fs = r.fs.crash(1 + Math.floor(m.now % 5))
    } else r.store.close(m.now)
    r.store = PartitionStore.open(r.fs, DIR, { config, codecs, now: m.now }).store
    check(m, r)
  }
  toString = () => `Reopen(powerLoss=${this.powerLoss})`
}

const keyArb = fc.option(fc.integer({ min: 0, max: 5 }), { nil: null, freq: 12 })
const commands = [
  fc.integer({ min: 1, max: 4 }).chain((n) =>
    fc
      .tuple(fc.array(keyArb, { minLength: n, maxLength: n }), fc.array(fc.boolean(), { minLength: n, maxLength: n }), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 60 }))
      .map(([keys, tombstones, gz, pid, adv]) => new Append(keys, tombstones, gz, pid, adv)),
  ),
  fc.integer({ min: 0, max: 150 }).map((a) => new Compact(a)),
  fc.boolean().map((p) => new Reopen(p)),
]

describe("log compaction against a model", () => {
  it("keeps the latest record per key and young tombstones, at their offsets, across reopens and power losses", () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 40 }), (cmds) => {
        const fs = new FaultyFs()
        fc.modelRun(() => ({ model: { records: [], end: 0, now: 0 }, real: { fs, store: PartitionStore.open(fs, DIR, { config, codecs, now: 0 }).store } }), cmds)
      }),
      { numRuns: 300 },
    )
    // The runs did compact, and compaction did remove records.
    expect(compactions).toBeGreaterThan(100)
    expect(recordsRemoved).toBeGreaterThan(100)
  })
})
