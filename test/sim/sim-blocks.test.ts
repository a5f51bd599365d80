import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Prng } from "./prng.ts";
import { EventQueue } from "./events.ts";
import { SimNetwork, type Delivery, type NetworkConfig } from "./network.ts";
import { SimDisk } from "./disk.ts";
import { SimClock, makeClocks } from "./clock.ts";
import {
  applyNetworkFault,
  checkFaultSchedule,
  faultScheduleArb,
  normalizeFaultSchedule,
  randomFaultSchedule,
  type FaultEvent,
} from "./faults.ts";

const draws = (p: Prng, n: number) => Array.from({ length: n }, () => p.nextU32());

describe("Prng", () => {
  it("same seed gives the same sequence, different seeds differ", () => {
    expect(draws(new Prng(42), 100)).toEqual(draws(new Prng(42), 100));
    expect(draws(new Prng(42), 100)).not.toEqual(draws(new Prng(43), 100));
    // Seeds differing only above bit 32 must still differ.
    expect(draws(new Prng(1), 10)).not.toEqual(draws(new Prng(1 + 2 ** 32), 10));
  });

  it("values stay in range and int() is roughly uniform", () => {
    const p = new Prng(7);
    const counts = [0, 0, 0, 0, 0, 0];
    let bad = 0; // counted, not asserted per draw: expect() in hot loops is slow
    for (let i = 0; i < 60_000; i++) {
      const f = p.float();
      if (!(f >= 0 && f < 1)) bad++;
      const k = p.int(6);
      counts[k] = (counts[k] ?? 0) + 1;
      const r = p.range(-3, 3);
      if (!(r >= -3 && r <= 3 && Number.isInteger(r))) bad++;
    }
    expect(bad).toBe(0);
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(500);
  });

  it("shuffle is a permutation; pick picks members", () => {
    const p = new Prng(3);
    const xs = Array.from({ length: 20 }, (_, i) => i);
    const s = p.shuffle([...xs]);
    expect([...s].sort((a, b) => a - b)).toEqual(xs);
    expect(s).not.toEqual(xs);
    for (let i = 0; i < 50; i++) expect(xs).toContain(p.pick(xs));
  });

  it("forks are deterministic and isolated from the parent's later draws", () => {
    const a = new Prng(9);
    const b = new Prng(9);
    const fa = a.fork();
    const fb = b.fork();
    draws(a, 1000); // extra parent activity must not perturb the child
    expect(draws(fa, 50)).toEqual(draws(fb, 50));
    expect(draws(new Prng(9).fork(), 50)).not.toEqual(draws(new Prng(9), 50));
  });

  it("rejects bad arguments", () => {
    const p = new Prng(1);
    expect(() => p.int(0)).toThrow();
    expect(() => p.range(2, 1)).toThrow();
    expect(() => p.chance(1.5)).toThrow();
    expect(() => p.pick([])).toThrow();
    expect(() => new Prng(0.5)).toThrow();
  });
});

describe("EventQueue", () => {
  it("pops in time order, ties in insertion order", () => {
    const q = new EventQueue<string>();
    q.push(5, "a");
    q.push(1, "b");
    q.push(5, "c");
    q.push(1, "d");
    q.push(3, "e");
    q.push(5, "f");
    expect(q.size).toBe(6);
    expect(q.peekTime()).toBe(1);
    const out: string[] = [];
    for (let x = q.pop(); x; x = q.pop()) out.push(`${x.time}${x.e}`);
    expect(out).toEqual(["1b", "1d", "3e", "5a", "5c", "5f"]);
    expect(q.pop()).toBeUndefined();
    expect(q.peekTime()).toBeUndefined();
  });

  it("matches a stable sort on random input, also after removeWhere", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 3 }))), (items) => {
        const q = new EventQueue<{ id: number; owner: number }>();
        items.forEach(([t, owner], id) => q.push(t, { id, owner }));
        const removed = q.removeWhere((e) => e.owner === 0);
        const expected = items
          .map(([t, owner], id) => ({ t, owner, id }))
          .filter((x) => x.owner !== 0)
          .sort((a, b) => a.t - b.t)
          .map((x) => x.id);
        expect(removed).toBe(items.length - expected.length);
        const got: number[] = [];
        for (let x = q.pop(); x; x = q.pop()) got.push(x.e.id);
        expect(got).toEqual(expected);
      }),
    );
  });

  it("clear empties the queue", () => {
    const q = new EventQueue<number>();
    q.push(1, 1);
    q.clear();
    expect(q.size).toBe(0);
    expect(() => q.push(Number.NaN, 1)).toThrow();
  });
});

