import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { mulberry32 } from "../../adapters/disk/fs.ts"
import {
  assertLinearizable,
  check,
  HistoryRecorder,
  isPending,
  stableHash,
  type CheckResult,
  type Model,
  type Operation,
} from "./checker.ts"
import {
  keyedModel,
  registerModel,
  znodeModel,
  type Keyed,
  type RegisterInput,
  type RegisterOutput,
  type ZnodeInput,
  type ZnodeOutput,
  type ZnodeState,
} from "./models.ts"

type RegOp = Operation<RegisterInput<number>, RegisterOutput<number>>
type ZkOp = Operation<ZnodeInput<string>, ZnodeOutput<string>>

const reg = registerModel<number>(0)
const zk = znodeModel<string>({ value: "", version: 0 })

// Operation builders. `ret` omitted = never returned.
const W = (client: number, value: number, call: number, ret?: number): RegOp =>
  ret === undefined
    ? { client, input: { type: "write", value }, call, ret: Infinity }
    : { client, input: { type: "write", value }, output: { type: "write" }, call, ret }
const R = (client: number, value: number, call: number, ret: number): RegOp => ({
  client,
  input: { type: "read" },
  output: { type: "read", value },
  call,
  ret,
})
const CAS = (client: number, expected: number, value: number, ok: boolean | undefined, call: number, ret?: number): RegOp =>
  ok === undefined || ret === undefined
    ? { client, input: { type: "cas", expected, value }, call, ret: Infinity }
    : { client, input: { type: "cas", expected, value }, output: { type: "cas", ok }, call, ret }

const GET = (client: number, value: string, version: number, call: number, ret: number): ZkOp => ({
  client,
  input: { type: "get" },
  output: { type: "value", value, version },
  call,
  ret,
})
const SET = (
  client: number,
  value: string,
  expectedVersion: number,
  result: number | "bad" | undefined,
  call: number,
  ret?: number,
): ZkOp => ({
  client,
  input: { type: "set", value, expectedVersion },
  ...(result === undefined || ret === undefined
    ? { ret: Infinity }
    : { output: result === "bad" ? { type: "badVersion" as const } : { type: "ok" as const, version: result }, ret }),
  call,
})

/**
 * Independent validation of a "linearizable" verdict: the witness contains every completed
 * operation exactly once, replays through the model (per partition), and respects real time.
 */
function verifyWitness<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[], r: CheckResult<S, I, O>): void {
  if (!r.ok) throw new Error(`expected linearizable, got ${r.verdict}:\n${r.explanation}`)
  const seen = new Set<number>()
  for (const item of r.linearization) {
    expect(seen.has(item.index)).toBe(false)
    seen.add(item.index)
    expect(item.op).toBe(history[item.index])
  }
  for (const i of r.omittedPending) {
    expect(isPending(history[i]!)).toBe(true)
    expect(seen.has(i)).toBe(false)
  }
  expect(seen.size + r.omittedPending.length).toBe(history.length)
  const states = new Map<string, S>()
  r.linearization.forEach((item, k) => {
    const key = model.partition ? String(model.partition(item.op.input)) : ""
    const before = states.has(key) ? states.get(key)! : model.init()
    const step = model.step(before, item.op.input, isPending(item.op) ? undefined : item.op.output)
    expect(step.ok).toBe(true)
    expect(stableHash(step.state)).toBe(stableHash(item.stateAfter))
    states.set(key, step.state)
    // Real time: nothing later in the witness returned before this one was called.
    for (let j = k + 1; j < r.linearization.length; j++) {
      const later = r.linearization[j]!.op
      if (later.ret < item.op.call) throw new Error(`witness puts #${item.index} before #${r.linearization[j]!.index}, which returned before it was called`)
    }
  })
}

function expectRejected<S, I, O>(r: CheckResult<S, I, O>): asserts r is Extract<CheckResult<S, I, O>, { verdict: "not-linearizable" }> {
  if (r.verdict !== "not-linearizable") throw new Error(`expected not-linearizable, got ${r.verdict}`)
}

// ---------------------------------------------------------------------------------------------

