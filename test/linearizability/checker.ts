/**
 * A linearizability checker in the style of Knossos and Porcupine.
 *
 * The search is the Wing–Gong algorithm with Lowe's memoisation, laid out the way Porcupine
 * does it:
 *   - every operation becomes two entries, a call and a return, and the entries go into one
 *     doubly linked list sorted by time (at equal times calls come first, so operations that
 *     touch at an instant count as concurrent);
 *   - the search walks the list from the front. A call entry is a candidate to linearize next.
 *     If the model accepts it, the call and its return are unlinked ("lifted") and the search
 *     restarts from the front. Reaching a return entry means that operation returned and
 *     nothing linearized it first, so the search backtracks: it pops the last linearized
 *     operation, puts its two entries back ("unlift") and tries the next call after it;
 *   - a cache of (set of linearized operations, model state) pairs prunes configurations that
 *     were already explored, which keeps the search polynomial on typical histories.
 *
 * Operations that never returned (`ret: Infinity` or `output: undefined`) have no return
 * entry: they may be linearized anywhere after their call, or never, and the search succeeds
 * as soon as every completed operation is linearized. Two refinements keep such operations
 * from multiplying the search (each is sound; see Memo and followsUselessPending):
 *   - they are tried after the completed candidates, and the memo treats a configuration
 *     that leaves some of them out as covering the same configuration with them in;
 *   - linearizing one is pointless if the very next operation would reach the same state
 *     without it (a blind write overwrote it), so that branch is cut.
 *
 * If the model has `partition`, the history is split by key and each part is checked on its
 * own (linearizability is compositional, Herlihy & Wing's locality), which is far cheaper
 * than checking the product state.
 *
 * The work is bounded by a step budget (and optionally a wall-clock limit); when it runs out
 * the verdict is `unknown`, never a hang.
 */

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/** One operation of a history. Times are any numbers on one shared real-time axis. */
export interface Operation<I, O> {
  /** Who issued it (only used in reports; the checker does not require clients to be sequential). */
  client: number | string
  input: I
  /** `undefined` means the call never returned: it may or may not have taken effect. */
  output?: O | undefined
  /** Invocation time. */
  call: number
  /** Response time; `Infinity` means the call never returned. */
  ret: number
}

/** A sequential specification. */
export interface Model<S, I, O> {
  init(): S
  /**
   * Apply `input` to `state`. `ok` says whether `output` is a possible result of doing so.
   * For an operation that never returned, `output` is `undefined`: return `ok: true` with the
   * state after the operation took effect. Returning `ok: false` for such an operation is also
   * sound when taking effect could not change the state (e.g. a failing compare-and-set),
   * because the checker may always leave a pending operation out.
   * Must be pure: do not mutate `state`.
   */
  step(state: S, input: I, output: O | undefined): { ok: boolean; state: S }
  /** Canonical string for a state: states with equal hashes are treated as the same state.
   *  Defaults to a stable JSON-like form (sorted keys). */
  hash?(state: S): string
  /** Split the history by key; operations with different keys are checked independently. */
  partition?(input: I): string | number
  /**
   * True when the operation never changes the state (a read). Pending read-only operations
   * are dropped before the search, since they can neither be observed nor matter.
   */
  readOnly?(input: I): boolean
  describeOperation?(input: I, output: O | undefined): string
  describeState?(state: S): string
}

export interface CheckOptions {
  /** Search steps allowed per partition (each step = one model step or one backtrack). */
  maxSteps?: number
  /** Wall-clock limit for the whole check, in ms. Off by default (tests should stay deterministic). */
  timeoutMs?: number
}

export const DEFAULT_MAX_STEPS = 5_000_000

/** One operation placed in a linearization. */
export interface LinearizedOp<S, I, O> {
  /** Position of the operation in the history passed to `check`. */
  index: number
  op: Operation<I, O>
  /** Model state (of this operation's partition) after the operation. */
  stateAfter: S
  /** Partition key, when the model partitions. */
  partition?: string | undefined
}

