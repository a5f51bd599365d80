/**
 * The table-driven Kafka codec (adapters/tcp/kafka): every message of every API at every version
 * round-trips random values; hand-checked bytes pin the encodings KIP-482 defines; hostile bytes
 * give KafkaDecodeError and nothing else; the generated table matches Kafka's schemas.
 */
import { existsSync } from "node:fs"
import path from "node:path"
import { fc, test } from "@fast-check/vitest"
import { describe, expect, it } from "vitest"
import { APIS, REQUEST_HEADER, RESPONSE_HEADER, requestHeaderVersion, responseHeaderVersion } from "../../adapters/tcp/kafka/apis.ts"
import { decode, defaultValue, encode, isTaggedAt, KafkaDecodeError, type KafkaValue } from "../../adapters/tcp/kafka/codec.ts"
import { MESSAGES } from "../../adapters/tcp/kafka/messages.generated.ts"
import { inRange, type FieldSpec, type MessageSpec, type PrimitiveType } from "../../adapters/tcp/kafka/schema.ts"

type Ctx = { version: number; flexible: boolean }

function primitive(t: PrimitiveType, nullable: boolean): fc.Arbitrary<unknown> {
  const a: fc.Arbitrary<unknown> = (() => {
    switch (t) {
      case "bool":
        return fc.boolean()
      case "int8":
        return fc.integer({ min: -128, max: 127 })
      case "int16":
        return fc.integer({ min: -32768, max: 32767 })
      case "uint16":
        return fc.integer({ min: 0, max: 65535 })
      case "int32":
        return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })
      case "uint32":
        return fc.integer({ min: 0, max: 2 ** 32 - 1 })
      case "int64":
        return fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n })
      case "float64":
        return fc.double({ noNaN: true })
      case "string":
        return fc.string({ maxLength: 12, unit: "grapheme" })
      case "uuid":
        return fc.uint8Array({ minLength: 16, maxLength: 16 })
      case "bytes":
      case "records":
        return fc.uint8Array({ maxLength: 24 })
    }
  })()
  return nullable ? fc.option(a, { nil: null }) : a
}

/** Random values of the fields present at a version, with the decoded value expected back. */
function struct(fields: readonly FieldSpec[], ctx: Ctx): fc.Arbitrary<KafkaValue> {
  const parts: Record<string, fc.Arbitrary<unknown>> = {}
  for (const f of fields) {
    const present = isTaggedAt(f, ctx) || inRange(f.versions, ctx.version)
    if (!present) {
      parts[f.name] = fc.constant(defaultValue(f))
      continue
    }
    const nullable = inRange(f.nullableVersions, ctx.version)
    if (f.type === "struct") parts[f.name] = struct(f.fields!, ctx)
    else if (f.type.startsWith("[]")) {
      const elem = f.type.slice(2)
      const item = elem === "struct" ? struct(f.fields!, ctx) : primitive(elem as PrimitiveType, false)
      const arr = fc.array(item, { maxLength: 3 })
      parts[f.name] = nullable ? fc.option(arr, { nil: null }) : arr
    } else parts[f.name] = primitive(f.type as PrimitiveType, nullable)
  }
  return fc.record(parts)
}

const cases = MESSAGES.flatMap((m) => {
  const out: { m: MessageSpec; v: number }[] = []
  for (let v = m.validVersions.min; v <= m.validVersions.max; v++) out.push({ m, v })
  return out
})

