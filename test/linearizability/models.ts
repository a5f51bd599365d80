/**
 * Sequential models for the linearizability checker (see checker.ts).
 *
 * Values are compared with `Object.is` unless an `equals` is given, so use primitives
 * (encode byte arrays as hex or base64 strings) or pass `equals`.
 */
import { stableHash, type Model } from "./checker.ts"

const show = (v: unknown): string => (typeof v === "string" ? JSON.stringify(v) : String(v))

// ---------------------------------------------------------------------------------------------
// (1) A read / write / compare-and-set register
// ---------------------------------------------------------------------------------------------

export type RegisterInput<V> =
  | { type: "read" }
  | { type: "write"; value: V }
  | { type: "cas"; expected: V; value: V }

export type RegisterOutput<V> =
  | { type: "read"; value: V }
  | { type: "write" }
  /** `ok: false` means the compare failed (the register did not hold `expected`). */
  | { type: "cas"; ok: boolean }

export interface ValueOptions<V> {
  equals?: (a: V, b: V) => boolean
}

export function registerModel<V = unknown>(
  initial: V,
  options: ValueOptions<V> = {},
): Model<V, RegisterInput<V>, RegisterOutput<V>> {
  const eq = options.equals ?? Object.is
  return {
    init: () => initial,
    step(state, input, output) {
      switch (input.type) {
        case "read":
          if (output === undefined) return { ok: true, state }
          return { ok: output.type === "read" && eq(output.value, state), state }
        case "write":
          if (output !== undefined && output.type !== "write") return { ok: false, state }
          return { ok: true, state: input.value }
        case "cas": {
          const matches = eq(state, input.expected)
          // Pending: if it took effect, the compare decided the outcome; a failed compare
          // changes nothing, which is the same as not taking effect.
          if (output === undefined) return matches ? { ok: true, state: input.value } : { ok: false, state }
          if (output.type !== "cas") return { ok: false, state }
          if (output.ok) return matches ? { ok: true, state: input.value } : { ok: false, state }
          return { ok: !matches, state }
        }
      }
    },
    hash: (s) => stableHash(s),
    readOnly: (input) => input.type === "read",
    describeOperation(input, output) {
      switch (input.type) {
        case "read":
          return `read -> ${output === undefined ? "?" : output.type === "read" ? show(output.value) : `(${output.type}?)`}`
        case "write":
          return `write(${show(input.value)})${output === undefined ? " -> ?" : ""}`
        case "cas":
          return `cas(${show(input.expected)} -> ${show(input.value)}) -> ${
            output === undefined ? "?" : output.type === "cas" ? (output.ok ? "ok" : "fail") : `(${output.type}?)`
          }`
      }
    },
    describeState: (s) => show(s),
  }
}

// ---------------------------------------------------------------------------------------------
// (2) A ZooKeeper znode as a versioned compare-and-set register
// ---------------------------------------------------------------------------------------------

/** The znode's data and its `dataVersion` (Stat.version). */
export interface ZnodeState<V> {
  value: V
  version: number
}

export type ZnodeInput<V> =
  | { type: "get" }
  /** `expectedVersion: -1` is an unconditional set, as in ZooKeeper's setData. */
  | { type: "set"; value: V; expectedVersion: number }

export type ZnodeOutput<V> =
  /** getData: the data and Stat.version. */
  | { type: "value"; value: V; version: number }
  /** setData succeeded; `version` is the new Stat.version. */
  | { type: "ok"; version: number }
  /** setData failed with BADVERSION. */
  | { type: "badVersion" }

/**
 * A single existing znode, checked with getData/setData. `initial` defaults to
 * `{ value: "", version: 0 }`, the state right after `create` with empty data.
 * Each successful set increments the version by one.
 */
export function znodeModel<V = string>(
  initial: ZnodeState<V> = { value: "" as V, version: 0 },
  options: ValueOptions<V> = {},
): Model<ZnodeState<V>, ZnodeInput<V>, ZnodeOutput<V>> {
  const eq = options.equals ?? Object.is
  return {
    init: () => initial,
    step(state, input, output) {
      if (input.type === "get") {
        if (output === undefined) return { ok: true, state }
        return {
          ok: output.type === "value" && output.version === state.version && eq(output.value, state.value),
          state,
        }
      }
      const matches = input.expectedVersion === -1 || input.expectedVersion === state.version
      const next: ZnodeState<V> = { value: input.value, version: state.version + 1 }
      if (output === undefined) return matches ? { ok: true, state: next } : { ok: false, state }
      switch (output.type) {
        case "ok":
          return matches && output.version === next.version ? { ok: true, state: next } : { ok: false, state }
        case "badVersion":
          return { ok: !matches, state }
        default:
          return { ok: false, state }
      }
    },
    hash: (s) => `${s.version}:${stableHash(s.value)}`,
    readOnly: (input) => input.type === "get",
    describeOperation(input, output) {
      const out =
        output === undefined
          ? "?"
          : output.type === "value"
            ? `${show(output.value)} @v${output.version}`
            : output.type === "ok"
              ? `ok v${output.version}`
              : "BADVERSION"
      if (input.type === "get") return `get -> ${out}`
      return `set(${show(input.value)}, ${input.expectedVersion === -1 ? "any" : `v${input.expectedVersion}`}) -> ${out}`
    },
    describeState: (s) => `${show(s.value)} @v${s.version}`,
  }
}

// ---------------------------------------------------------------------------------------------
// Many independent objects: one model per key
// ---------------------------------------------------------------------------------------------

export interface Keyed<I> {
  key: string | number
  input: I
}

/**
 * Lifts a single-object model to many independent objects (e.g. one znode model per path).
 * The checker partitions the history by key, so each key is checked with `inner` alone.
 */
export function keyedModel<S, I, O>(inner: Model<S, I, O>): Model<S, Keyed<I>, O> {
  const m: Model<S, Keyed<I>, O> = {
    init: () => inner.init(),
    step: (state, input, output) => inner.step(state, input.input, output),
    partition: (input) => input.key,
    describeOperation: (input, output) =>
      `${show(input.key)}: ${inner.describeOperation ? inner.describeOperation(input.input, output) : stableHash(input.input)}`,
  }
  if (inner.hash) m.hash = inner.hash.bind(inner)
  if (inner.readOnly) {
    const ro = inner.readOnly.bind(inner)
    m.readOnly = (input) => ro(input.input)
  }
  if (inner.describeState) m.describeState = inner.describeState.bind(inner)
  return m
}