/** A remaining operation that was a candidate at the point the search got stuck. */
export interface StuckCandidate<S, I, O> {
  index: number
  op: Operation<I, O>
  /** `rejected`: the model refuses its output in that state. `dead-end`: the model accepts
   *  it, but no linearization of the rest of the history follows. */
  reason: "rejected" | "dead-end"
  /** The state the model would move to (for `dead-end`). */
  stateAfter?: S
}

export interface Linearizable<S, I, O> {
  ok: true
  verdict: "linearizable"
  /** A witness: every completed operation plus the pending ones that took effect, in an
   *  order consistent with real time. Across partitions, they are merged by a linearization
   *  point inside each operation's interval, so the merged order respects real time too. */
  linearization: LinearizedOp<S, I, O>[]
  /** Indices of pending operations that the witness leaves out (never took effect). */
  omittedPending: number[]
  steps: number
  partitions: number
}

export interface NotLinearizable<S, I, O> {
  ok: false
  verdict: "not-linearizable"
  /** Partition key of the failing part (undefined when the model does not partition). */
  partition: string | undefined
  /** Longest sequence of operations the search could linearize in the failing partition. */
  longestPrefix: LinearizedOp<S, I, O>[]
  /** After the longest prefix: the completed operation with the earliest return. Something
   *  had to be linearized before it returned, and nothing could be. */
  blockedBy: { index: number; op: Operation<I, O> } | undefined
  /** The operations that could have gone next after the longest prefix, and why each fails. */
  candidates: StuckCandidate<S, I, O>[]
  explanation: string
  steps: number
}

export interface Unknown<S, I, O> {
  ok: false
  verdict: "unknown"
  reason: "step-budget" | "timeout"
  partition: string | undefined
  longestPrefix: LinearizedOp<S, I, O>[]
  explanation: string
  steps: number
}

export type CheckResult<S, I, O> = Linearizable<S, I, O> | NotLinearizable<S, I, O> | Unknown<S, I, O>

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** Stable JSON-like encoding: sorted object keys, handles undefined/bigint/NaN/Uint8Array/Map/Set. */
export function stableHash(value: unknown): string {
  switch (typeof value) {
    case "undefined":
      return "u"
    case "bigint":
      return `${value}n`
    case "number":
      return Object.is(value, -0) ? "-0" : String(value)
    case "string":
      return JSON.stringify(value)
    case "boolean":
      return value ? "t" : "f"
    case "symbol":
    case "function":
      return String(value)
  }
  if (value === null) return "null"
  if (value instanceof Uint8Array) return `b[${Array.from(value).join(",")}]`
  if (Array.isArray(value)) return `[${value.map(stableHash).join(",")}]`
  if (value instanceof Map) {
    const parts = [...value.entries()].map(([k, v]) => `${stableHash(k)}:${stableHash(v)}`).sort()
    return `M{${parts.join(",")}}`
  }
  if (value instanceof Set) return `S{${[...value].map(stableHash).sort().join(",")}}`
  const obj = value as Record<string, unknown>
  const keys = Object.keys(obj).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableHash(obj[k])}`).join(",")}}`
}