describe("Kafka codec", () => {
  it("has every API the issue names, with requests and responses", () => {
    for (const key of [0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 18, 19, 20, 21, 22, 23, 32, 37, 44, 60])
      expect(APIS.get(key), `api key ${key}`).toBeDefined()
    expect(cases.length).toBeGreaterThan(600)
  })

  it("round-trips every message at every version", () => {
    for (const { m, v } of cases) {
      const ctx = { version: v, flexible: inRange(m.flexibleVersions, v) }
      fc.assert(
        fc.property(struct(m.fields, ctx), (value) => {
          expect(decode(m, v, encode(m, v, value))).toEqual(value)
        }),
        { numRuns: 8, seed: 42 },
      )
    }
  })

  it("encodes KIP-482 compact types and tagged fields as Kafka does", () => {
    const api = APIS.get(18)!
    // ApiVersionsRequest v3: two compact strings (length + 1 as an unsigned varint), then an empty
    // tagged-field buffer.
    expect([...encode(api.request, 3, { clientSoftwareName: "kafkajs", clientSoftwareVersion: "2.2.4" })]).toEqual([
      8, ...Buffer.from("kafkajs"), 6, ...Buffer.from("2.2.4"), 0,
    ])
    // Request header v2: int16 key, int16 version, int32 correlation id, then the client id as a
    // classic int16-length string even though the header is flexible, then tagged fields.
    expect([...encode(REQUEST_HEADER, 2, { requestApiKey: 18, requestApiVersion: 3, correlationId: 7, clientId: "c" })]).toEqual([
      0, 18, 0, 3, 0, 0, 0, 7, 0, 1, 99, 0,
    ])
    expect([...encode(REQUEST_HEADER, 1, { requestApiKey: 3, requestApiVersion: 1, correlationId: 1, clientId: null })]).toEqual([0, 3, 0, 1, 0, 0, 0, 1, 255, 255])
    expect([...encode(RESPONSE_HEADER, 1, { correlationId: 258 })]).toEqual([0, 0, 1, 2, 0])
    // ApiVersionsResponse v0, the layout an unsupported-version answer uses: error 35 and one key.
    expect([...encode(api.response, 0, { errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }] })]).toEqual([
      0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 4,
    ])
  })

  it("writes a tagged field only when it differs from its default, and reads unknown tags past", () => {
    const api = APIS.get(18)!
    const base = { errorCode: 0, apiKeys: [], throttleTimeMs: 0, supportedFeatures: [], finalizedFeaturesEpoch: -1n, finalizedFeatures: [], zkMigrationReady: false }
    const plain = encode(api.response, 3, base)
    expect(plain.at(-1)).toBe(0) // no tagged fields
    const withEpoch = encode(api.response, 3, { ...base, finalizedFeaturesEpoch: 5n })
    expect(decode(api.response, 3, withEpoch).finalizedFeaturesEpoch).toBe(5n)
    // An unknown tag 9 with two bytes of body is skipped.
    const unknown = Uint8Array.from([...plain.subarray(0, plain.length - 1), 1, 9, 2, 0xab, 0xcd])
    expect(decode(api.response, 3, unknown)).toEqual(decode(api.response, 3, plain))
  })

  it("picks header versions as Kafka does (ApiVersions responses always v0)", () => {
    const produce = APIS.get(0)!
    expect([requestHeaderVersion(produce, 8), requestHeaderVersion(produce, 9)]).toEqual([1, 2])
    expect([responseHeaderVersion(produce, 8), responseHeaderVersion(produce, 9)]).toEqual([0, 1])
    expect(responseHeaderVersion(APIS.get(18)!, 4)).toBe(0)
    expect(requestHeaderVersion(APIS.get(18)!, 3)).toBe(2)
  })

  test.prop([fc.integer({ min: 0, max: 100_000 }), fc.uint8Array({ maxLength: 64 })], { numRuns: 3000 })(
    "hostile bytes give a KafkaDecodeError or a value, never another exception",
    (pick, bytes) => {
      const { m, v } = cases[pick % cases.length]!
      try {
        decode(m, v, bytes)
      } catch (e) {
        expect(e).toBeInstanceOf(KafkaDecodeError)
      }
    },
  )

  it("rejects lying lengths and stray bytes", () => {
    const meta = APIS.get(3)!
    // Metadata v1 request: an array claiming 2^31-1 topics in a 4-byte body.
    expect(() => decode(meta.request, 1, Uint8Array.from([0x7f, 0xff, 0xff, 0xff]))).toThrow(KafkaDecodeError)
    // A string longer than the frame.
    expect(() => decode(meta.request, 1, Uint8Array.from([0, 0, 0, 1, 0x10, 0, 0x61]))).toThrow(KafkaDecodeError)
    const ok = encode(meta.request, 1, { topics: null })
    expect(() => decode(meta.request, 1, Uint8Array.from([...ok, 0]))).toThrow(/stray bytes/)
    // A varint that never ends.
    expect(() => decode(APIS.get(18)!.request, 3, Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))).toThrow(KafkaDecodeError)
  })

  const reference = path.resolve(import.meta.dirname, "../../../shared/reference/kafka-messages")
  it.runIf(existsSync(reference))("the generated table matches Kafka's schemas (scripts/gen-kafka.ts --check)", async () => {
    const { generate } = await import("../../scripts/gen-kafka.ts")
    const { readFile } = await import("node:fs/promises")
    const committed = await readFile(path.resolve(import.meta.dirname, "../../adapters/tcp/kafka/messages.generated.ts"), "utf8")
    expect(generate(reference)).toBe(committed)
  })
})