const cfg: NetworkConfig = { minDelay: 1, maxDelay: 50, lossRate: 0.1, dupRate: 0.05 };

function runNet(seed: number): Delivery<number>[] {
  const net = new SimNetwork<number>(cfg, new Prng(seed));
  const out: Delivery<number>[] = [];
  for (let i = 0; i < 200; i++) out.push(...net.send(i, i % 3, (i + 1) % 3, i));
  return out;
}

describe("SimNetwork", () => {
  it("is deterministic per seed", () => {
    expect(runNet(1)).toEqual(runNet(1));
    expect(runNet(1)).not.toEqual(runNet(2));
  });

  it("roughly respects loss and duplication rates, delays in bounds, reorders", () => {
    const net = new SimNetwork<number>({ minDelay: 5, maxDelay: 20, lossRate: 0.2, dupRate: 0.1 }, new Prng(11));
    const N = 20_000;
    let reordered = false;
    let lastAt = -1;
    for (let i = 0; i < N; i++) {
      const ds = net.send(1000, 0, 1, i);
      for (const d of ds) {
        expect(d.at - 1000 >= 5 && d.at - 1000 <= 20).toBe(true);
        expect(net.deliver(d)).toBe(true);
      }
      const first = ds[0];
      if (first && i > 0) {
        if (first.at < lastAt) reordered = true;
        lastAt = first.at;
      }
    }
    const s = net.stats();
    expect(s.sent).toBe(N);
    expect(s.dropped / N).toBeGreaterThan(0.18);
    expect(s.dropped / N).toBeLessThan(0.22);
    // Duplication applies to the ~80% that survive loss.
    expect(s.duplicated / N).toBeGreaterThan(0.07);
    expect(s.duplicated / N).toBeLessThan(0.09);
    expect(s.delivered).toBe(N - s.dropped + s.duplicated);
    expect(reordered).toBe(true);
  });

  it("partitions block at send time and cut in-flight messages", () => {
    const net = new SimNetwork<string>({ minDelay: 1, maxDelay: 1, lossRate: 0, dupRate: 0 }, new Prng(5));
    net.partition([[0, 1], [2]]);
    expect(net.canTalk(0, 1)).toBe(true);
    expect(net.canTalk(1, 2)).toBe(false);
    expect(net.canTalk(2, 0)).toBe(false);
    expect(net.canTalk(3, 0)).toBe(false); // unlisted nodes are cut off
    expect(net.canTalk(3, 3)).toBe(true);
    expect(net.send(0, 0, 2, "x")).toEqual([]);
    expect(net.send(0, 0, 1, "y")).toHaveLength(1);

    net.heal();
    const inflight = net.send(0, 0, 2, "z");
    expect(inflight).toHaveLength(1);
    net.isolate(2);
    expect(net.deliverable(0, 2)).toBe(false);
    expect(net.deliver(inflight[0] as Delivery<string>)).toBe(false);
    expect(net.canTalk(0, 1)).toBe(true);
    net.heal();
    expect(net.canTalk(0, 2)).toBe(true);
    expect(net.stats()).toMatchObject({ sent: 3, dropped: 2, delivered: 0 });
    expect(() => net.partition([[0], [0, 1]])).toThrow();
  });

  it("setFaults changes rates at runtime without shifting delays", () => {
    const a = new SimNetwork<number>(cfg, new Prng(8));
    const b = new SimNetwork<number>(cfg, new Prng(8));
    b.setFaults({ lossRate: 0, dupRate: 0 });
    for (let i = 0; i < 100; i++) {
      const da = a.send(0, 0, 1, i);
      const db = b.send(0, 0, 1, i);
      expect(db).toHaveLength(1);
      if (da[0]) expect(da[0].at).toBe(db[0]?.at);
    }
    expect(b.stats().dropped).toBe(0);
    expect(() => a.setFaults({ lossRate: 2 })).toThrow();
  });
});