function show(value: unknown): string {
  if (value === undefined) return "?"
  if (typeof value === "string") return JSON.stringify(value)
  if (typeof value === "bigint") return `${value}n`
  if (value instanceof Uint8Array) return `bytes(${value.length})`
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

export function isPending(op: Operation<unknown, unknown>): boolean {
  return op.output === undefined || op.ret === Infinity
}

function describeOp<S, I, O>(model: Model<S, I, O>, index: number, op: Operation<I, O>): string {
  const pending = isPending(op)
  const body = model.describeOperation
    ? model.describeOperation(op.input, pending ? undefined : op.output)
    : `${show(op.input)} -> ${pending ? "?" : show(op.output)}`
  const interval = `[${op.call}, ${pending ? "never returned" : op.ret}]`
  return `#${index} client ${String(op.client)}: ${body} ${interval}`
}

function describeState<S, I, O>(model: Model<S, I, O>, state: S): string {
  return model.describeState ? model.describeState(state) : show(state)
}

/** A fixed-size bit set whose contents can be turned into a compact string key. */
class BitSet {
  private readonly words: Uint16Array
  constructor(size: number) {
    this.words = new Uint16Array(Math.max(1, Math.ceil(size / 16)))
  }
  set(i: number): void {
    this.words[i >>> 4]! |= 1 << (i & 15)
  }
  clear(i: number): void {
    this.words[i >>> 4]! &= ~(1 << (i & 15))
  }
  key(): string {
    const w = this.words
    if (w.length <= 4096) return String.fromCharCode.apply(null, w as unknown as number[])
    let s = ""
    for (let i = 0; i < w.length; i += 4096) {
      s += String.fromCharCode.apply(null, w.subarray(i, i + 4096) as unknown as number[])
    }
    return s
  }
}

/**
 * Lowe's memo cache of explored configurations (set of linearized operations, state), with
 * one refinement for operations that never returned. Such an operation is never required, so
 * a configuration that leaves it out can do everything the same configuration with it in can:
 * (C, P, s) subsumes (C, P', s) whenever P is a subset of P' (C: linearized completed
 * operations, P: linearized pending ones). The cache therefore keys on (C, s) and keeps the
 * minimal P sets seen for it; without this, every subset of floating pending writes would be
 * explored separately and a non-linearizable history with a few dozen of them would not finish.
 */
function subset(a: Uint32Array, b: Uint32Array): boolean {
  for (let w = 0; w < a.length; w++) if ((a[w]! & ~b[w]!) !== 0) return false
  return true
}

class Memo {
  private readonly isPending: boolean[]
  private readonly slot: number[]
  private readonly completed: BitSet
  private readonly pending: Uint32Array
  private readonly seen = new Map<string, Uint32Array[]>()

  constructor(isPending: boolean[]) {
    let nc = 0
    let np = 0
    this.slot = isPending.map((p) => (p ? np++ : nc++))
    this.isPending = isPending
    this.completed = new BitSet(nc)
    this.pending = new Uint32Array(Math.ceil(np / 32))
  }

  set(id: number): void {
    const k = this.slot[id]!
    if (this.isPending[id]) this.pending[k >>> 5]! |= 1 << (k & 31)
    else this.completed.set(k)
  }
  clear(id: number): void {
    const k = this.slot[id]!
    if (this.isPending[id]) this.pending[k >>> 5]! &= ~(1 << (k & 31))
    else this.completed.clear(k)
  }
  /** Records the current configuration; false if it (or one that subsumes it) was seen. */
  visit(stateHash: string): boolean {
    const key = this.completed.key() + "\u0000" + stateHash
    const cur = this.pending
    const list = this.seen.get(key)
    if (!list) {
      this.seen.set(key, [cur.slice()])
      return true
    }
    for (const old of list) if (subset(old, cur)) return false
    // Keep the list an antichain: drop the older sets the new one subsumes.
    let keep = 0
    for (const old of list) if (!subset(cur, old)) list[keep++] = old
    list.length = keep
    list.push(cur.slice())
    return true
  }
}

interface Entry {
  /** Dense operation id within the partition; -1 for a list head. */
  readonly id: number
  readonly isCall: boolean
  readonly time: number
  /** For a completed operation's call entry, its return entry; null for pending operations. */
  readonly match: Entry | null
  prev: Entry | null
  next: Entry | null
}

function unlink(e: Entry): void {
  e.prev!.next = e.next
  if (e.next) e.next.prev = e.prev
}

function relink(e: Entry): void {
  e.prev!.next = e
  if (e.next) e.next.prev = e
}

/** Remove an operation (its call and, if any, its return entry) from the lists. */
function lift(e: Entry): void {
  unlink(e)
  if (e.match) unlink(e.match)
}

/** Undo `lift`; entries must be restored in the reverse order of their removal. */
function unlift(e: Entry): void {
  if (e.match) relink(e.match)
  relink(e)
}

function linkSorted(entries: Entry[]): Entry {
  entries.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1) || a.id - b.id)
  const head: Entry = { id: -1, isCall: false, time: -Infinity, match: null, prev: null, next: null }
  let last = head
  for (const e of entries) {
    last.next = e
    e.prev = last
    last = e
  }
  return head
}

