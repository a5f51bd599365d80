/**
 * The shape of Kafka's message schemas, as scripts/gen-kafka.ts extracts them from Apache Kafka's
 * JSON definitions into messages.generated.ts, and version-range helpers. The codec (codec.ts)
 * interprets these tables: one generic reader and writer instead of code per message.
 */

/** An inclusive version range; `max` is 32767 (the largest int16 version) for an open one ("3+"), and min > max for none. */
export interface VersionRange {
  readonly min: number
  readonly max: number
}

export type PrimitiveType =
  | "bool"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "float64"
  | "string"
  | "uuid"
  | "bytes"
  | "records"

export interface FieldSpec {
  /** camelCase of the schema's name: the property in decoded values. */
  readonly name: string
  /** A primitive, or "struct" with `fields`, or an array of either ("[]" + element). */
  readonly type: PrimitiveType | "struct" | `[]${PrimitiveType}` | "[]struct"
  readonly versions: VersionRange
  readonly nullableVersions?: VersionRange
  readonly taggedVersions?: VersionRange
  readonly tag?: number
  /** Overrides the message's flexible versions for this field (the header's client id). */
  readonly flexibleVersions?: VersionRange
  /** The schema's default, where it has one ("null" for null). */
  readonly default?: string | number | boolean
  readonly fields?: readonly FieldSpec[]
}

export interface MessageSpec {
  readonly name: string
  readonly apiKey: number
  readonly kind: "request" | "response" | "header"
  readonly validVersions: VersionRange
  readonly flexibleVersions: VersionRange
  readonly fields: readonly FieldSpec[]
}

export const inRange = (r: VersionRange | undefined, v: number): boolean => r !== undefined && v >= r.min && v <= r.max

/** Parses "0-4", "3+", "5" and "none". */
export function parseVersions(s: string): VersionRange {
  if (s === "none") return { min: 1, max: 0 }
  const open = /^(\d+)\+$/.exec(s)
  if (open) return { min: Number(open[1]), max: 0x7fff }
  const range = /^(\d+)-(\d+)$/.exec(s)
  if (range) return { min: Number(range[1]), max: Number(range[2]) }
  if (/^\d+$/.test(s)) return { min: Number(s), max: Number(s) }
  throw new Error(`bad version range ${JSON.stringify(s)}`)
}
