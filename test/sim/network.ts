// Simulated unreliable network between numbered nodes.
//
// The network does not own a queue: send() decides the fate of a message
// (lost, duplicated, when each copy arrives) and returns the scheduled
// deliveries; the harness pushes them into its single global EventQueue so
// deliveries interleave with timers and faults in one total time order. When a
// delivery event pops, the harness calls deliver(d), which re-checks the
// partition state at arrival time, so installing a partition also cuts
// messages already in flight.
//
// Fault model (all drawn from the network's own Prng):
// - delay: uniform integer in [minDelay, maxDelay] ms, independent per copy;
//   independent delays are what reorder messages between the same pair.
// - loss: each send is dropped with probability lossRate.
// - duplication: with probability dupRate a second copy is sent, with its own
//   delay (so the duplicate may even arrive first).
// - partitions: see canTalk(). A node can always talk to itself.
//
// Every send() consumes exactly four draws regardless of outcome or rates, so
// changing fault rates or partitions does not shift the delays of later
// messages (runs stay comparable when a harness tweaks one knob).

import type { Prng } from "./prng.ts";

export interface NetworkConfig {
  /** Minimum one-way delay in ms (integer, >= 0). */
  minDelay: number;
  /** Maximum one-way delay in ms (integer, >= minDelay). */
  maxDelay: number;
  /** Probability in [0, 1] that a sent message is lost. */
  lossRate: number;
  /** Probability in [0, 1] that a (non-lost) message is delivered twice. */
  dupRate: number;
}

export interface Delivery<M> {
  /** Global simulated time at which the copy reaches `to`. */
  at: number;
  from: number;
  to: number;
  msg: M;
}

export interface NetworkStats {
  /** Calls to send(). */
  sent: number;
  /** Copies handed to the recipient by deliver(). */
  delivered: number;
  /** Copies that never arrive: random loss, partitioned at send, or cut in flight. */
  dropped: number;
  /** Extra copies created by duplication. */
  duplicated: number;
}

function validate(c: NetworkConfig): void {
  if (!Number.isInteger(c.minDelay) || !Number.isInteger(c.maxDelay) || c.minDelay < 0 || c.maxDelay < c.minDelay) {
    throw new Error(`SimNetwork: need integers 0 <= minDelay <= maxDelay, got [${c.minDelay}, ${c.maxDelay}]`);
  }
  for (const k of ["lossRate", "dupRate"] as const) {
    const v = c[k];
    if (!(v >= 0 && v <= 1)) throw new Error(`SimNetwork: ${k} must be in [0, 1], got ${v}`);
  }
}

export class SimNetwork<M> {
  private config: NetworkConfig;
  private readonly prng: Prng;
  /** node -> partition group index; null when no group partition is installed. */
  private groupOf: Map<number, number> | null = null;
  /** Nodes cut off from everyone, independent of (and combined with) groups. */
  private readonly isolated = new Set<number>();
  private readonly counters: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };

  constructor(config: NetworkConfig, prng: Prng) {
    validate(config);
    this.config = { ...config };
    this.prng = prng;
  }

  /** Current fault configuration (a copy). */
  faults(): NetworkConfig {
    return { ...this.config };
  }

  /** Changes some fault parameters at runtime, e.g. to calm the network for a
   *  liveness phase. Validated as a whole before being applied. */
  setFaults(partial: Partial<NetworkConfig>): void {
    const next = { ...this.config, ...partial };
    validate(next);
    this.config = next;
  }

  /** Installs a partition, replacing any previous one (isolations are kept).
   *  Nodes in the same group can talk; nodes in different groups cannot.
   *  A node that appears in no group is cut off from every other node: that
   *  way a partition listing only some nodes never accidentally connects an
   *  unlisted node to anyone (fail closed). Groups must be disjoint. */
  partition(groups: number[][]): void {
    const groupOf = new Map<number, number>();
    groups.forEach((g, i) => {
      for (const n of g) {
        if (groupOf.has(n)) throw new Error(`SimNetwork.partition: node ${n} is in more than one group`);
        groupOf.set(n, i);
      }
    });
    this.groupOf = groupOf;
  }

  /** Cuts `node` off from every other node until heal(). */
  isolate(node: number): void {
    this.isolated.add(node);
  }

  /** Removes all partitions and isolations (fault rates are unchanged). */
  heal(): void {
    this.groupOf = null;
    this.isolated.clear();
  }

  /** Whether a message from a to b would currently get through the partitions
   *  (symmetric; ignores random loss). */
  canTalk(a: number, b: number): boolean {
    if (a === b) return true;
    if (this.isolated.has(a) || this.isolated.has(b)) return false;
    if (this.groupOf === null) return true;
    const ga = this.groupOf.get(a);
    const gb = this.groupOf.get(b);
    return ga !== undefined && ga === gb;
  }

  /** Arrival-time check: a copy in flight is lost if a partition now separates
   *  the endpoints. Pure; deliver() is the counting version. */
  deliverable(from: number, to: number): boolean {
    return this.canTalk(from, to);
  }

  /** Decides the fate of a message sent at `now` and returns the deliveries
   *  to schedule: [] if lost or partitioned, 1 normally, 2 if duplicated. */
  send(now: number, from: number, to: number, msg: M): Delivery<M>[] {
    if (!Number.isFinite(now)) throw new Error(`SimNetwork.send: now must be finite, got ${now}`);
    this.counters.sent++;
    const { minDelay, maxDelay, lossRate, dupRate } = this.config;
    // Fixed draw count per send; see the header comment.
    const lost = this.prng.chance(lossRate);
    const dup = this.prng.chance(dupRate);
    const d1 = this.prng.range(minDelay, maxDelay);
    const d2 = this.prng.range(minDelay, maxDelay);

    if (lost || !this.canTalk(from, to)) {
      this.counters.dropped++;
      return [];
    }
    const out: Delivery<M>[] = [{ at: now + d1, from, to, msg }];
    if (dup) {
      this.counters.duplicated++;
      out.push({ at: now + d2, from, to, msg });
    }
    return out;
  }

  /** Call when a delivery event pops from the queue. Returns true if the
   *  recipient should process the message (counted as delivered), false if a
   *  partition installed meanwhile cut it (counted as dropped). The harness is
   *  responsible for discarding messages to crashed nodes. */
  deliver(d: Delivery<M>): boolean {
    if (this.deliverable(d.from, d.to)) {
      this.counters.delivered++;
      return true;
    }
    this.counters.dropped++;
    return false;
  }

  /** Snapshot of the counters, for run reports. */
  stats(): NetworkStats {
    return { ...this.counters };
  }
}