describe("SimDisk", () => {
  /** Random workload of appends/syncs/crashes; checks the crash invariants. */
  function workload(seed: number): { log: string[]; recovered: number[][] } {
    const p = new Prng(seed);
    const disk = new SimDisk<number>({ size: () => 8 });
    const log: string[] = [];
    const recovered: number[][] = [];
    let synced: number[] = [];
    let next = 0;
    for (let step = 0; step < 300; step++) {
      const r = p.int(10);
      if (r < 6) disk.append(next++);
      else if (r < 8) {
        disk.sync();
        synced = disk.durableRecords();
      } else {
        disk.crash(p);
        expect(disk.isCrashed).toBe(true);
        expect(() => disk.append(0)).toThrow();
        const recs = disk.recover();
        recovered.push(recs);
        log.push(`crash@${step}:${recs.length}`);
        // Never loses a synced record: synced is a prefix of what came back.
        expect(recs.slice(0, synced.length)).toEqual(synced);
        // Records come back in append order with no gaps (nothing after a hole or a torn record).
        expect(recs.every((x, i) => x === i)).toBe(true);
        expect(disk.hasTornTail()).toBe(false);
        synced = recs; // survivors are durable from now on
        next = recs.length === 0 ? 0 : (recs[recs.length - 1] as number) + 1;
      }
    }
    return { log, recovered };
  }

  it("never loses a synced record and never returns records after a torn one", () => {
    for (let seed = 0; seed < 30; seed++) workload(seed);
  });

  it("crash outcomes are deterministic per seed and vary across seeds", () => {
    expect(workload(1)).toEqual(workload(1));
    expect(workload(1).log).not.toEqual(workload(2).log);
  });

  it("produces all crash outcomes: total loss, partial flush, torn tail", () => {
    let lostAll = false;
    let partial = false;
    let torn = false;
    for (let seed = 0; seed < 200; seed++) {
      const disk = new SimDisk<number>();
      disk.append(0);
      disk.sync();
      for (let i = 1; i <= 5; i++) disk.append(i);
      disk.crash(new Prng(seed));
      if (disk.hasTornTail()) torn = true;
      const recs = disk.recover();
      expect(recs[0]).toBe(0);
      if (recs.length === 1 && !torn) lostAll = true;
      if (recs.length > 1) partial = true;
    }
    expect([lostAll, partial, torn]).toEqual([true, true, true]);
  });

  it("replace is atomic: invisible until sync, then the whole new log", () => {
    const disk = new SimDisk<string>({ partialFlushRate: 1, tornRate: 0 });
    disk.append("a");
    disk.append("b");
    disk.sync();
    disk.replace(["S"]);
    disk.append("c");
    disk.crash(new Prng(1));
    expect(disk.recover()).toEqual(["a", "b"]);
    disk.replace(["S"]);
    disk.append("c");
    disk.sync();
    disk.crash(new Prng(1));
    expect(disk.recover()).toEqual(["S", "c"]);
    expect(disk.stats()).toMatchObject({ replaces: 2, syncs: 2, crashes: 2 });
  });

  it("recover refuses to run with unsynced writes", () => {
    const disk = new SimDisk<number>();
    disk.append(1);
    expect(() => disk.recover()).toThrow();
  });
});

describe("SimClock", () => {
  it("local timers fire at the right global time, never early", () => {
    const c = new SimClock(0.9, 100);
    expect(c.local(0)).toBe(100);
    const g = c.globalAfter(50, 90);
    expect(g).toBe(150);
    expect(c.local(g) - c.local(50)).toBeGreaterThanOrEqual(90);
    const fast = new SimClock(1.1, 0);
    const g2 = fast.globalAfter(10, 100);
    expect(fast.local(g2) - fast.local(10)).toBeGreaterThanOrEqual(100 - 1e-9);
    expect(fast.local(g2 - 1) - fast.local(10)).toBeLessThan(100);
  });

  it("makeClocks is deterministic and respects maxSkew", () => {
    const a = makeClocks(new Prng(4), [0, 1, 2, 3], { maxSkew: 0.1, maxOffset: 1000 });
    const b = makeClocks(new Prng(4), [0, 1, 2, 3], { maxSkew: 0.1, maxOffset: 1000 });
    expect([...a.entries()]).toEqual([...b.entries()]);
    for (const c of a.values()) {
      expect(c.rate >= 0.9 && c.rate <= 1.1).toBe(true);
      expect(c.offset >= 0 && c.offset <= 1000).toBe(true);
    }
  });
});

