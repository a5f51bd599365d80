/**
 * Kafka's wire format, driven by the schema tables (messages.generated.ts): one reader and one
 * writer interpret a message's field list at a version, for every API, classic and flexible
 * (KIP-482: compact lengths as unsigned varints of N+1, tagged fields at the end of each struct).
 *
 * Values are plain objects keyed by the schema's field names in camelCase. Types: bool ->
 * boolean; int8/int16/uint16/int32/uint32/float64 -> number; int64 -> bigint; string -> string;
 * uuid, bytes, records -> Uint8Array; arrays -> arrays; nullable ones may be null. A field absent
 * at the version is left out when writing and filled with its default when reading, as Kafka's
 * generated classes do. Every read is bounds-checked: hostile bytes give a KafkaDecodeError, never
 * an out-of-range read or an allocation larger than the frame.
 */
import { inRange, type FieldSpec, type MessageSpec, type PrimitiveType } from "./schema.ts"

export class KafkaDecodeError extends Error {
  override readonly name = "KafkaDecodeError"
}

export class KafkaEncodeError extends Error {
  override readonly name = "KafkaEncodeError"
}

export type KafkaValue = Record<string, unknown>

const ZERO_UUID = new Uint8Array(16)
const utf8 = new TextDecoder("utf-8", { fatal: true })
const utf8Encoder = new TextEncoder()

// ---------------------------------------------------------------------------------------------
// Reader

export class Reader {
  private readonly view: DataView
  offset: number

  constructor(
    readonly bytes: Uint8Array,
    offset = 0,
    readonly end = bytes.length,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.offset = offset
  }

  get remaining(): number {
    return this.end - this.offset
  }

  /** `what` names the value for the error message; a function, so the name is built only then. */
  private need(n: number, what: string | (() => string)): number {
    if (n < 0 || this.offset + n > this.end)
      throw new KafkaDecodeError(`${typeof what === "string" ? what : what()}: needs ${n} bytes at offset ${this.offset}, ${this.remaining} left`)
    const at = this.offset
    this.offset += n
    return at
  }

  int8(): number {
    return this.view.getInt8(this.need(1, "int8"))
  }
  int16(): number {
    return this.view.getInt16(this.need(2, "int16"))
  }
  uint16(): number {
    return this.view.getUint16(this.need(2, "uint16"))
  }
  int32(): number {
    return this.view.getInt32(this.need(4, "int32"))
  }
  uint32(): number {
    return this.view.getUint32(this.need(4, "uint32"))
  }
  int64(): bigint {
    return this.view.getBigInt64(this.need(8, "int64"))
  }
  float64(): number {
    return this.view.getFloat64(this.need(8, "float64"))
  }
  bool(): boolean {
    return this.int8() !== 0
  }
  raw(n: number, what: string | (() => string)): Uint8Array {
    const at = this.need(n, what)
    return this.bytes.subarray(at, at + n)
  }

  /** Unsigned LEB128, at most 5 bytes (a 32-bit value), as Kafka's ByteUtils.readUnsignedVarint. */
  uvarint(): number {
    let value = 0
    for (let i = 0; i < 5; i++) {
      const b = this.view.getUint8(this.need(1, "varint"))
      value |= (b & 0x7f) << (7 * i)
      if ((b & 0x80) === 0) return value >>> 0
    }
    throw new KafkaDecodeError("varint longer than 5 bytes")
  }
}

// ---------------------------------------------------------------------------------------------
// Writer

export class Writer {
  private buf = new Uint8Array(256)
  private view = new DataView(this.buf.buffer)
  length = 0

  /** Room for n bytes first (it may replace the view), then the write at their offset. */
  private put(n: number, set: (view: DataView, at: number) => void): void {
    const at = this.room(n)
    set(this.view, at)
  }

