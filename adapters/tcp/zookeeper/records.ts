/**
 * One interpreter for every jute record: encodeRecord / decodeRecord walk the field tables that
 * scripts/gen-jute.ts generated from ZooKeeper's IDL (records.generated.ts). No per-record code.
 *
 * Value shapes (see the generated interfaces): int -> number, long -> bigint (all longs; when
 * encoding, a safe-integer number is accepted too), boolean -> boolean, buffer -> Uint8Array |
 * null, ustring -> string | null, vector -> array | null, nested record -> object.
 * Encoding checks every value's type at run time and throws a TypeError naming the field, so a
 * caller passing the wrong shape finds out at once rather than on the client.
 */
import { JuteReader, JuteWriter } from "./jute.ts"
import { RECORDS, type JuteType, type RecordName, type RecordTypes } from "./records.generated.ts"

export { RECORDS, type JuteType, type RecordName, type RecordTypes }
export type * from "./records.generated.ts"

/** A decoded shape, loosened for encoding: every bigint may also be a (safe-integer) number. */
export type Encodable<T> = T extends bigint
  ? bigint | number
  : T extends Uint8Array
    ? Uint8Array
    : T extends readonly (infer U)[]
      ? readonly Encodable<U>[]
      : T extends object
        ? { readonly [K in keyof T]: Encodable<T[K]> }
        : T

const minSizes = new Map<RecordName, number>()

/** The fewest bytes a value of type `t` can encode to (null buffers/strings/vectors take 4). */
export function minEncodedSize(t: JuteType): number {
  if (typeof t === "string") {
    switch (t) {
      case "int":
        return 4
      case "long":
        return 8
      case "boolean":
        return 1
      case "buffer":
      case "ustring":
        return 4
    }
  }
  if ("vector" in t) return 4
  let n = minSizes.get(t.record)
  if (n === undefined) {
    n = 0
    for (const f of RECORDS[t.record].fields) n += minEncodedSize(f.type)
    minSizes.set(t.record, n)
  }
  return n
}

function fail(where: string, expected: string, got: unknown): never {
  const shown = got === null ? "null" : Array.isArray(got) ? "array" : typeof got
  throw new TypeError(`${where}: expected ${expected}, got ${shown}`)
}

function writeValue(t: JuteType, v: unknown, w: JuteWriter, where: string): void {
  if (typeof t === "string") {
    switch (t) {
      case "int":
        if (typeof v !== "number") fail(where, "int (number)", v)
        w.int(v)
        return
      case "long":
        if (typeof v !== "bigint" && typeof v !== "number") fail(where, "long (bigint | number)", v)
        w.long(v)
        return
      case "boolean":
        if (typeof v !== "boolean") fail(where, "boolean", v)
        w.bool(v)
        return
      case "buffer":
        if (v !== null && !(v instanceof Uint8Array)) fail(where, "buffer (Uint8Array | null)", v)
        w.buffer(v)
        return
      case "ustring":
        if (v !== null && typeof v !== "string") fail(where, "ustring (string | null)", v)
        w.ustring(v)
        return
    }
  }
  if ("vector" in t) {
    if (v === null) {
      w.int(-1)
      return
    }
    if (!Array.isArray(v)) fail(where, "vector (array | null)", v)
    w.int(v.length)
    const item = t.vector
    for (let i = 0; i < v.length; i++) writeValue(item, v[i], w, where)
    return
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) fail(where, `record ${t.record}`, v)
  writeFields(t.record, v as Record<string, unknown>, w)
}

function writeFields(name: RecordName, v: Record<string, unknown>, w: JuteWriter): void {
  for (const f of RECORDS[name].fields) {
    const x = v[f.name]
    if (x === undefined) throw new TypeError(`${name}.${f.name}: missing`)
    writeValue(f.type, x, w, `${name}.${f.name}`)
  }
}

function readValue(t: JuteType, r: JuteReader): unknown {
  if (typeof t === "string") {
    switch (t) {
      case "int":
        return r.int()
      case "long":
        return r.long()
      case "boolean":
        return r.bool()
      case "buffer":
        return r.buffer()
      case "ustring":
        return r.ustring()
    }
  }
  if ("vector" in t) {
    const item = t.vector
    return r.vector((rr) => readValue(item, rr), minEncodedSize(item))
  }
  return readFields(t.record, r)
}

function readFields(name: RecordName, r: JuteReader): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const f of RECORDS[name].fields) out[f.name] = readValue(f.type, r)
  return out
}

/** Appends `value` as record `name`. Throws TypeError/RangeError on a value of the wrong shape. */
export function encodeRecord<N extends RecordName>(name: N, value: Encodable<RecordTypes[N]>, w: JuteWriter): void {
  if (typeof value !== "object" || value === null) fail(name, `record ${name}`, value)
  writeFields(name, value as Record<string, unknown>, w)
}

/** Reads record `name` at the reader's position. Throws JuteError on short or malformed input. */
export function decodeRecord<N extends RecordName>(name: N, r: JuteReader): RecordTypes[N] {
  return readFields(name, r) as unknown as RecordTypes[N]
}

/**
 * Like decodeRecord, but the last `optional` fields may be missing when the input ends before
 * them (old clients omit ConnectRequest.readOnly); missing fields are absent from the result.
 */
export function decodeRecordOptionalTail<N extends RecordName>(name: N, r: JuteReader, optional: number): Partial<RecordTypes[N]> {
  const fields = RECORDS[name].fields
  const out: Record<string, unknown> = {}
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!
    if (i >= fields.length - optional && r.remaining === 0) break
    out[f.name] = readValue(f.type, r)
  }
  return out as Partial<RecordTypes[N]>
}

/** `encodeRecord` into fresh bytes. */
export function recordToBytes<N extends RecordName>(name: N, value: Encodable<RecordTypes[N]>): Uint8Array {
  const w = new JuteWriter()
  encodeRecord(name, value, w)
  return w.finish()
}

/** `decodeRecord` from the start of `bytes` (trailing bytes are ignored, as jute does). */
export function recordFromBytes<N extends RecordName>(name: N, bytes: Uint8Array): RecordTypes[N] {
  return decodeRecord(name, new JuteReader(bytes))
}

export function isRecordName(s: string): s is RecordName {
  return Object.hasOwn(RECORDS, s)
}