describe("register: hand-written histories", () => {
  it("accepts a sequential history and returns it as the witness", () => {
    const h = [W(1, 1, 0, 1), R(2, 1, 2, 3), W(1, 2, 4, 5), R(2, 2, 6, 7)]
    const r = check(reg, h)
    verifyWitness(reg, h, r)
    expect(r.ok && r.linearization.map((x) => x.index)).toEqual([0, 1, 2, 3])
  })

  it("accepts a read concurrent with a write seeing either the old or the new value", () => {
    for (const seen of [0, 1]) {
      const h = [W(1, 1, 0, 10), R(2, seen, 2, 5)]
      verifyWitness(reg, h, check(reg, h))
    }
  })

  it("rejects the stale read: a read after a completed overwrite returns the old value", () => {
    const h = [W(1, 1, 0, 1), W(1, 2, 2, 3), R(2, 1, 4, 5)]
    const r = check(reg, h)
    expectRejected(r)
    expect(r.blockedBy?.index).toBe(2)
    expect(r.longestPrefix.map((x) => x.index)).toEqual([0, 1])
    expect(r.candidates).toEqual([expect.objectContaining({ index: 2, reason: "rejected" })])
    expect(r.explanation).toContain("#2 client 2: read -> 1")
    expect(r.explanation).toContain("impossible in state 2")
  })

  it("rejects a write seen and then unseen by a later read", () => {
    const h = [W(1, 1, 0, 10), R(2, 1, 1, 2), R(3, 0, 3, 4)]
    expectRejected(check(reg, h))
    // The opposite order (unseen, then seen) is fine.
    const ok = [W(1, 1, 0, 10), R(2, 0, 1, 2), R(3, 1, 3, 4)]
    verifyWitness(reg, ok, check(reg, ok))
  })

  it("rejects a read of a value whose write was invoked after the read returned", () => {
    const h = [R(2, 1, 0, 1), W(1, 1, 2, 3)]
    expectRejected(check(reg, h))
  })

  it("treats intervals as closed: operations touching at an instant are concurrent", () => {
    // The read returns at 5 and the write is invoked at 5: the read may still see it.
    const h = [R(2, 1, 0, 5), W(1, 1, 5, 6)]
    verifyWitness(reg, h, check(reg, h))
  })

  it("rejects a compare-and-set that succeeded twice from the same value", () => {
    const h = [CAS(1, 0, 1, true, 0, 10), CAS(2, 0, 2, true, 0, 10)]
    const r = check(reg, h)
    expectRejected(r)
    expect(r.explanation).toContain("cas(0 -> ")
    // With a write of 0 in between it becomes possible.
    const ok = [CAS(1, 0, 1, true, 0, 10), CAS(2, 0, 2, true, 0, 10), W(3, 0, 0, 10)]
    verifyWitness(reg, ok, check(reg, ok))
  })

  it("rejects a failed compare-and-set while the register certainly held the expected value", () => {
    const h = [W(1, 5, 0, 1), CAS(2, 5, 6, false, 2, 3)]
    expectRejected(check(reg, h))
    const ok = [W(1, 5, 0, 1), CAS(2, 5, 6, false, 2, 3), W(3, 7, 2, 3)]
    verifyWitness(reg, ok, check(reg, ok))
  })

  it("backtracks: the first order tried fails but a later one works", () => {
    // Two concurrent writes; both later reads see 1, so write(2) must go first.
    const h = [W(1, 1, 0, 10), W(2, 2, 0, 10), R(3, 1, 11, 12), R(4, 1, 11, 12)]
    const r = check(reg, h)
    verifyWitness(reg, h, r)
    expect(r.ok && r.linearization.map((x) => x.index).slice(0, 2)).toEqual([1, 0])
  })

  it("rejects when every interleaving of concurrent writes is contradicted by the reads", () => {
    // 1 then 2 is needed by one pair of reads and 2 then 1 by the other.
    const h = [W(1, 1, 0, 10), W(2, 2, 0, 10), R(3, 1, 1, 2), R(3, 2, 3, 4), R(4, 2, 5, 6), R(4, 1, 7, 8)]
    expectRejected(check(reg, h))
  })
})