interface PartOp<I, O> {
  index: number
  op: Operation<I, O>
  pending: boolean
}

type PartResult<S> =
  | { kind: "ok"; order: number[]; states: S[]; steps: number }
  | { kind: "fail"; best: number[]; bestStates: S[]; bestEnd: S; steps: number }
  | { kind: "unknown"; reason: "step-budget" | "timeout"; best: number[]; bestStates: S[]; steps: number }

/**
 * The Wing–Gong–Lowe search over one partition. `ops` use dense ids (their position).
 * On success, `order` lists the linearized ids and `states[k]` is the state after order[k].
 *
 * Completed operations live in the main list (call and return entries). Operations that
 * never returned have no return entry; their call entries live in a second list, and they
 * are tried only after the completed candidates: a candidate is a pending operation whose
 * call is no later than the first return entry of the main list. Trying them last means the
 * configurations that leave them out are usually explored first, which is what lets the
 * memo's subsumption (see Memo) prune the configurations that include them.
 */
function searchPartition<S, I, O>(
  model: Model<S, I, O>,
  ops: PartOp<I, O>[],
  maxSteps: number,
  deadline: number,
): PartResult<S> {
  const n = ops.length
  const hash = model.hash ? (s: S) => model.hash!(s) : stableHash

  const main: Entry[] = []
  const floating: Entry[] = []
  for (let id = 0; id < n; id++) {
    const p = ops[id]!
    if (p.pending) {
      floating.push({ id, isCall: true, time: p.op.call, match: null, prev: null, next: null })
    } else {
      const ret: Entry = { id, isCall: false, time: p.op.ret, match: null, prev: null, next: null }
      main.push(ret, { id, isCall: true, time: p.op.call, match: ret, prev: null, next: null })
    }
  }
  // Main list sorted by (time, calls before returns, op id); the pending list by call time.
  const head = linkSorted(main)
  const pendingHead = linkSorted(floating)

  let remaining = main.length / 2

  const memo = new Memo(ops.map((p) => p.pending))
  // The backtracking stack: linearized call entries, the state before each and, for a pending
  // operation, the time limit its candidate scan ran under.
  const stackEntries: Entry[] = []
  const stackStates: S[] = []
  const stackLimits: number[] = []
  let state = model.init()

  // The longest prefix seen, maintained incrementally: positions below `divergeAt` of the
  // stack have not been popped since `best` was last updated, so they equal best's.
  const best: number[] = []
  const bestStates: S[] = [] // state after best[k]
  let bestEnd = state
  let divergeAt = 0
  // "Longest" counts completed operations: pending ones add nothing to explain.
  let bestCompleted = 0
  const totalCompleted = main.length / 2

  if (remaining === 0) return { kind: "ok", order: [], states: [], steps: 0 }

  /**
   * True when the operation on top of the stack never returned and the candidate, applied
   * without it, would be accepted and reach the same state (`nextHash`): then linearizing the
   * pending operation there achieved nothing (e.g. a blind write right after it), and the
   * sibling branch that skips it, which the search explores anyway, can do everything this
   * one can. Without this, each never-returned write would be retried at every later point.
   */
  const followsUselessPending = (input: I, output: O | undefined, nextHash: string): boolean => {
    const depth = stackEntries.length
    if (depth === 0 || !ops[stackEntries[depth - 1]!.id]!.pending) return false
    const without = model.step(stackStates[depth - 1]!, input, output)
    return without.ok && hash(without.state) === nextHash
  }

  let steps = 0
  // The cursor: the next main-list entry, or (once the main scan reached a return entry)
  // the next pending entry, scanned while its call time is <= `limit`.
  let entry: Entry = head.next!
  let inPending = false
  let limit = 0
  for (;;) {
    steps++
    if (steps > maxSteps) return { kind: "unknown", reason: "step-budget", best, bestStates, steps }
    if ((steps & 4095) === 0 && deadline !== Infinity && Date.now() > deadline) {
      return { kind: "unknown", reason: "timeout", best, bestStates, steps }
    }

    let candidate: Entry | null = null
    if (!inPending) {
      if (entry.isCall) {
        candidate = entry
      } else {
        // The first return entry: only pending operations called by now remain to try.
        inPending = true
        limit = entry.time
        const first = pendingHead.next
        if (first !== null && first.time <= limit) candidate = entry = first
      }
    } else if (entry.time <= limit) {
      candidate = entry
    }

    if (candidate === null) {
      // No candidate left before the first return entry. Backtrack.
      if (stackEntries.length === 0) return { kind: "fail", best, bestStates, bestEnd, steps }
      const top = stackEntries.pop()!
      state = stackStates.pop()!
      const topLimit = stackLimits.pop()!
      if (stackEntries.length < divergeAt) divergeAt = stackEntries.length
      memo.clear(top.id)
      unlift(top)
      const pendingTop = ops[top.id]!.pending
      if (!pendingTop) remaining++
      inPending = pendingTop
      limit = topLimit
      const next = top.next
      if (next === null) {
        // Only possible at the end of the pending list: force a backtrack on the next turn.
        inPending = true
        limit = -Infinity
      } else {
        entry = next
      }
      continue
    }

    const p = ops[candidate.id]!
    const output = p.pending ? undefined : p.op.output
    const r = model.step(state, p.op.input, output)
    const nextHash = r.ok ? hash(r.state) : ""
    if (r.ok && !followsUselessPending(p.op.input, output, nextHash)) {
      memo.set(candidate.id)
      if (memo.visit(nextHash)) {
        stackEntries.push(candidate)
        stackStates.push(state)
        stackLimits.push(limit)
        state = r.state
        lift(candidate)
        if (!p.pending) remaining--
        if (remaining === 0) {
          const order = stackEntries.map((e) => e.id)
          const states = stackStates.slice(1)
          states.push(state)
          return { kind: "ok", order, states, steps }
        }
        if (totalCompleted - remaining > bestCompleted) {
          bestCompleted = totalCompleted - remaining
          best.length = divergeAt
          bestStates.length = divergeAt
          for (let k = divergeAt; k < stackEntries.length; k++) {
            best.push(stackEntries[k]!.id)
            bestStates.push(k + 1 < stackStates.length ? stackStates[k + 1]! : state)
          }
          bestEnd = state
          divergeAt = stackEntries.length
        }
        entry = head.next!
        inPending = false
        continue
      }
      memo.clear(candidate.id)
    }
    const next = candidate.next
    if (next === null) {
      // End of the pending list (the main list always ends with a return entry).
      inPending = true
      limit = -Infinity
    } else {
      entry = next
    }
  }
}