  private room(n: number): number {
    if (this.length + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, this.length + n))
      next.set(this.buf.subarray(0, this.length))
      this.buf = next
      this.view = new DataView(next.buffer)
    }
    const at = this.length
    this.length += n
    return at
  }

  int8(v: number): void {
    this.put(1, (d, at) => d.setInt8(at, v))
  }
  int16(v: number): void {
    this.put(2, (d, at) => d.setInt16(at, v))
  }
  uint16(v: number): void {
    this.put(2, (d, at) => d.setUint16(at, v))
  }
  int32(v: number): void {
    this.put(4, (d, at) => d.setInt32(at, v))
  }
  uint32(v: number): void {
    this.put(4, (d, at) => d.setUint32(at, v))
  }
  int64(v: bigint): void {
    this.put(8, (d, at) => d.setBigInt64(at, v))
  }
  float64(v: number): void {
    this.put(8, (d, at) => d.setFloat64(at, v))
  }
  bool(v: boolean): void {
    this.int8(v ? 1 : 0)
  }
  raw(b: Uint8Array): void {
    const at = this.room(b.length) // may replace this.buf: take the offset first
    this.buf.set(b, at)
  }
  uvarint(v: number): void {
    let x = v >>> 0
    while (x >= 0x80) {
      const b = (x & 0x7f) | 0x80
      this.put(1, (d, at) => d.setUint8(at, b))
      x >>>= 7
    }
    this.put(1, (d, at) => d.setUint8(at, x))
  }

  /** Writes an int32 to patch later (a frame's size). */
  placeholder32(): number {
    return this.room(4)
  }
  patch32(at: number, v: number): void {
    this.view.setInt32(at, v)
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length)
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults

/** The value a field has when it is absent at a version (Kafka's rules, SCHEMA-FORMAT.md). */
export function defaultValue(f: FieldSpec): unknown {
  const d = f.default
  if (d === "null") return null
  if (f.type.startsWith("[]")) return []
  switch (f.type) {
    case "bool":
      return d === undefined ? false : d === true || d === "true"
    case "int8":
    case "int16":
    case "uint16":
    case "int32":
    case "uint32":
    case "float64":
      return d === undefined || d === "" ? 0 : Number(d)
    case "int64":
      return d === undefined || d === "" ? 0n : BigInt(d)
    case "string":
      return d === undefined ? "" : String(d)
    case "uuid":
      return ZERO_UUID
    case "bytes":
      return new Uint8Array(0)
    case "records":
      return null
    case "struct":
      return defaults(f.fields ?? [])
  }
  return undefined
}

function defaults(fields: readonly FieldSpec[]): KafkaValue {
  const out: KafkaValue = {}
  for (const f of fields) out[f.name] = defaultValue(f)
  return out
}

// ---------------------------------------------------------------------------------------------
// Reading

interface Ctx {
  readonly version: number
  readonly flexible: boolean
  /** Where in the message we are, for error messages. */
  readonly path: string
}

/**
 * A field is tagged in its tagged versions (always flexible ones, by Kafka's schema rules), and a
 * regular field in the rest of its versions.
 */
export const isTaggedAt = (f: FieldSpec, ctx: { readonly version: number; readonly flexible: boolean }) =>
  ctx.flexible && f.tag !== undefined && inRange(f.taggedVersions, ctx.version)

const isFlexible = (f: FieldSpec, ctx: Ctx) => (f.flexibleVersions ? inRange(f.flexibleVersions, ctx.version) : ctx.flexible)

/** Length prefix of a string, bytes or array: -1 (classic) or 0 (compact) is null. */
function readLength(r: Reader, compact: boolean, int16: boolean): number {
  if (compact) return r.uvarint() - 1
  return int16 ? r.int16() : r.int32()
}

function readPrimitive(r: Reader, t: PrimitiveType, f: FieldSpec, ctx: Ctx, compact: boolean): unknown {
  const where = () => `${ctx.path}.${f.name}` // for errors only: not built per field on the hot path
  switch (t) {
    case "bool":
      return r.bool()
    case "int8":
      return r.int8()
    case "int16":
      return r.int16()
    case "uint16":
      return r.uint16()
    case "int32":
      return r.int32()
    case "uint32":
      return r.uint32()
    case "int64":
      return r.int64()
    case "float64":
      return r.float64()
    case "uuid":
      return r.raw(16, where).slice()
    case "string":
    case "bytes":
    case "records": {
      const n = readLength(r, compact, t === "string")
      if (n < 0) {
        if (!inRange(f.nullableVersions, ctx.version) && n === -1) throw new KafkaDecodeError(`${where()}: null in a non-nullable field`)
        if (n < -1) throw new KafkaDecodeError(`${where()}: negative length ${n}`)
        return null
      }
      const b = r.raw(n, where)
      if (t !== "string") return b.slice()
      try {
        return utf8.decode(b)
      } catch {
        throw new KafkaDecodeError(`${where()}: invalid UTF-8`)
      }
    }
  }
}