describe("register: operations that never returned", () => {
  it("accepts a pending write that is later observed", () => {
    const h = [W(1, 1, 0), R(2, 0, 1, 2), R(2, 1, 30, 31), R(3, 1, 40, 41)]
    const r = check(reg, h)
    verifyWitness(reg, h, r)
    expect(r.ok && r.omittedPending).toEqual([])
  })

  it("accepts a pending write that is never observed, and leaves it out of the witness", () => {
    const h = [W(1, 1, 0), R(2, 0, 1, 2), R(2, 0, 30, 31)]
    const r = check(reg, h)
    verifyWitness(reg, h, r)
    expect(r.ok && r.omittedPending).toEqual([0])
  })

  it("accepts a pending write observed long after the writer gave up", () => {
    // The write may take effect at any time after its call, even after later writes.
    const h = [W(1, 1, 0), W(2, 2, 5, 6), R(3, 2, 7, 8), R(3, 1, 100, 101)]
    verifyWitness(reg, h, check(reg, h))
  })

  it("rejects a pending write observed and then unobserved (it cannot be undone)", () => {
    const h = [W(1, 1, 0), R(2, 1, 10, 11), R(2, 0, 20, 21)]
    expectRejected(check(reg, h))
  })

  it("rejects a pending write observed before it was invoked", () => {
    const h = [R(2, 1, 0, 5), W(1, 1, 10)]
    expectRejected(check(reg, h))
  })

  it("rejects a pending write that took effect twice", () => {
    const h = [W(1, 1, 0), R(2, 1, 10, 11), W(2, 2, 12, 13), R(2, 1, 14, 15)]
    expectRejected(check(reg, h))
  })

  it("a pending compare-and-set takes effect only if the compare holds", () => {
    const ok = [CAS(1, 0, 1, undefined, 0), R(2, 1, 5, 6)]
    verifyWitness(reg, ok, check(reg, ok))
    const bad = [W(3, 9, 0, 1), CAS(1, 0, 1, undefined, 2), R(2, 1, 5, 6)]
    expectRejected(check(reg, bad))
  })

  it("a pending write may be observed only through a compare-and-set that restores the old value", () => {
    // write(1) never returned; the CAS 1 -> 0 succeeded, so the write must have taken effect
    // before it, even though the register ends where it started.
    const h = [W(1, 1, 0), CAS(2, 1, 0, true, 1, 2), R(2, 0, 3, 4)]
    const r = check(reg, h)
    verifyWitness(reg, h, r)
    expect(r.ok && r.linearization.map((x) => x.index)).toEqual([0, 1, 2])
  })

  it("a pending write may have to take effect after operations that were invoked after it", () => {
    // Found by the brute-force comparison: the failed CAS at 5 needs the register away from 2,
    // after write(2) at 4, so the write(1) invoked at 0 must land between 4 and 5. Exploring
    // it early first must not hide the branch that keeps it for later.
    const h = [W(1, 2, 4, 4), CAS(1, 0, 2, true, 3, 3), CAS(1, 2, 0, false, 3, 3), W(2, 1, 0), CAS(1, 2, 0, false, 5, 5)]
    const r = check(reg, h)
    verifyWitness(reg, h, r)
    expect(r.ok && r.linearization.map((x) => x.index)).toEqual([2, 1, 0, 3, 4])
  })

  it("accepts a history made only of pending operations, and an empty one", () => {
    const h: RegOp[] = [W(1, 1, 0), { client: 2, input: { type: "read" }, call: 1, ret: Infinity }]
    const r = check(reg, h)
    verifyWitness(reg, h, r)
    expect(r.ok && r.omittedPending).toEqual([0, 1])
    verifyWitness(reg, [], check(reg, []))
  })
})

