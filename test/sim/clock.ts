// Per-node clocks over one global simulated time (ms).
//
// The event queue runs on global time, which no node can observe. Each node
// sees local = offset + rate * global: a constant drift rate (e.g. 0.95 = runs
// 5% slow) and an arbitrary offset. This exercises protocol code that wrongly
// compares timestamps across nodes or assumes timeouts elapse in lockstep
// (e.g. leases). Drift is constant per node: real crystal drift is slow, and a
// constant rate keeps local time strictly monotonic, which protocols may
// legitimately assume of a monotonic clock.

import type { Prng } from "./prng.ts";

export class SimClock {
  constructor(
    /** Local ms elapsed per global ms; must be > 0. */
    readonly rate: number = 1,
    /** Local time at global time 0. */
    readonly offset: number = 0,
  ) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new Error(`SimClock: rate must be finite and > 0, got ${rate}`);
    if (!Number.isFinite(offset)) throw new Error(`SimClock: offset must be finite, got ${offset}`);
  }

  /** The node's local clock reading at global time `globalNow`. */
  local(globalNow: number): number {
    return this.offset + this.rate * globalNow;
  }

  /** Global time at which a local timer of `localDelayMs`, started at
   *  `globalNow`, fires. Rounded up to a whole ms so event times stay integers
   *  (readable traces, exact tie-breaking) and the timer never fires early by
   *  the node's own clock. The small epsilon keeps float noise such as
   *  100.00000000001 from adding a spurious extra ms. */
  globalAfter(globalNow: number, localDelayMs: number): number {
    if (!(localDelayMs >= 0)) throw new Error(`SimClock.globalAfter: delay must be >= 0, got ${localDelayMs}`);
    return Math.ceil(globalNow + localDelayMs / this.rate - 1e-9);
  }
}

export interface ClockSkewOptions {
  /** Rates are drawn uniformly from [1 - maxSkew, 1 + maxSkew]; 0 <= maxSkew < 1. */
  maxSkew: number;
  /** Offsets are drawn uniformly from [0, maxOffset] ms (integer). Default 0. */
  maxOffset?: number;
}

/** One clock with random skew/offset drawn from `prng`. */
export function randomClock(prng: Prng, opts: ClockSkewOptions): SimClock {
  const { maxSkew, maxOffset = 0 } = opts;
  if (!(maxSkew >= 0 && maxSkew < 1)) throw new Error(`randomClock: maxSkew must be in [0, 1), got ${maxSkew}`);
  if (!Number.isInteger(maxOffset) || maxOffset < 0) {
    throw new Error(`randomClock: maxOffset must be an integer >= 0, got ${maxOffset}`);
  }
  const rate = 1 - maxSkew + 2 * maxSkew * prng.float();
  const offset = prng.range(0, maxOffset);
  return new SimClock(rate, offset);
}

/** A clock per node, drawn in the order `nodes` is given (so the result only
 *  depends on the seed and that order). Map iteration follows insertion order. */
export function makeClocks(prng: Prng, nodes: readonly number[], opts: ClockSkewOptions): Map<number, SimClock> {
  const clocks = new Map<number, SimClock>();
  for (const n of nodes) {
    if (clocks.has(n)) throw new Error(`makeClocks: duplicate node ${n}`);
    clocks.set(n, randomClock(prng, opts));
  }
  return clocks;
}