function readField(r: Reader, f: FieldSpec, ctx: Ctx): unknown {
  const compact = isFlexible(f, ctx)
  const where = `${ctx.path}.${f.name}`
  if (f.type === "struct") return readStruct(r, f.fields!, { ...ctx, path: where })
  if (f.type.startsWith("[]")) {
    const n = readLength(r, compact, false)
    if (n < 0) {
      if (n < -1 || !inRange(f.nullableVersions, ctx.version)) throw new KafkaDecodeError(`${where}: bad array length ${n}`)
      return null
    }
    // Each element takes at least one byte, so a count above what is left is a lie.
    if (n > r.remaining) throw new KafkaDecodeError(`${where}: array of ${n} with ${r.remaining} bytes left`)
    const out: unknown[] = new Array(n)
    const elem = f.type.slice(2) as PrimitiveType | "struct"
    for (let i = 0; i < n; i++)
      out[i] = elem === "struct" ? readStruct(r, f.fields!, { ...ctx, path: `${where}[${i}]` }) : readPrimitive(r, elem, f, { ...ctx, path: `${where}[${i}]` }, compact)
    return out
  }
  return readPrimitive(r, f.type as PrimitiveType, f, ctx, compact)
}

export function readStruct(r: Reader, fields: readonly FieldSpec[], ctx: Ctx): KafkaValue {
  const out: KafkaValue = {}
  const tagged = new Map<number, FieldSpec>()
  for (const f of fields) {
    if (isTaggedAt(f, ctx)) {
      tagged.set(f.tag!, f)
      out[f.name] = defaultValue(f)
    } else if (inRange(f.versions, ctx.version)) out[f.name] = readField(r, f, ctx)
    else out[f.name] = defaultValue(f)
  }
  if (ctx.flexible) {
    const count = r.uvarint()
    let last = -1
    for (let i = 0; i < count; i++) {
      const tag = r.uvarint()
      if (tag <= last) throw new KafkaDecodeError(`${ctx.path}: tagged fields out of order (${tag} after ${last})`)
      last = tag
      const size = r.uvarint()
      const body = r.raw(size, () => `${ctx.path} tag ${tag}`)
      const f = tagged.get(tag)
      if (!f) continue // an unknown tag: newer peers may send them, and they are skippable by design
      const sub = new Reader(body)
      out[f.name] = readField(sub, f, ctx)
      if (sub.remaining !== 0) throw new KafkaDecodeError(`${ctx.path}.${f.name}: ${sub.remaining} stray bytes in tagged field`)
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Writing

function writeLength(w: Writer, n: number, compact: boolean, int16: boolean): void {
  if (compact) w.uvarint(n + 1)
  else if (int16) w.int16(n)
  else w.int32(n)
}

function failAt(where: string, what: string): never {
  throw new KafkaEncodeError(`${where}: ${what}`)
}

function writePrimitive(w: Writer, t: PrimitiveType, v: unknown, f: FieldSpec, ctx: Ctx, compact: boolean): void {
  // Typed as a declaration so that TypeScript narrows after a call; the path is built only when failing.
  const fail: (what: string) => never = (what) => failAt(`${ctx.path}.${f.name}`, what)
  const int = (min: number, max: number) => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(`${String(v)} is not a ${t}`)
    return v
  }
  switch (t) {
    case "bool":
      if (typeof v !== "boolean") fail(`${String(v)} is not a boolean`)
      return w.bool(v)
    case "int8":
      return w.int8(int(-0x80, 0x7f))
    case "int16":
      return w.int16(int(-0x8000, 0x7fff))
    case "uint16":
      return w.uint16(int(0, 0xffff))
    case "int32":
      return w.int32(int(-0x80000000, 0x7fffffff))
    case "uint32":
      return w.uint32(int(0, 0xffffffff))
    case "int64":
      if (typeof v !== "bigint" || v < -(1n << 63n) || v >= 1n << 63n) fail(`${String(v)} is not an int64 (a bigint)`)
      return w.int64(v)
    case "float64":
      if (typeof v !== "number") fail(`${String(v)} is not a number`)
      return w.float64(v)
    case "uuid":
      if (!(v instanceof Uint8Array) || v.length !== 16) fail("a uuid is 16 bytes")
      return w.raw(v)
    case "string":
    case "bytes":
    case "records": {
      if (v === null || v === undefined) {
        if (!inRange(f.nullableVersions, ctx.version)) fail("null in a non-nullable field")
        return writeLength(w, -1, compact, t === "string")
      }
      const b = t === "string" ? (typeof v === "string" ? utf8Encoder.encode(v) : fail("not a string")) : v instanceof Uint8Array ? v : fail("not a Uint8Array")
      if (t === "string" && !compact && b.length > 0x7fff) fail(`string of ${b.length} bytes is over the int16 limit`)
      writeLength(w, b.length, compact, t === "string")
      return w.raw(b)
    }
  }
}

function writeField(w: Writer, f: FieldSpec, v: unknown, ctx: Ctx): void {
  const compact = isFlexible(f, ctx)
  const where = `${ctx.path}.${f.name}`
  if (f.type === "struct") {
    if (typeof v !== "object" || v === null) failAt(where, "not a struct")
    return writeStruct(w, f.fields!, v as KafkaValue, { ...ctx, path: where })
  }
  if (f.type.startsWith("[]")) {
    if (v === null || v === undefined) {
      if (!inRange(f.nullableVersions, ctx.version)) failAt(where, "null in a non-nullable array")
      return writeLength(w, -1, compact, false)
    }
    if (!Array.isArray(v)) failAt(where, "not an array")
    writeLength(w, v.length, compact, false)
    const elem = f.type.slice(2) as PrimitiveType | "struct"
    v.forEach((x, i) => {
      const c = { ...ctx, path: `${where}[${i}]` }
      if (elem === "struct") writeStruct(w, f.fields!, x as KafkaValue, c)
      else writePrimitive(w, elem, x, f, c, compact)
    })
    return
  }
  writePrimitive(w, f.type as PrimitiveType, v, f, ctx, compact)
}

/** Kafka writes a tagged field only when it differs from its default. */
function isDefault(f: FieldSpec, v: unknown): boolean {
  const d = defaultValue(f)
  if (v === undefined || v === d) return true
  if (Array.isArray(v)) return Array.isArray(d) && v.length === 0
  if (v instanceof Uint8Array && d instanceof Uint8Array) return v.length === d.length && v.every((b, i) => b === d[i])
  return false
}

export function writeStruct(w: Writer, fields: readonly FieldSpec[], value: KafkaValue, ctx: Ctx): void {
  const tagged: FieldSpec[] = []
  for (const f of fields) {
    if (isTaggedAt(f, ctx)) {
      if (!isDefault(f, value[f.name])) tagged.push(f)
    } else if (inRange(f.versions, ctx.version)) {
      const v = value[f.name]
      writeField(w, f, v === undefined ? defaultValue(f) : v, ctx)
    }
  }
  if (ctx.flexible) {
    tagged.sort((a, b) => a.tag! - b.tag!)
    w.uvarint(tagged.length)
    for (const f of tagged) {
      const sub = new Writer()
      writeField(sub, f, value[f.name], ctx)
      const body = sub.finish()
      w.uvarint(f.tag!)
      w.uvarint(body.length)
      w.raw(body)
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Messages

/** The top-level context of a message at a version; `Err` is what a missing version throws. */
function context(spec: MessageSpec, version: number, Err: new (message: string) => Error): Ctx {
  if (!inRange(spec.validVersions, version)) throw new Err(`${spec.name} has no version ${version}`)
  return { version, flexible: inRange(spec.flexibleVersions, version), path: spec.name }
}

export function encodeMessage(w: Writer, spec: MessageSpec, version: number, value: KafkaValue): void {
  writeStruct(w, spec.fields, value, context(spec, version, KafkaEncodeError))
}

export function decodeMessage(r: Reader, spec: MessageSpec, version: number): KafkaValue {
  return readStruct(r, spec.fields, context(spec, version, KafkaDecodeError))
}

/** Encodes a message body alone (no header, no size prefix). */
export function encode(spec: MessageSpec, version: number, value: KafkaValue): Uint8Array {
  const w = new Writer()
  encodeMessage(w, spec, version, value)
  return w.finish()
}

/** Decodes a whole body: bytes left over are an error (a lying length or a wrong version). */
export function decode(spec: MessageSpec, version: number, bytes: Uint8Array): KafkaValue {
  const r = new Reader(bytes)
  const v = decodeMessage(r, spec, version)
  if (r.remaining !== 0) throw new KafkaDecodeError(`${spec.name} v${version}: ${r.remaining} stray bytes after the message`)
  return v
}