describe("ZooKeeper znode (versioned CAS register)", () => {
  it("accepts versioned sets and gets", () => {
    const h = [
      SET(1, "a", 0, 1, 0, 1),
      GET(2, "a", 1, 2, 3),
      SET(2, "b", 1, 2, 4, 5),
      SET(1, "c", 1, "bad", 6, 7),
      SET(1, "d", -1, 3, 8, 9),
      GET(3, "d", 3, 10, 11),
    ]
    verifyWitness(zk, h, check(zk, h))
  })

  it("rejects two conditional sets that both succeeded on the same version", () => {
    const h = [SET(1, "a", 0, 1, 0, 10), SET(2, "b", 0, 1, 0, 10)]
    const r = check(zk, h)
    expectRejected(r)
    expect(r.explanation).toMatch(/set\("[ab]", v0\) -> ok v1/)
    // Even if they report different new versions, the second compare cannot hold.
    expectRejected(check(zk, [SET(1, "a", 0, 1, 0, 10), SET(2, "b", 0, 2, 0, 10)]))
  })

  it("rejects a set reporting a new version that skips one, and a badVersion on the current version", () => {
    expectRejected(check(zk, [SET(1, "a", -1, 2, 0, 1)]))
    expectRejected(check(zk, [SET(1, "a", 0, 1, 0, 1), SET(1, "b", 1, "bad", 2, 3)]))
    // A concurrent unconditional set explains the badVersion.
    const ok = [SET(1, "a", 0, 1, 0, 1), SET(1, "b", 1, "bad", 2, 3), SET(2, "x", -1, 2, 2, 3)]
    verifyWitness(zk, ok, check(zk, ok))
  })

  it("rejects a get whose version does not match its data", () => {
    expectRejected(check(zk, [SET(1, "a", 0, 1, 0, 1), GET(2, "a", 2, 2, 3)]))
  })

  it("a pending set may take effect late, but only if its version still matches", () => {
    const ok = [SET(1, "a", 0, undefined, 0), GET(2, "", 0, 1, 2), GET(2, "a", 1, 20, 21)]
    verifyWitness(zk, ok, check(zk, ok))
    const bad = [SET(1, "a", 0, undefined, 0), SET(2, "b", -1, 1, 1, 2), GET(2, "a", 2, 20, 21)]
    expectRejected(check(zk, bad))
    const okAny = [SET(1, "a", -1, undefined, 0), SET(2, "b", -1, 1, 1, 2), GET(2, "a", 2, 20, 21)]
    verifyWitness(zk, okAny, check(zk, okAny))
  })

  it("partitions by key with keyedModel and names the failing key", () => {
    const m = keyedModel(zk)
    const k = (key: string, op: ZkOp): Operation<Keyed<ZnodeInput<string>>, ZnodeOutput<string>> => ({
      ...op,
      input: { key, input: op.input },
    })
    const good = [
      k("/a", SET(1, "x", 0, 1, 0, 10)),
      k("/b", SET(2, "y", 0, 1, 1, 3)),
      k("/b", GET(3, "y", 1, 4, 5)),
      k("/a", GET(3, "x", 1, 11, 12)),
      k("/b", SET(2, "z", 1, undefined, 13)),
    ]
    const r = check(m, good)
    verifyWitness(m, good, r)
    expect(r.ok && r.partitions).toBe(2)
    expect(r.ok && r.omittedPending).toEqual([4])
    // Merged across keys, real time still holds: /b's set returned (3) before /a's get was called.
    expect(r.ok && r.linearization.findIndex((x) => x.index === 1)).toBeLessThan(
      r.ok ? r.linearization.findIndex((x) => x.index === 3) : -1,
    )
    const bad = [...good, k("/b", GET(3, "y", 1, 20, 21)), k("/b", GET(3, "z", 2, 22, 23)), k("/b", GET(3, "y", 1, 24, 25))]
    const rb = check(m, bad)
    expectRejected(rb)
    expect(rb.partition).toBe("/b")
    expect(rb.explanation).toContain('partition "/b"')
  })
})