// ---------------------------------------------------------------------------------------------
// check
// ---------------------------------------------------------------------------------------------

function validate<I, O>(history: readonly Operation<I, O>[]): void {
  history.forEach((op, i) => {
    if (typeof op.call !== "number" || !Number.isFinite(op.call)) {
      throw new Error(`linearizability: operation #${i} has a non-finite call time ${op.call}`)
    }
    if (typeof op.ret !== "number" || Number.isNaN(op.ret)) {
      throw new Error(`linearizability: operation #${i} has an invalid return time ${op.ret}`)
    }
    if (op.ret < op.call) {
      throw new Error(`linearizability: operation #${i} returns (${op.ret}) before its call (${op.call})`)
    }
  })
}

/**
 * Check whether `history` is linearizable with respect to `model`.
 *
 * Operation intervals are closed: `a` must precede `b` only when `a.ret < b.call`.
 */
export function check<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult<S, I, O> {
  validate(history)
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS
  const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs

  // Split by partition, dropping pending read-only operations.
  const parts = new Map<string, PartOp<I, O>[]>()
  const droppedPending: number[] = []
  history.forEach((op, index) => {
    const pending = isPending(op)
    if (pending && model.readOnly?.(op.input)) {
      droppedPending.push(index)
      return
    }
    const key = model.partition ? String(model.partition(op.input)) : ""
    let list = parts.get(key)
    if (!list) parts.set(key, (list = []))
    list.push({ index, op, pending })
  })

  // Small partitions first: a violation there is found cheaply.
  const ordered = [...parts.entries()].sort((a, b) => a[1].length - b[1].length)
  const partitionLabel = (key: string) => (model.partition ? key : undefined)

  let totalSteps = 0
  let firstUnknown: Unknown<S, I, O> | undefined
  const witnesses: { key: string; ops: PartOp<I, O>[]; order: number[]; states: S[] }[] = []

  for (const [key, ops] of ordered) {
    const r = searchPartition(model, ops, maxSteps, deadline)
    totalSteps += r.steps
    if (r.kind === "ok") {
      witnesses.push({ key, ops, order: r.order, states: r.states })
      continue
    }
    const label = partitionLabel(key)
    const prefix = r.best.map(
      (id, k): LinearizedOp<S, I, O> => ({
        index: ops[id]!.index,
        op: ops[id]!.op,
        stateAfter: r.bestStates[k]!,
        partition: label,
      }),
    )
    if (r.kind === "fail") {
      return explainFailure(model, ops, prefix, r.best, r.bestEnd, label, totalSteps)
    }
    if (!firstUnknown) {
      const what = r.reason === "step-budget" ? `the step budget (${maxSteps} steps)` : `the time limit (${options.timeoutMs} ms)`
      firstUnknown = {
        ok: false,
        verdict: "unknown",
        reason: r.reason,
        partition: label,
        longestPrefix: prefix,
        steps: 0,
        explanation:
          `Could not decide linearizability${label === undefined ? "" : ` of partition ${JSON.stringify(label)}`}: ` +
          `the search exhausted ${what} after linearizing at most ${prefix.length} of ${ops.length} operations.`,
      }
    }
    if (r.reason === "timeout") break
  }

  if (firstUnknown) return { ...firstUnknown, steps: totalSteps }

  return {
    ok: true,
    verdict: "linearizable",
    linearization: mergeWitnesses(witnesses, partitionLabel),
    omittedPending: omitted(history, witnesses, droppedPending),
    steps: totalSteps,
    partitions: parts.size,
  }
}

