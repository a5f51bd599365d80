/**
 * The transaction history as an immutable value with amortised O(1) append.
 *
 * Every `NodeState` is a value: `step` never mutates its input. Copying the whole history on each
 * append would make a long run quadratic, so histories share one backing array and each value
 * remembers its own length. Appending to the newest value pushes in place; appending to an older
 * value (whose backing array has since grown) or truncating copies first, so no value ever sees
 * another's entries change.
 *
 * A compacted history starts with a `base` snapshot standing for its first `base.index` entries.
 * Positions always count from the first transaction ever (the spec's numbering), so compaction
 * changes no position; only entries after the base can be read.
 */
import { assert } from "./assert.ts"
import type { Snapshot, Txn } from "./types.ts"
import { ZERO_ZXID, type Zxid } from "./zxid.ts"

export class Log {
  private constructor(
    /** Entries after the base: backing[k] is at position baseIndex + k + 1. */
    private readonly backing: Txn[],
    readonly length: number,
    readonly base: Snapshot | undefined,
  ) {}

  static readonly empty: Log = new Log([], 0, undefined)

  /** The history `base` (if any) followed by `txns`. */
  static of(txns: readonly Txn[], base?: Snapshot): Log {
    let prev = base?.zxid ?? ZERO_ZXID
    for (const t of txns) {
      assert(t.zxid > prev, "history zxids must increase")
      prev = t.zxid
    }
    return new Log(txns.slice(), (base?.index ?? 0) + txns.length, base)
  }

  /** Number of compacted entries (0 without a base). */
  get baseIndex(): number {
    return this.base?.index ?? 0
  }

  get baseZxid(): Zxid {
    return this.base?.zxid ?? ZERO_ZXID
  }

  /** Whether zxid z falls strictly inside the compacted prefix, where positions can no longer be found. */
  compacted(z: Zxid): boolean {
    return z < this.baseZxid
  }

  /** Entry at 1-based position `i` (the spec's numbering); compacted entries cannot be read. */
  at(i: number): Txn {
    assert(i > this.baseIndex && i <= this.length, `log position ${i} outside ${this.baseIndex + 1}..${this.length}`)
    return this.backing[i - this.baseIndex - 1]!
  }

  get lastZxid(): Zxid {
    return this.zxidAt(this.length)
  }

  /** Zxid of the entry at 1-based position i: 0 for position 0, the base's zxid at the base. */
  zxidAt(i: number): Zxid {
    if (i === 0) return ZERO_ZXID
    if (i === this.baseIndex) return this.baseZxid
    return this.at(i).zxid
  }

  /** Number of entries whose zxid is <= z (binary search: zxids increase). Not for compacted zxids. */
  countUpTo(z: Zxid): number {
    assert(!this.compacted(z), `zxid ${z} is inside the compacted prefix`)
    let lo = 0
    let hi = this.length - this.baseIndex
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.backing[mid]!.zxid <= z) lo = mid + 1
      else hi = mid
    }
    return this.baseIndex + lo
  }

  /** 1-based position of zxid z, 0 for the zero zxid, or -1 when absent or compacted. */
  positionOf(z: Zxid): number {
    if (z === ZERO_ZXID) return 0
    if (this.compacted(z)) return -1
    const n = this.countUpTo(z)
    return n > 0 && this.zxidAt(n) === z ? n : -1
  }

  append(txns: readonly Txn[]): Log {
    if (txns.length === 0) return this
    let prev = this.lastZxid
    for (const t of txns) {
      assert(t.zxid > prev, `append out of order: ${t.zxid} after ${prev}`)
      prev = t.zxid
    }
    const own = this.length - this.baseIndex
    const shared = this.backing.length === own
    const backing = shared ? this.backing : this.backing.slice(0, own)
    for (const t of txns) backing.push(t)
    return new Log(backing, this.length + txns.length, this.base)
  }

  truncate(length: number): Log {
    assert(length >= this.baseIndex && length <= this.length, `truncate to ${length} outside ${this.baseIndex}..${this.length}`)
    if (length === this.length) return this
    return new Log(this.backing.slice(0, length - this.baseIndex), length, this.base)
  }

  /** Drops the entries up to `snapshot` (which must stand for an entry of this log, after the base). */
  compact(snapshot: Snapshot): Log {
    assert(snapshot.index > this.baseIndex && snapshot.index <= this.length, `compact to ${snapshot.index} outside ${this.baseIndex + 1}..${this.length}`)
    assert(this.zxidAt(snapshot.index) === snapshot.zxid, "a snapshot's zxid must be the entry's at its index")
    return new Log(this.backing.slice(snapshot.index - this.baseIndex, this.length - this.baseIndex), this.length, snapshot)
  }

  /** Entries at 1-based positions from+1 .. to (a copy); `from` may not be before the base. */
  slice(from: number, to: number = this.length): Txn[] {
    assert(from >= this.baseIndex && from <= to && to <= this.length, `slice ${from}..${to} outside ${this.baseIndex}..${this.length}`)
    return this.backing.slice(from - this.baseIndex, to - this.baseIndex)
  }

  /** The entries after the base. */
  toArray(): Txn[] {
    return this.backing.slice(0, this.length - this.baseIndex)
  }
}