describe("recording and options", () => {
  it("HistoryRecorder leaves unanswered calls pending and drops failed ones", () => {
    const rec = new HistoryRecorder<RegisterInput<number>, RegisterOutput<number>>()
    const a = rec.invoke(1, { type: "write", value: 1 }, 0)
    const b = rec.invoke(2, { type: "read" }, 1)
    const c = rec.invoke(3, { type: "write", value: 7 }, 1)
    rec.complete(b, { type: "read", value: 1 }, 3)
    rec.fail(c)
    const h = rec.history()
    expect(h).toHaveLength(2)
    expect(h[0]!.ret).toBe(Infinity)
    expect(h[0]!.output).toBeUndefined()
    verifyWitness(reg, h, check(reg, h))
    expect(() => rec.complete(a, { type: "write" }, 0.5)).not.toThrow()
    expect(() => rec.complete(a, { type: "write" }, 2)).toThrow(/already/)
  })

  it("rejects malformed histories loudly", () => {
    expect(() => check(reg, [R(1, 0, 5, 4)])).toThrow(/before its call/)
    expect(() => check(reg, [R(1, 0, NaN, 4)])).toThrow(/call time/)
  })

  it("reports unknown, not a verdict, when the step budget runs out", () => {
    const h = generateRegisterHistory(mulberry(7), { ops: 300, clients: 5, pendingRate: 0.02 })
    const r = check(reg, h, { maxSteps: 50 })
    expect(r.verdict).toBe("unknown")
    expect(r.ok).toBe(false)
    expect(r.verdict === "unknown" && r.reason).toBe("step-budget")
    expect(() => assertLinearizable(reg, h, { maxSteps: 50 })).toThrow(/step budget/)
  })
})

// ---------------------------------------------------------------------------------------------
// Generated histories
// ---------------------------------------------------------------------------------------------

/** A small deterministic PRNG for the non-property tests. */
const mulberry = mulberry32

interface GenOptions {
  ops: number
  clients: number
  pendingRate: number
  /** Largest distance between an interval's end and its linearization point. */
  width?: number
}

/**
 * Executes ops one at a time (at linearization points 10, 20, 30, ...) against `apply`, and
 * wraps each in a random real-time interval around its point. Each client is sequential; a
 * client whose call never returns is replaced by a fresh client. A pending op takes effect
 * or not, at random. Written values are unique (the op's number), never 0 or negative.
 */
function generateHistory<St, I, O>(
  rnd: () => number,
  opts: GenOptions,
  init: St,
  makeInput: (rnd: () => number, state: St, n: number) => I,
  apply: (state: St, input: I) => { state: St; output: O },
): Operation<I, O>[] {
  const width = opts.width ?? 25
  const lastRet: number[] = Array.from({ length: opts.clients }, () => -Infinity)
  const clientId: number[] = Array.from({ length: opts.clients }, (_, i) => i)
  let nextClient = opts.clients
  let state = init
  const out: Operation<I, O>[] = []
  for (let n = 1; out.length < opts.ops; n++) {
    const point = n * 10
    const eligible = lastRet.flatMap((t, c) => (t < point ? [c] : []))
    if (eligible.length === 0) continue
    const c = eligible[Math.floor(rnd() * eligible.length)]!
    const input = makeInput(rnd, state, n)
    const call = Math.max(lastRet[c]! + 1, point - Math.floor(rnd() * width))
    if (rnd() < opts.pendingRate) {
      if (rnd() < 0.5) state = apply(state, input).state
      out.push({ client: clientId[c]!, input, call, ret: Infinity })
      clientId[c] = nextClient++
      lastRet[c] = call
    } else {
      const r = apply(state, input)
      state = r.state
      const ret = point + Math.floor(rnd() * width)
      out.push({ client: clientId[c]!, input, output: r.output, call, ret })
      lastRet[c] = ret
    }
  }
  return out
}

function generateRegisterHistory(rnd: () => number, opts: GenOptions): RegOp[] {
  const written: number[] = [0]
  return generateHistory<number, RegisterInput<number>, RegisterOutput<number>>(
    rnd,
    opts,
    0,
    (rnd, state, n) => {
      const x = rnd()
      if (x < 0.45) return { type: "read" }
      if (x < 0.8) {
        written.push(n)
        return { type: "write", value: n }
      }
      const expected = rnd() < 0.6 ? state : written[Math.floor(rnd() * written.length)]!
      written.push(n)
      return { type: "cas", expected, value: n }
    },
    (state, input) => {
      switch (input.type) {
        case "read":
          return { state, output: { type: "read", value: state } }
        case "write":
          return { state: input.value, output: { type: "write" } }
        case "cas":
          return state === input.expected
            ? { state: input.value, output: { type: "cas", ok: true } }
            : { state, output: { type: "cas", ok: false } }
      }
    },
  )
}

