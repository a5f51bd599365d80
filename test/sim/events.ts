// Global event queue of the simulator: one min-heap holding every pending
// event (message deliveries, node timers, scheduled faults) in simulated time.
//
// Ordering is by (time, insertion sequence). The sequence number is what makes
// runs reproducible: a heap alone does not preserve order among equal keys, and
// with integer millisecond times ties are common. With the tiebreak, two events
// at the same instant fire in the order they were scheduled, which depends only
// on the (deterministic) simulation itself.

interface Entry<E> {
  time: number;
  seq: number;
  e: E;
}

function less<E>(a: Entry<E>, b: Entry<E>): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

export class EventQueue<E> {
  private heap: Entry<E>[] = [];
  // Never reset (not even by clear()) so sequence numbers stay unique per queue.
  private nextSeq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** Schedules `e` at simulated time `time`. */
  push(time: number, e: E): void {
    if (!Number.isFinite(time)) throw new Error(`EventQueue.push: time must be finite, got ${time}`);
    this.heap.push({ time, seq: this.nextSeq++, e });
    this.siftUp(this.heap.length - 1);
  }

  /** Removes and returns the earliest event (ties: earliest pushed). */
  pop(): { time: number; e: E } | undefined {
    const top = this.heap[0];
    if (top === undefined) return undefined;
    const last = this.heap.pop() as Entry<E>;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.siftDown(0);
    }
    return { time: top.time, e: top.e };
  }

  /** Time of the earliest event, or undefined when empty. */
  peekTime(): number | undefined {
    return this.heap[0]?.time;
  }

  clear(): void {
    this.heap = [];
  }

  /** Drops every pending event matching `pred` (e.g. a crashed node's timers,
   *  which must not fire after it restarts). Returns how many were removed.
   *  Relative order of the survivors is unchanged because it lives in the
   *  (time, seq) keys, not in heap positions. */
  removeWhere(pred: (e: E, time: number) => boolean): number {
    const before = this.heap.length;
    this.heap = this.heap.filter((en) => !pred(en.e, en.time));
    // Rebuild the heap bottom-up (O(n)).
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    return before - this.heap.length;
  }

  private siftUp(i: number): void {
    const h = this.heap;
    const en = h[i] as Entry<E>;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p] as Entry<E>;
      if (!less(en, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = en;
  }

  private siftDown(i: number): void {
    const h = this.heap;
    const n = h.length;
    const en = h[i] as Entry<E>;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let c = l;
      if (r < n && less(h[r] as Entry<E>, h[l] as Entry<E>)) c = r;
      const child = h[c] as Entry<E>;
      if (!less(child, en)) break;
      h[i] = child;
      i = c;
    }
    h[i] = en;
  }
}
