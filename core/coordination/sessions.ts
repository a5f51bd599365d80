/**
 * The leader's session liveness bookkeeping (ZooKeeper's SessionTrackerImpl), as plain data: the
 * server feeds it the clock and client activity, and turns what `expired` reports into
 * closeSession transactions.
 *
 * Deadlines are exact (`now + timeout`) rather than rounded to tick buckets as ZooKeeper's
 * ExpiryQueue does; the bound clients rely on (no expiry before the negotiated timeout without
 * hearing from them) is the same.
 */
import { assert } from "../consensus/assert.ts"
import type { SessionId } from "./types.ts"

interface Tracked {
  readonly timeoutMs: number
  deadline: number
}

/**
 * ZooKeeper's timeout negotiation: the client's request clamped to the server's bounds, by
 * default [2, 20] ticks.
 */
export function negotiateTimeout(
  requestedMs: number,
  tickMs: number,
  bounds: { readonly minMs?: number; readonly maxMs?: number } = {},
): number {
  const min = bounds.minMs ?? 2 * tickMs
  const max = bounds.maxMs ?? 20 * tickMs
  assert(min <= max, `session timeout bounds ${min}..${max} are empty`)
  return Math.min(max, Math.max(min, requestedMs))
}

export class SessionTracker {
  private readonly tracked = new Map<SessionId, Tracked>()

  /** A tracker for sessions inherited from the tree, as a newly elected leader starts one. */
  static from(sessions: Iterable<{ readonly id: SessionId; readonly timeoutMs: number }>, now: number): SessionTracker {
    const t = new SessionTracker()
    for (const s of sessions) t.add(s.id, s.timeoutMs, now)
    return t
  }

  add(id: SessionId, timeoutMs: number, now: number): void {
    assert(Number.isFinite(timeoutMs) && timeoutMs >= 0, `session timeout ${timeoutMs} is invalid`)
    this.tracked.set(id, { timeoutMs, deadline: now + timeoutMs })
  }

  /** The client was heard from; false if the session is unknown (expired or never existed). */
  touch(id: SessionId, now: number): boolean {
    const s = this.tracked.get(id)
    if (s === undefined) return false
    s.deadline = Math.max(s.deadline, now + s.timeoutMs)
    return true
  }

  remove(id: SessionId): void {
    this.tracked.delete(id)
  }

  has(id: SessionId): boolean {
    return this.tracked.has(id)
  }

  timeoutOf(id: SessionId): number | undefined {
    return this.tracked.get(id)?.timeoutMs
  }

  /**
   * Sessions whose deadline has passed, in id order. This only reports: the caller proposes
   * their closeSession and removes them, so each is expired once.
   */
  expired(now: number): SessionId[] {
    const out: SessionId[] = []
    for (const [id, s] of this.tracked) if (s.deadline <= now) out.push(id)
    return out.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  }

  /**
   * A new leader cannot know when its predecessor last heard from each client, so every session
   * gets a full timeout from now (ZooKeeper does the same on leader change).
   */
  resetAll(now: number): void {
    for (const s of this.tracked.values()) s.deadline = now + s.timeoutMs
  }

  get size(): number {
    return this.tracked.size
  }
}