function generateZkHistory(rnd: () => number, opts: GenOptions): ZkOp[] {
  return generateHistory<ZnodeState<string>, ZnodeInput<string>, ZnodeOutput<string>>(
    rnd,
    opts,
    { value: "", version: 0 },
    (rnd, state, n) => {
      if (rnd() < 0.5) return { type: "get" }
      const x = rnd()
      const expectedVersion = x < 0.2 ? -1 : x < 0.7 ? state.version : Math.max(0, state.version - 1 - Math.floor(rnd() * 3))
      return { type: "set", value: `v${n}`, expectedVersion }
    },
    (state, input) => {
      if (input.type === "get") return { state, output: { type: "value", value: state.value, version: state.version } }
      if (input.expectedVersion !== -1 && input.expectedVersion !== state.version) return { state, output: { type: "badVersion" } }
      const next = { value: input.value, version: state.version + 1 }
      return { state: next, output: { type: "ok", version: next.version } }
    },
  )
}

/**
 * A reference checker with no cleverness: try every order that respects real time (b must
 * follow a when a.ret < b.call), every pending operation either taking effect or not.
 */
function bruteForce<S, I, O>(model: Model<S, I, O>, history: readonly Operation<I, O>[]): boolean {
  const n = history.length
  const used = new Array<boolean>(n).fill(false)
  const go = (state: S, left: number): boolean => {
    if (left === 0) return true
    for (let x = 0; x < n; x++) {
      if (used[x]) continue
      const op = history[x]!
      // x can go next only if no unplaced completed operation returned before x was called.
      if (history.some((y, j) => !used[j] && j !== x && !isPending(y) && y.ret < op.call)) continue
      const pending = isPending(op)
      const r = model.step(state, op.input, pending ? undefined : op.output)
      if (!r.ok) continue
      used[x] = true
      const found = go(r.state, left - (pending ? 0 : 1))
      used[x] = false
      if (found) return true
    }
    return false
  }
  return go(model.init(), history.filter((op) => !isPending(op)).length)
}

const small = fc.integer({ min: 0, max: 3 })
const interval = fc.record({
  client: fc.integer({ min: 1, max: 4 }),
  call: fc.integer({ min: 0, max: 12 }),
  length: fc.integer({ min: 0, max: 6 }),
  pending: fc.integer({ min: 0, max: 2 }).map((x) => x === 0),
})
const arbitraryRegisterOp: fc.Arbitrary<RegOp> = fc
  .tuple(
    interval,
    fc.oneof(
      small.map((value): [RegisterInput<number>, RegisterOutput<number>] => [{ type: "read" }, { type: "read", value }]),
      fc.integer({ min: 1, max: 3 }).map((value): [RegisterInput<number>, RegisterOutput<number>] => [{ type: "write", value }, { type: "write" }]),
      fc
        .tuple(small, small, fc.boolean())
        .map(([expected, value, ok]): [RegisterInput<number>, RegisterOutput<number>] => [{ type: "cas", expected, value }, { type: "cas", ok }]),
    ),
  )
  .map(([t, [input, output]]) => ({
    client: t.client,
    input,
    call: t.call,
    ...(t.pending ? { ret: Infinity } : { output, ret: t.call + t.length }),
  }))