function omitted<I, O>(
  history: readonly Operation<I, O>[],
  witnesses: { ops: PartOp<I, O>[]; order: number[] }[],
  droppedPending: number[],
): number[] {
  const used = new Set<number>()
  for (const w of witnesses) for (const id of w.order) used.add(w.ops[id]!.index)
  for (const i of droppedPending) used.add(i)
  const out = [...droppedPending]
  history.forEach((op, i) => {
    if (isPending(op) && !used.has(i)) out.push(i)
  })
  return out.sort((a, b) => a - b)
}

/**
 * Merge per-partition linearizations into one sequence. Within a partition, the earliest
 * linearization point of the k-th operation is max(call of operations 0..k); it lies inside
 * the k-th operation's interval because the order respects real time. Sorting all operations
 * by that point (ties by partition, then position) keeps every real-time precedence.
 */
function mergeWitnesses<S, I, O>(
  witnesses: { key: string; ops: PartOp<I, O>[]; order: number[]; states: S[] }[],
  label: (key: string) => string | undefined,
): LinearizedOp<S, I, O>[] {
  const all: { point: number; w: number; k: number; item: LinearizedOp<S, I, O> }[] = []
  witnesses.forEach((wit, w) => {
    let point = -Infinity
    wit.order.forEach((id, k) => {
      const p = wit.ops[id]!
      point = Math.max(point, p.op.call)
      all.push({ point, w, k, item: { index: p.index, op: p.op, stateAfter: wit.states[k]!, partition: label(wit.key) } })
    })
  })
  all.sort((a, b) => a.point - b.point || a.w - b.w || a.k - b.k)
  return all.map((x) => x.item)
}

