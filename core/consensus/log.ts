/**
 * The transaction history as an immutable value with amortised O(1) append.
 *
 * Every `NodeState` is a value: `step` never mutates its input. Copying the whole history on each
 * append would make a long run quadratic, so histories share one backing array and each value
 * remembers its own length. Appending to the newest value pushes in place; appending to an older
 * value (whose backing array has since grown) or truncating copies first, so no value ever sees
 * another's entries change.
 */
import { assert } from "./assert.ts"
import type { Txn } from "./types.ts"
import { ZERO_ZXID, type Zxid } from "./zxid.ts"

export class Log {
  private constructor(
    private readonly backing: Txn[],
    readonly length: number,
  ) {}

  static readonly empty: Log = new Log([], 0)

  static of(txns: readonly Txn[]): Log {
    for (let i = 1; i < txns.length; i++) {
      assert(txns[i - 1]!.zxid < txns[i]!.zxid, "history zxids must increase")
    }
    return new Log(txns.slice(), txns.length)
  }

  /** Entry at 1-based position `i` (the spec's numbering). */
  at(i: number): Txn {
    assert(i >= 1 && i <= this.length, `log position ${i} outside 1..${this.length}`)
    return this.backing[i - 1]!
  }

  get lastZxid(): Zxid {
    return this.length === 0 ? ZERO_ZXID : this.backing[this.length - 1]!.zxid
  }

  /** Zxid of the entry at 1-based position i, or 0 for position 0. */
  zxidAt(i: number): Zxid {
    return i === 0 ? ZERO_ZXID : this.at(i).zxid
  }

  /** Number of entries whose zxid is <= z (binary search: zxids increase). */
  countUpTo(z: Zxid): number {
    let lo = 0
    let hi = this.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (this.backing[mid]!.zxid <= z) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  /** 1-based position of zxid z, 0 for the zero zxid, or -1 when absent. */
  positionOf(z: Zxid): number {
    if (z === ZERO_ZXID) return 0
    const n = this.countUpTo(z)
    return n > 0 && this.backing[n - 1]!.zxid === z ? n : -1
  }

  append(txns: readonly Txn[]): Log {
    if (txns.length === 0) return this
    let prev = this.lastZxid
    for (const t of txns) {
      assert(t.zxid > prev, `append out of order: ${t.zxid} after ${prev}`)
      prev = t.zxid
    }
    const shared = this.backing.length === this.length
    const backing = shared ? this.backing : this.backing.slice(0, this.length)
    for (const t of txns) backing.push(t)
    return new Log(backing, this.length + txns.length)
  }

  truncate(length: number): Log {
    assert(length >= 0 && length <= this.length, `truncate to ${length} outside 0..${this.length}`)
    if (length === this.length) return this
    return new Log(this.backing.slice(0, length), length)
  }

  /** Entries at 1-based positions from+1 .. to (a copy). */
  slice(from: number, to: number = this.length): Txn[] {
    assert(from >= 0 && from <= to && to <= this.length, `slice ${from}..${to} outside 0..${this.length}`)
    return this.backing.slice(from, to)
  }

  toArray(): Txn[] {
    return this.backing.slice(0, this.length)
  }
}
