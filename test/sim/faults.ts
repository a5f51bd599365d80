// Fault schedules: a plain, serializable list of timed fault events.
//
// Schedules are data rather than callbacks so that the same harness can run
// them from two sources: randomFaultSchedule() for long seeded soak runs, and
// faultScheduleArb() for fast-check properties, where a failing schedule
// shrinks to a minimal one (fewer events, earlier times). Both go through
// normalizeFaultSchedule(), which is the single definition of a well-formed
// schedule:
//   - events sorted by time, integer times in [0, duration);
//   - only listed nodes; crash only an up node, restart only a down node;
//   - never more than maxDown nodes down at once (default: a minority,
//     floor((n - 1) / 2), so a majority quorum can exist once faults stop);
//   - every crash is followed, strictly later and before `duration`, by a
//     restart of that node, so after the schedule every node is up again.
// The schedule only covers the chaos phase. To check liveness a harness should
// afterwards heal() the network, calm the fault rates, and run a quiet phase.

import fc from "fast-check";
import type { Prng } from "./prng.ts";
import type { SimNetwork } from "./network.ts";

export type FaultEvent = { at: number } & (
  | { kind: "crash"; node: number }
  | { kind: "restart"; node: number }
  | { kind: "partition"; groups: number[][] }
  | { kind: "isolate"; node: number }
  | { kind: "heal" }
  | { kind: "lossy"; lossRate: number; dupRate: number }
  | { kind: "calm" }
);

export type FaultKind = FaultEvent["kind"];

export interface FaultScheduleOptions {
  nodes: readonly number[];
  /** Length of the chaos phase in ms; all events happen in [0, duration). */
  duration: number;
  /** Never more than this many nodes down at once. Default floor((n - 1) / 2). */
  maxDown?: number;
}

interface Resolved {
  nodes: readonly number[];
  nodeSet: ReadonlySet<number>;
  duration: number;
  maxDown: number;
}

function resolve(opts: FaultScheduleOptions): Resolved {
  const { nodes, duration } = opts;
  const nodeSet = new Set(nodes);
  if (nodes.length === 0) throw new Error("fault schedule: nodes must be non-empty");
  if (nodeSet.size !== nodes.length) throw new Error("fault schedule: duplicate node ids");
  // >= 2 so that a crash at 0 can be followed by a restart at duration - 1.
  if (!Number.isInteger(duration) || duration < 2) {
    throw new Error(`fault schedule: duration must be an integer >= 2, got ${duration}`);
  }
  const maxDown = opts.maxDown ?? Math.floor((nodes.length - 1) / 2);
  if (!Number.isInteger(maxDown) || maxDown < 0 || maxDown > nodes.length) {
    throw new Error(`fault schedule: maxDown must be an integer in [0, ${nodes.length}], got ${maxDown}`);
  }
  return { nodes, nodeSet, duration, maxDown };
}

/** Turns an arbitrary list of events into a well-formed schedule (see the file
 *  header) by sorting and dropping events that would break a rule, then
 *  appending restarts at duration - 1 for nodes still down. Idempotent. */
export function normalizeFaultSchedule(events: readonly FaultEvent[], opts: FaultScheduleOptions): FaultEvent[] {
  const r = resolve(opts);
  const inRange = events.filter((e) => Number.isInteger(e.at) && e.at >= 0 && e.at < r.duration);
  // Array.prototype.sort is stable, so same-time events keep their given order.
  const sorted = [...inRange].sort((a, b) => a.at - b.at);
  const downSince = new Map<number, number>(); // insertion order = crash order
  const out: FaultEvent[] = [];
  for (const e of sorted) {
    switch (e.kind) {
      case "crash":
        // A crash at duration - 1 would leave no room for a later restart.
        if (!r.nodeSet.has(e.node) || downSince.has(e.node)) break;
        if (downSince.size >= r.maxDown || e.at >= r.duration - 1) break;
        downSince.set(e.node, e.at);
        out.push({ at: e.at, kind: "crash", node: e.node });
        break;
      case "restart": {
        const since = downSince.get(e.node);
        if (since === undefined || e.at <= since) break;
        downSince.delete(e.node);
        out.push({ at: e.at, kind: "restart", node: e.node });
        break;
      }
      case "isolate":
        if (r.nodeSet.has(e.node)) out.push({ at: e.at, kind: "isolate", node: e.node });
        break;
      case "partition": {
        // Keep known nodes, first occurrence wins, drop empty groups.
        const seen = new Set<number>();
        const groups: number[][] = [];
        for (const g of e.groups) {
          const kept = g.filter((n) => r.nodeSet.has(n) && !seen.has(n));
          for (const n of kept) seen.add(n);
          if (kept.length > 0) groups.push(kept);
        }
        out.push({ at: e.at, kind: "partition", groups });
        break;
      }
      case "lossy":
        if (e.lossRate >= 0 && e.lossRate <= 1 && e.dupRate >= 0 && e.dupRate <= 1) {
          out.push({ at: e.at, kind: "lossy", lossRate: e.lossRate, dupRate: e.dupRate });
        }
        break;
      case "heal":
      case "calm":
        out.push({ at: e.at, kind: e.kind });
        break;
    }
  }
  for (const node of downSince.keys()) out.push({ at: r.duration - 1, kind: "restart", node });
  return out;
}