function explainFailure<S, I, O>(
  model: Model<S, I, O>,
  ops: PartOp<I, O>[],
  prefix: LinearizedOp<S, I, O>[],
  bestIds: number[],
  endState: S,
  label: string | undefined,
  steps: number,
): NotLinearizable<S, I, O> {
  const done = new Set(bestIds)
  // The completed operation that must be linearized first: the earliest return among the rest.
  let blocker: PartOp<I, O> | undefined
  for (let id = 0; id < ops.length; id++) {
    const p = ops[id]!
    if (done.has(id) || p.pending) continue
    if (!blocker || p.op.ret < blocker.op.ret) blocker = p
  }
  const candidates: StuckCandidate<S, I, O>[] = []
  if (blocker) {
    for (let id = 0; id < ops.length; id++) {
      const p = ops[id]!
      if (done.has(id) || p.op.call > blocker.op.ret) continue
      const r = model.step(endState, p.op.input, p.pending ? undefined : p.op.output)
      candidates.push(
        r.ok
          ? { index: p.index, op: p.op, reason: "dead-end", stateAfter: r.state }
          : { index: p.index, op: p.op, reason: "rejected" },
      )
    }
  }

  const lines: string[] = []
  lines.push(`Not linearizable${label === undefined ? "" : ` (partition ${JSON.stringify(label)})`}.`)
  const total = ops.filter((p) => !p.pending).length
  const completedInPrefix = prefix.filter((x) => !isPending(x.op)).length
  lines.push(
    `The longest linearizable prefix found covers ${completedInPrefix} of the ${total} completed operations` +
      `${prefix.length > completedInPrefix ? ` (plus ${prefix.length - completedInPrefix} that never returned)` : ""}` +
      ` and ends in state ${describeState(model, endState)}.`,
  )
  const shown = 8
  if (prefix.length > 0) {
    lines.push(prefix.length > shown ? `Its last ${shown} operations:` : "It is:")
    for (const item of prefix.slice(-shown)) {
      lines.push(`  ${describeOp(model, item.index, item.op)}  => ${describeState(model, item.stateAfter)}`)
    }
  }
  if (blocker) {
    lines.push(
      `Then ${describeOp(model, blocker.index, blocker.op)} returned at ${blocker.op.ret}, ` +
        `yet no operation can be ordered before that return:`,
    )
    for (const c of candidates) {
      const why =
        c.reason === "rejected"
          ? `impossible in state ${describeState(model, endState)}`
          : `possible (=> ${describeState(model, c.stateAfter as S)}), but nothing consistent follows`
      lines.push(`  ${describeOp(model, c.index, c.op)}: ${why}`)
    }
  }
  return {
    ok: false,
    verdict: "not-linearizable",
    partition: label,
    longestPrefix: prefix,
    blockedBy: blocker ? { index: blocker.index, op: blocker.op } : undefined,
    candidates,
    explanation: lines.join("\n"),
    steps,
  }
}

/** `check`, throwing an Error with the explanation unless the history is linearizable. */
export function assertLinearizable<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options?: CheckOptions,
): Linearizable<S, I, O> {
  const r = check(model, history, options)
  if (!r.ok) throw new Error(r.explanation)
  return r
}

// ---------------------------------------------------------------------------------------------
// Recording histories
// ---------------------------------------------------------------------------------------------

/**
 * Builds a history while a test runs. `invoke` returns a handle; `complete` records the
 * response. Operations never completed stay pending (`ret: Infinity`, no output). Use
 * `fail` only for operations known NOT to have taken effect (e.g. rejected before being
 * sent); a timeout or lost connection must stay pending.
 */
export class HistoryRecorder<I, O> {
  private readonly ops: (Operation<I, O> | undefined)[] = []

  invoke(client: number | string, input: I, time: number): number {
    this.ops.push({ client, input, call: time, ret: Infinity })
    return this.ops.length - 1
  }

  complete(handle: number, output: O, time: number): void {
    const op = this.ops[handle]
    if (!op) throw new Error(`HistoryRecorder: unknown or failed operation ${handle}`)
    if (op.ret !== Infinity) throw new Error(`HistoryRecorder: operation ${handle} already completed`)
    op.output = output
    op.ret = time
  }

  fail(handle: number): void {
    this.ops[handle] = undefined
  }

  history(): Operation<I, O>[] {
    return this.ops.filter((op): op is Operation<I, O> => op !== undefined).map((op) => ({ ...op }))
  }
}
