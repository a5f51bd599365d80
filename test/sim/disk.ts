// Simulated durable append-only record log, as a node's storage sees it.
//
// Crash model (what survives crash(prng)):
// - Everything made durable by sync() survives, always. A protocol may rely on
//   a synced record and on nothing else.
// - Records appended since the last sync() sit in a volatile write buffer. On a
//   crash they are lost, except that with probability `partialFlushRate` the OS
//   had already flushed a prefix of them: a uniformly chosen non-empty prefix
//   survives. (Never a non-prefix: an append-only file is written in order.)
// - If a prefix survived, with probability `tornRate` its last record is torn:
//   it is on disk but its checksum does not match (a partially written page).
// - A pending replace() (compaction/rewrite) is modelled as "write a new file,
//   fsync, rename": it is atomic, so before sync() it is either not visible at
//   all (crash: the old log survives intact, and appends made after the
//   replace are lost with it) or fully visible (after sync()).
//
// recover() models the log scan at process start: it returns the records up to
// (not including) the first torn one and truncates the log there, as a real
// recovery that verifies CRCs would. Unsynced-but-surviving records (the
// flushed prefix) are returned too: the protocol must tolerate finding records
// it never synced, exactly like on a real disk.
//
// After a crash the disk refuses appends until recover() is called, which
// catches harness bugs where a "dead" node keeps writing.

import type { Prng } from "./prng.ts";

export interface DiskOptions<R> {
  /** Probability that some prefix of the unsynced buffer survives a crash. Default 0.5. */
  partialFlushRate?: number;
  /** Probability that the last surviving unsynced record is torn. Default 0.5. */
  tornRate?: number;
  /** Size of a record in bytes, to count bytes written. Optional. */
  size?: (rec: R) => number;
}

export interface DiskStats {
  appends: number;
  syncs: number;
  replaces: number;
  crashes: number;
  /** Bytes passed to append()/replace(); 0 unless a size function was given. */
  bytesWritten: number;
  /** Unsynced records lost in crashes (including those past a torn one). */
  lostRecords: number;
  /** Torn records created by crashes. */
  tornRecords: number;
}

interface Slot<R> {
  rec: R;
  /** Stored but failing its checksum; only ever produced by a crash. */
  torn: boolean;
}

export class SimDisk<R> {
  private durable: Slot<R>[] = [];
  /** Appends since the last sync (applied on top of `pendingReplace` if set). */
  private buffer: R[] = [];
  /** Unsynced replace(); null when none is pending. */
  private pendingReplace: R[] | null = null;
  private crashed = false;
  private readonly partialFlushRate: number;
  private readonly tornRate: number;
  private readonly sizeOf: ((rec: R) => number) | undefined;
  private readonly counters: DiskStats = {
    appends: 0,
    syncs: 0,
    replaces: 0,
    crashes: 0,
    bytesWritten: 0,
    lostRecords: 0,
    tornRecords: 0,
  };

  constructor(opts: DiskOptions<R> = {}) {
    this.partialFlushRate = opts.partialFlushRate ?? 0.5;
    this.tornRate = opts.tornRate ?? 0.5;
    for (const [k, v] of [["partialFlushRate", this.partialFlushRate], ["tornRate", this.tornRate]] as const) {
      if (!(v >= 0 && v <= 1)) throw new Error(`SimDisk: ${k} must be in [0, 1], got ${v}`);
    }
    this.sizeOf = opts.size;
  }

  /** Buffers a record; it is durable only after the next sync(). */
  append(rec: R): void {
    this.assertUp("append");
    this.buffer.push(rec);
    this.counters.appends++;
    if (this.sizeOf) this.counters.bytesWritten += this.sizeOf(rec);
  }

  /** Replaces the whole log with `recs` (compaction); durable after sync().
   *  Discards appends buffered before it, since the rewrite supersedes them. */
  replace(recs: readonly R[]): void {
    this.assertUp("replace");
    this.pendingReplace = [...recs];
    this.buffer = [];
    this.counters.replaces++;
    if (this.sizeOf) for (const r of recs) this.counters.bytesWritten += this.sizeOf(r);
  }

  /** Makes every buffered write durable (fsync). */
  sync(): void {
    this.assertUp("sync");
    if (this.pendingReplace !== null) {
      this.durable = this.pendingReplace.map((rec) => ({ rec, torn: false }));
      this.pendingReplace = null;
    }
    for (const rec of this.buffer) this.durable.push({ rec, torn: false });
    this.buffer = [];
    this.counters.syncs++;
  }

  /** Power loss / process kill. See the crash model at the top of the file.
   *  Idempotent on an already crashed disk (nothing is buffered any more). */
  crash(prng: Prng): void {
    this.crashed = true;
    this.counters.crashes++;
    if (this.pendingReplace !== null) {
      // Atomic rewrite not yet renamed into place: all of it, and anything
      // appended after it, vanishes; the old durable log is untouched.
      this.counters.lostRecords += this.buffer.length;
      this.pendingReplace = null;
      this.buffer = [];
      return;
    }
    const buf = this.buffer;
    this.buffer = [];
    if (buf.length === 0) return;
    if (!prng.chance(this.partialFlushRate)) {
      this.counters.lostRecords += buf.length;
      return;
    }
    const kept = prng.range(1, buf.length);
    const torn = prng.chance(this.tornRate);
    for (let i = 0; i < kept; i++) {
      this.durable.push({ rec: buf[i] as R, torn: torn && i === kept - 1 });
    }
    this.counters.lostRecords += buf.length - kept;
    if (torn) this.counters.tornRecords++;
  }

  /**
   * A crash between a write and its fsync: `crash(prng)` with the writes buffered now, and
   * whether the last of them survived intact (whether the step that wrote it happened at all).
   */
  crashBeforeSync(prng: Prng): boolean {
    const before = this.durableRecords().length;
    this.crash(prng);
    return this.durableRecords().length > before && !this.hasTornTail();
  }

  /** Process start: returns the intact records (up to the first torn one),
   *  truncating the log there. Requires that nothing is buffered, i.e. this is
   *  a fresh disk or one that crashed; a running node must not "recover". */
  recover(): R[] {
    if (this.buffer.length > 0 || this.pendingReplace !== null) {
      throw new Error("SimDisk.recover: unsynced writes pending; crash() or sync() first");
    }
    const firstTorn = this.durable.findIndex((s) => s.torn);
    if (firstTorn >= 0) this.durable.length = firstTorn;
    this.crashed = false;
    return this.durable.map((s) => s.rec);
  }

  /** Intact durable records (what recover() would return), without mutating. */
  durableRecords(): R[] {
    const out: R[] = [];
    for (const s of this.durable) {
      if (s.torn) break;
      out.push(s.rec);
    }
    return out;
  }

  /** Whether the durable log currently ends in a torn record (test inspection). */
  hasTornTail(): boolean {
    return this.durable.some((s) => s.torn);
  }

  /** Number of records appended but not yet synced. */
  get unsynced(): number {
    return this.buffer.length;
  }

  get isCrashed(): boolean {
    return this.crashed;
  }

  stats(): DiskStats {
    return { ...this.counters };
  }

  private assertUp(op: string): void {
    if (this.crashed) throw new Error(`SimDisk.${op}: disk is crashed; call recover() first`);
  }
}