const znodeValue = fc.constantFrom("", "a", "b")
const arbitraryZnodeOp: fc.Arbitrary<ZkOp> = fc
  .tuple(
    interval,
    fc.oneof(
      fc.tuple(znodeValue, small).map(([value, version]): [ZnodeInput<string>, ZnodeOutput<string>] => [{ type: "get" }, { type: "value", value, version }]),
      fc
        .tuple(znodeValue, fc.integer({ min: -1, max: 2 }), fc.oneof(fc.constant(-1), fc.integer({ min: 1, max: 3 })))
        .map(([value, expectedVersion, result]): [ZnodeInput<string>, ZnodeOutput<string>] => [
          { type: "set", value, expectedVersion },
          result === -1 ? { type: "badVersion" } : { type: "ok", version: result },
        ]),
    ),
  )
  .map(([t, [input, output]]) => ({
    client: t.client,
    input,
    call: t.call,
    ...(t.pending ? { ret: Infinity } : { output, ret: t.call + t.length }),
  }))

describe("agreement with a brute-force reference (property)", () => {
  it("register: same verdict on small arbitrary histories, and both verdicts occur", () => {
    const verdicts = { yes: 0, no: 0 }
    fc.assert(
      fc.property(fc.array(arbitraryRegisterOp, { minLength: 1, maxLength: 8 }), (h) => {
        const expected = bruteForce(reg, h)
        const r = check(reg, h)
        expect(r.verdict).toBe(expected ? "linearizable" : "not-linearizable")
        if (r.ok) verifyWitness(reg, h, r)
        verdicts[expected ? "yes" : "no"]++
      }),
      { numRuns: 4000 },
    )
    expect(verdicts.yes).toBeGreaterThan(100)
    expect(verdicts.no).toBeGreaterThan(100)
  })

  it("znode: same verdict on small arbitrary histories, and both verdicts occur", () => {
    const verdicts = { yes: 0, no: 0 }
    fc.assert(
      fc.property(fc.array(arbitraryZnodeOp, { minLength: 1, maxLength: 8 }), (h) => {
        const expected = bruteForce(zk, h)
        const r = check(zk, h)
        expect(r.verdict).toBe(expected ? "linearizable" : "not-linearizable")
        if (r.ok) verifyWitness(zk, h, r)
        verdicts[expected ? "yes" : "no"]++
      }),
      { numRuns: 4000 },
    )
    expect(verdicts.yes).toBeGreaterThan(100)
    expect(verdicts.no).toBeGreaterThan(100)
  })
})

const genArb = fc.record({
  seed: fc.integer(),
  ops: fc.integer({ min: 1, max: 60 }),
  clients: fc.integer({ min: 1, max: 5 }),
  pendingRate: fc.constantFrom(0, 0.05, 0.15),
  width: fc.integer({ min: 1, max: 40 }),
})