describe("fault schedules", () => {
  const nodes = [1, 2, 3, 4, 5];

  it("random schedules are valid, deterministic, restart crashed nodes, respect maxDown", () => {
    for (let seed = 0; seed < 200; seed++) {
      for (const maxDown of [0, 1, 2]) {
        const opts = { nodes, duration: 10_000, meanGap: 300, maxDown };
        const s = randomFaultSchedule(new Prng(seed), opts);
        expect(checkFaultSchedule(s, opts)).toEqual([]);
        expect(normalizeFaultSchedule(s, opts)).toEqual(s);
        if (maxDown === 0) expect(s.some((e) => e.kind === "crash")).toBe(false);
      }
    }
    const opts = { nodes, duration: 10_000, meanGap: 300 };
    expect(randomFaultSchedule(new Prng(1), opts)).toEqual(randomFaultSchedule(new Prng(1), opts));
    expect(randomFaultSchedule(new Prng(1), opts)).not.toEqual(randomFaultSchedule(new Prng(2), opts));
    const kinds = new Set(randomFaultSchedule(new Prng(1), opts).map((e) => e.kind));
    expect(kinds).toEqual(new Set(["crash", "restart", "partition", "isolate", "heal", "lossy", "calm"]));
  });

  it("fast-check schedules are always valid (default maxDown = minority)", () => {
    fc.assert(
      fc.property(faultScheduleArb(nodes, 5_000), (s) => {
        expect(checkFaultSchedule(s, { nodes, duration: 5_000 })).toEqual([]);
      }),
    );
  });

  it("normalization fixes invalid schedules", () => {
    const raw: FaultEvent[] = [
      { at: 50, kind: "restart", node: 1 },
      { at: 10, kind: "crash", node: 1 },
      { at: 20, kind: "crash", node: 2 },
      { at: 30, kind: "crash", node: 3 }, // exceeds maxDown 2
      { at: 40, kind: "crash", node: 1 }, // already down
      { at: 60, kind: "partition", groups: [[1, 9], [1, 2]] },
      { at: 99, kind: "crash", node: 4 }, // no room for a restart
    ];
    const opts = { nodes, duration: 100 };
    expect(checkFaultSchedule(raw, opts).length).toBeGreaterThan(0);
    const s = normalizeFaultSchedule(raw, opts);
    expect(checkFaultSchedule(s, opts)).toEqual([]);
    expect(s).toEqual([
      { at: 10, kind: "crash", node: 1 },
      { at: 20, kind: "crash", node: 2 },
      { at: 50, kind: "restart", node: 1 },
      { at: 60, kind: "partition", groups: [[1], [2]] },
      { at: 99, kind: "restart", node: 2 },
    ]);
  });

  it("applyNetworkFault drives the network and leaves crash/restart to the harness", () => {
    const net = new SimNetwork<number>(cfg, new Prng(1));
    expect(applyNetworkFault(net, { at: 0, kind: "partition", groups: [[1, 2], [3]] })).toBe(true);
    expect(net.canTalk(1, 3)).toBe(false);
    applyNetworkFault(net, { at: 0, kind: "lossy", lossRate: 0.3, dupRate: 0.1 });
    expect(net.faults()).toMatchObject({ lossRate: 0.3, dupRate: 0.1 });
    applyNetworkFault(net, { at: 0, kind: "calm" });
    applyNetworkFault(net, { at: 0, kind: "heal" });
    expect(net.faults()).toMatchObject({ lossRate: 0, dupRate: 0 });
    expect(net.canTalk(1, 3)).toBe(true);
    expect(applyNetworkFault(net, { at: 0, kind: "crash", node: 1 })).toBe(false);
  });
});
