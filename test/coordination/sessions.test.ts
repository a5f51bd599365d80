import { describe, expect, it } from "vitest"
import { SessionTracker, negotiateTimeout } from "../../core/coordination/index.ts"

describe("negotiateTimeout", () => {
  it.each([
    [100, 2000, 4000],
    [4000, 2000, 4000],
    [10_000, 2000, 10_000],
    [40_000, 2000, 40_000],
    [1_000_000, 2000, 40_000],
    [0, 500, 1000],
  ])("requested %i ms with tick %i ms -> %i ms", (requested, tick, expected) => {
    expect(negotiateTimeout(requested, tick)).toBe(expected)
  })

  it("honours configured bounds", () => {
    expect(negotiateTimeout(1000, 2000, { minMs: 500 })).toBe(1000)
    expect(negotiateTimeout(90_000, 2000, { maxMs: 60_000 })).toBe(60_000)
  })
})

describe("SessionTracker", () => {
  it("expires a session a full timeout after it was last heard from", () => {
    const t = new SessionTracker()
    t.add(1n, 1000, 0)
    t.add(2n, 5000, 0)
    expect(t.expired(999)).toEqual([])
    expect(t.touch(1n, 600)).toBe(true)
    expect(t.expired(1000)).toEqual([])
    expect(t.expired(1600)).toEqual([1n])
    expect(t.expired(5000)).toEqual([1n, 2n])
  })

  it("reports until the caller removes, and forgets removed sessions", () => {
    const t = new SessionTracker()
    t.add(7n, 10, 0)
    expect(t.expired(20)).toEqual([7n])
    expect(t.expired(30)).toEqual([7n])
    t.remove(7n)
    expect(t.expired(30)).toEqual([])
    expect(t.touch(7n, 30)).toBe(false)
    expect(t.has(7n)).toBe(false)
    expect(t.size).toBe(0)
  })

  it("a touch never shortens a deadline", () => {
    const t = new SessionTracker()
    t.add(1n, 1000, 500)
    t.touch(1n, 100)
    expect(t.expired(1499)).toEqual([])
  })

  it("resetAll gives every session a full timeout from now (a new leader's grace)", () => {
    const t = SessionTracker.from(
      [
        { id: 3n, timeoutMs: 100 },
        { id: 1n, timeoutMs: 300 },
      ],
      0,
    )
    expect(t.expired(1000)).toEqual([1n, 3n])
    t.resetAll(1000)
    expect(t.expired(1099)).toEqual([])
    expect(t.expired(1100)).toEqual([3n])
    expect(t.timeoutOf(1n)).toBe(300)
  })
})