/** Lists every rule of the file header that `events` breaks (empty = valid).
 *  For tests and for harnesses running hand-written schedules. */
export function checkFaultSchedule(events: readonly FaultEvent[], opts: FaultScheduleOptions): string[] {
  const r = resolve(opts);
  const problems: string[] = [];
  const downSince = new Map<number, number>();
  let prev = 0;
  events.forEach((e, i) => {
    const where = `event ${i} (${e.kind} at ${e.at})`;
    if (!Number.isInteger(e.at) || e.at < 0 || e.at >= r.duration) problems.push(`${where}: time out of range`);
    if (e.at < prev) problems.push(`${where}: not sorted by time`);
    prev = e.at;
    if ((e.kind === "crash" || e.kind === "restart" || e.kind === "isolate") && !r.nodeSet.has(e.node)) {
      problems.push(`${where}: unknown node ${e.node}`);
    }
    if (e.kind === "crash") {
      if (downSince.has(e.node)) problems.push(`${where}: node ${e.node} already down`);
      downSince.set(e.node, e.at);
      if (downSince.size > r.maxDown) problems.push(`${where}: ${downSince.size} nodes down > maxDown ${r.maxDown}`);
    } else if (e.kind === "restart") {
      const since = downSince.get(e.node);
      if (since === undefined) problems.push(`${where}: node ${e.node} is not down`);
      else if (e.at <= since) problems.push(`${where}: restart not after crash at ${since}`);
      downSince.delete(e.node);
    } else if (e.kind === "partition") {
      const seen = new Set<number>();
      for (const n of e.groups.flat()) {
        if (!r.nodeSet.has(n)) problems.push(`${where}: unknown node ${n}`);
        if (seen.has(n)) problems.push(`${where}: node ${n} in two groups`);
        seen.add(n);
      }
    } else if (e.kind === "lossy") {
      if (!(e.lossRate >= 0 && e.lossRate <= 1 && e.dupRate >= 0 && e.dupRate <= 1)) {
        problems.push(`${where}: rates out of [0, 1]`);
      }
    }
  });
  for (const n of downSince.keys()) problems.push(`node ${n} is never restarted`);
  return problems;
}

export interface RandomFaultOptions extends FaultScheduleOptions {
  /** Mean gap between consecutive events in ms (exponentially distributed). */
  meanGap: number;
}

/** A seeded random schedule. Event kinds are only chosen when they change
 *  something (no restart of an up node, no heal of a healthy network), so the
 *  event budget is spent on real faults. Gaps are exponential (Poisson-like
 *  arrivals), with at least 1 ms between events. */
export function randomFaultSchedule(prng: Prng, opts: RandomFaultOptions): FaultEvent[] {
  const r = resolve(opts);
  if (!(opts.meanGap > 0)) throw new Error(`randomFaultSchedule: meanGap must be > 0, got ${opts.meanGap}`);
  const events: FaultEvent[] = [];
  const down: number[] = []; // ordered, so picks are deterministic
  let partitioned = false;
  let lossy = false;
  let t = 0;
  for (;;) {
    t += Math.max(1, Math.round(prng.exponential(opts.meanGap)));
    // Keep duration - 1 free for the final restarts.
    if (t >= r.duration - 1) break;
    const up = r.nodes.filter((n) => !down.includes(n));
    const choices: [FaultKind, number][] = [];
    if (down.length > 0) choices.push(["restart", 3]);
    if (down.length < r.maxDown && up.length > 0) choices.push(["crash", 2]);
    if (r.nodes.length >= 2) choices.push(["partition", 1], ["isolate", 1]);
    if (partitioned) choices.push(["heal", 2]);
    choices.push(["lossy", 1]);
    if (lossy) choices.push(["calm", 2]);
    const kind = weightedPick(prng, choices);
    switch (kind) {
      case "crash": {
        const node = prng.pick(up);
        down.push(node);
        events.push({ at: t, kind, node });
        break;
      }
      case "restart": {
        const node = prng.pick(down);
        down.splice(down.indexOf(node), 1);
        events.push({ at: t, kind, node });
        break;
      }
      case "partition": {
        const shuffled = prng.shuffle([...r.nodes]);
        const k = prng.range(2, Math.min(3, shuffled.length));
        // Cut points chosen so every group is non-empty.
        const groups: number[][] = [];
        let start = 0;
        for (let g = 0; g < k; g++) {
          const remainingGroups = k - g - 1;
          const end = g === k - 1 ? shuffled.length : prng.range(start + 1, shuffled.length - remainingGroups);
          groups.push(shuffled.slice(start, end));
          start = end;
        }
        partitioned = true;
        events.push({ at: t, kind, groups });
        break;
      }
      case "isolate":
        partitioned = true;
        events.push({ at: t, kind, node: prng.pick(r.nodes) });
        break;
      case "heal":
        partitioned = false;
        events.push({ at: t, kind });
        break;
      case "lossy":
        lossy = true;
        events.push({ at: t, kind, lossRate: prng.range(1, 30) / 100, dupRate: prng.range(0, 20) / 100 });
        break;
      case "calm":
        lossy = false;
        events.push({ at: t, kind });
        break;
    }
  }
  // Adds the final restarts; also a safety net that the generator obeyed the rules.
  return normalizeFaultSchedule(events, opts);
}