describe("generated histories (property)", () => {
  it("histories produced by a sequential register inside random intervals are accepted", () => {
    fc.assert(
      fc.property(genArb, ({ seed, ...opts }) => {
        const h = generateRegisterHistory(mulberry(seed), opts)
        verifyWitness(reg, h, check(reg, h))
      }),
      { numRuns: 300 },
    )
  })

  it("histories produced by a sequential znode inside random intervals are accepted", () => {
    fc.assert(
      fc.property(genArb, ({ seed, ...opts }) => {
        const h = generateZkHistory(mulberry(seed), opts)
        verifyWitness(zk, h, check(zk, h))
      }),
      { numRuns: 300 },
    )
  })

  it("a read of a value never written is rejected", () => {
    fc.assert(
      fc.property(genArb, fc.nat(), ({ seed, ...opts }, pick) => {
        const h = generateRegisterHistory(mulberry(seed), opts)
        const reads = h.flatMap((op, i) => (op.input.type === "read" && !isPending(op) ? [i] : []))
        fc.pre(reads.length > 0)
        const i = reads[pick % reads.length]!
        h[i] = { ...h[i]!, output: { type: "read", value: -1 } }
        const r = check(reg, h)
        expectRejected(r)
        // The search gets stuck at or before the impossible read.
        expect(r.blockedBy).toBeDefined()
        expect(r.blockedBy!.op.ret).toBeLessThanOrEqual(h[i]!.ret)
      }),
      { numRuns: 200 },
    )
  })

  it("a read of a value whose only writer was invoked after the read returned is rejected", () => {
    fc.assert(
      fc.property(genArb, fc.nat(), ({ seed, ...opts }, pick) => {
        const h = generateRegisterHistory(mulberry(seed), opts)
        // Values are unique, so the writer of v is the one op with input value v.
        const pairs: [number, number][] = []
        h.forEach((rd, i) => {
          if (rd.input.type !== "read" || isPending(rd)) return
          h.forEach((wr, j) => {
            if (wr.input.type !== "read" && wr.call > rd.ret) pairs.push([i, wr.input.value])
          })
        })
        fc.pre(pairs.length > 0)
        const [i, v] = pairs[pick % pairs.length]!
        h[i] = { ...h[i]!, output: { type: "read", value: v } }
        expectRejected(check(reg, h))
      }),
      { numRuns: 200 },
    )
  })

  it("a compare-and-set reported successful from a value never written is rejected", () => {
    fc.assert(
      fc.property(genArb, fc.nat(), ({ seed, ...opts }, pick) => {
        const h = generateRegisterHistory(mulberry(seed), opts)
        const cas = h.flatMap((op, i) => (op.input.type === "cas" && !isPending(op) ? [i] : []))
        fc.pre(cas.length > 0)
        const i = cas[pick % cas.length]!
        const op = h[i]!
        if (op.input.type !== "cas") throw new Error("unreachable")
        h[i] = { ...op, input: { ...op.input, expected: -7 }, output: { type: "cas", ok: true } }
        expectRejected(check(reg, h))
      }),
      { numRuns: 200 },
    )
  })

  it("a znode get observing data that no successful set installed is rejected", () => {
    fc.assert(
      fc.property(genArb, fc.nat(), fc.boolean(), ({ seed, ...opts }, pick, useFailedSet) => {
        const h = generateZkHistory(mulberry(seed), opts)
        const gets = h.flatMap((op, i) => (op.input.type === "get" && !isPending(op) ? [i] : []))
        fc.pre(gets.length > 0)
        const i = gets[pick % gets.length]!
        const g = h[i]!
        if (g.output?.type !== "value") throw new Error("unreachable")
        // Either the data of a set that completed with BADVERSION (values are unique, so
        // nothing else ever wrote it), or a version no sequence of sets can reach.
        const failed = h.flatMap((op) => (op.input.type === "set" && op.output?.type === "badVersion" ? [op.input.value] : []))
        const output: ZnodeOutput<string> =
          useFailedSet && failed.length > 0
            ? { type: "value", value: failed[pick % failed.length]!, version: g.output.version }
            : { type: "value", value: g.output.value, version: h.length + 1 }
        h[i] = { ...g, output }
        expectRejected(check(zk, h))
      }),
      { numRuns: 200 },
    )
  })
})

describe("performance shape", () => {
  it("a 1000-op, 5-client register history with pending ops is checked well within the budget", () => {
    for (const seed of [1, 2, 3]) {
      const h = generateRegisterHistory(mulberry(seed), { ops: 1000, clients: 5, pendingRate: 0.03 })
      expect(h.filter(isPending).length).toBeGreaterThan(0)
      const t0 = performance.now()
      const r = check(reg, h, { maxSteps: 200_000 })
      const ms = performance.now() - t0
      verifyWitness(reg, h, r)
      expect(r.steps).toBeLessThan(200_000)
      expect(ms).toBeLessThan(3000)
    }
  })

  it("a 1000-op, 5-client znode history is checked, and a late violation in it is found", () => {
    const h = generateZkHistory(mulberry(11), { ops: 1000, clients: 5, pendingRate: 0.01 })
    const r = check(zk, h, { maxSteps: 200_000 })
    verifyWitness(zk, h, r)
    // Make a get near the end report a version nobody can have produced.
    let last = h.length - 1
    while (h[last]!.input.type !== "get" || isPending(h[last]!)) last--
    h[last] = { ...h[last]!, output: { type: "value", value: "", version: 5000 } }
    const bad = check(zk, h, { maxSteps: 2_000_000 })
    expectRejected(bad)
    expect(bad.longestPrefix.length).toBeGreaterThan(900)
  })
})
