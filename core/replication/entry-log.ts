/**
 * A replica's log of records as a value with O(1) amortized appends. States are values (the
 * simulator and traces keep old ones), yet copying the whole log on every append made the core
 * quadratic. So logs share one backing array: a log is a prefix of it (`length`), and appending
 * to the newest log extends the array in place, which no older log can see (each reads only its
 * own prefix). Appending to an older log, or truncating, copies first.
 */
import type { Entry } from "./types.ts"

export class EntryLog {
  private constructor(
    private readonly items: Entry[],
    readonly length: number,
  ) {}

  static readonly empty = new EntryLog([], 0)

  static of(entries: readonly Entry[]): EntryLog {
    return new EntryLog([...entries], entries.length)
  }

  at(i: number): Entry | undefined {
    return i >= 0 && i < this.length ? this.items[i] : undefined
  }

  get last(): Entry | undefined {
    return this.at(this.length - 1)
  }

  append(entries: readonly Entry[]): EntryLog {
    if (entries.length === 0) return this
    // Shared only while nobody appended past us: otherwise those entries are another log's.
    const items = this.items.length === this.length ? this.items : this.items.slice(0, this.length)
    for (const e of entries) items.push(e)
    return new EntryLog(items, this.length + entries.length)
  }

  /** The first `n` records. Copies: a later append must not overwrite what longer logs hold. */
  truncate(n: number): EntryLog {
    return n >= this.length ? this : new EntryLog(this.items.slice(0, n), n)
  }

  slice(from: number, to = this.length): Entry[] {
    return this.items.slice(from, Math.min(to, this.length))
  }

  toArray(): Entry[] {
    return this.items.slice(0, this.length)
  }
}