function weightedPick<T>(prng: Prng, choices: readonly [T, number][]): T {
  let total = 0;
  for (const [, w] of choices) total += w;
  let x = prng.int(total);
  for (const [c, w] of choices) {
    if (x < w) return c;
    x -= w;
  }
  throw new Error("weightedPick: unreachable");
}

export interface FaultArbOptions {
  maxDown?: number;
  /** Maximum number of raw events before normalization. Default 20. */
  maxEvents?: number;
}

/** fast-check arbitrary for well-formed schedules. It generates raw events and
 *  normalizes them, so shrinking (dropping events, moving them earlier, moving
 *  nodes into one partition group) always yields another valid schedule. */
export function faultScheduleArb(
  nodes: readonly number[],
  duration: number,
  opts: FaultArbOptions = {},
): fc.Arbitrary<FaultEvent[]> {
  const schedOpts: FaultScheduleOptions = { nodes, duration, ...(opts.maxDown !== undefined ? { maxDown: opts.maxDown } : {}) };
  resolve(schedOpts); // fail fast on bad parameters
  const node = fc.constantFrom(...nodes);
  const percent = (max: number) => fc.integer({ min: 0, max }).map((p) => p / 100);
  // "heal" first: fc.oneof shrinks towards its first alternative, the most harmless one.
  const body = fc.oneof(
    fc.constant({ kind: "heal" as const }),
    fc.constant({ kind: "calm" as const }),
    node.map((n) => ({ kind: "crash" as const, node: n })),
    node.map((n) => ({ kind: "restart" as const, node: n })),
    node.map((n) => ({ kind: "isolate" as const, node: n })),
    // Each node gets a group index; shrinks towards "everyone in group 0".
    fc.array(fc.integer({ min: 0, max: 2 }), { minLength: nodes.length, maxLength: nodes.length }).map((ix) => {
      const groups: number[][] = [[], [], []];
      ix.forEach((g, i) => groups[g]?.push(nodes[i] as number));
      return { kind: "partition" as const, groups: groups.filter((g) => g.length > 0) };
    }),
    fc.record({ lossRate: percent(50), dupRate: percent(30) }).map((x) => ({ kind: "lossy" as const, ...x })),
  );
  const event = fc
    .tuple(fc.integer({ min: 0, max: duration - 1 }), body)
    .map(([at, b]) => ({ at, ...b }) as FaultEvent);
  return fc
    .array(event, { maxLength: opts.maxEvents ?? 20 })
    .map((evs) => normalizeFaultSchedule(evs, schedOpts));
}

/** Applies the network-level kinds (partition, isolate, heal, lossy, calm) to
 *  `net`; returns false for crash/restart, which the protocol harness handles
 *  itself (it owns node state, disks and timers). "calm" sets loss and
 *  duplication to `calmRates` (default 0); delays are never changed. */
export function applyNetworkFault<M>(
  net: SimNetwork<M>,
  e: FaultEvent,
  calmRates: { lossRate: number; dupRate: number } = { lossRate: 0, dupRate: 0 },
): boolean {
  switch (e.kind) {
    case "partition":
      net.partition(e.groups);
      return true;
    case "isolate":
      net.isolate(e.node);
      return true;
    case "heal":
      net.heal();
      return true;
    case "lossy":
      net.setFaults({ lossRate: e.lossRate, dupRate: e.dupRate });
      return true;
    case "calm":
      net.setFaults(calmRates);
      return true;
    case "crash":
    case "restart":
      return false;
  }
}
