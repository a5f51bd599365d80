import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { test } from "@fast-check/vitest"
import { DecodeError, decodeTxn, encodeTxn, type ACL, type CoordTxn, type CreateMode, type Id, type TxnOp } from "../../core/coordination/index.ts"

const text = fc.string({ unit: "binary", maxLength: 12 })
const id: fc.Arbitrary<Id> = fc.record({ scheme: text, id: text })
const acl: fc.Arbitrary<ACL> = fc.record({ perms: fc.integer(), id })
const data = fc.uint8Array({ maxLength: 40 })
const int32 = fc.integer()

const leafOp: fc.Arbitrary<TxnOp> = fc.oneof(
  fc.record({ type: fc.constant("createSession" as const), timeoutMs: fc.nat(), passwd: data }),
  fc.record({ type: fc.constant("closeSession" as const), expired: fc.boolean() }),
  fc.record({
    type: fc.constant("create" as const),
    path: text,
    data,
    acl: fc.array(acl, { maxLength: 3 }),
    mode: fc.integer({ min: -3, max: 9 }).map((m) => m as CreateMode),
    ttl: fc.maxSafeInteger(),
  }),
  fc.record({ type: fc.constant("delete" as const), path: text, version: int32 }),
  fc.record({ type: fc.constant("setData" as const), path: text, data, version: int32 }),
  fc.record({ type: fc.constant("setACL" as const), path: text, acl: fc.array(acl, { maxLength: 3 }), version: int32 }),
  fc.record({ type: fc.constant("check" as const), path: text, version: int32 }),
  fc.record({ type: fc.constant("sync" as const), path: text }),
  fc.record({ type: fc.constant("deleteContainer" as const), path: text }),
)

const op: fc.Arbitrary<TxnOp> = fc.letrec<{ op: TxnOp }>((tie) => ({
  op: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafOp,
    fc.record({ type: fc.constant("multi" as const), ops: fc.array(tie("op"), { maxLength: 4 }) }),
  ),
})).op.filter((o) => depth(o) <= 4)

function depth(o: TxnOp): number {
  return o.type === "multi" ? 1 + Math.max(0, ...o.ops.map(depth)) : 0
}

const coordTxn: fc.Arbitrary<CoordTxn> = fc.record({
  session: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  cxid: int32,
  origin: fc.integer({ min: -1, max: 1 << 20 }),
  time: fc.maxSafeInteger(),
  auth: fc.array(id, { maxLength: 3 }),
  op,
})

describe("txn codec", () => {
  test.prop([coordTxn], { numRuns: 400 })("decode(encode(txn)) is txn", (txn) => {
    const bytes = encodeTxn(txn)
    const back = decodeTxn(bytes)
    expect(back).toEqual(txn)
    expect(encodeTxn(back)).toEqual(bytes)
  })

  test.prop([coordTxn, fc.nat(), fc.integer({ min: 0, max: 255 })], { numRuns: 400 })(
    "a corrupted byte is rejected or decodes to something that re-encodes to exactly those bytes",
    (txn, at, value) => {
      const bytes = encodeTxn(txn)
      bytes[at % bytes.length] = value
      let decoded: CoordTxn
      try {
        decoded = decodeTxn(bytes)
      } catch (e) {
        expect(e).toBeInstanceOf(DecodeError)
        return
      }
      expect(encodeTxn(decoded)).toEqual(bytes)
    },
  )

  test.prop([coordTxn], { numRuns: 100 })("every strict prefix is rejected", (txn) => {
    const bytes = encodeTxn(txn)
    for (let n = 0; n < bytes.length; n++) expect(() => decodeTxn(bytes.subarray(0, n))).toThrow(DecodeError)
    expect(() => decodeTxn(new Uint8Array([...bytes, 0]))).toThrow(DecodeError)
  })

  test.prop([fc.uint8Array({ maxLength: 200 })], { numRuns: 1000 })("random bytes are rejected or canonical", (bytes) => {
    let decoded: CoordTxn
    try {
      decoded = decodeTxn(bytes)
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError)
      return
    }
    expect(encodeTxn(decoded)).toEqual(bytes)
  })

  it("keeps a small create small", () => {
    const txn: CoordTxn = {
      session: 0x100000001n,
      cxid: 7,
      origin: 1,
      time: 1_700_000_000_000,
      auth: [{ scheme: "ip", id: "127.0.0.1" }],
      op: { type: "create", path: "/app/lock-", data: new Uint8Array(4), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], mode: 3, ttl: 0 },
    }
    expect(encodeTxn(txn).length).toBeLessThan(64)
  })

  it("rejects absurd lengths and counts without allocating them", () => {
    // format 1, session 0, cxid 0, origin 0, time 0, then 2^49 auth ids.
    const huge = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]
    expect(() => decodeTxn(new Uint8Array([1, 0, 0, 0, 0, ...huge]))).toThrow(/count/)
    // A sync whose path claims 2^49 bytes.
    expect(() => decodeTxn(new Uint8Array([1, 0, 0, 0, 0, 0, 9, ...huge]))).toThrow(/length/)
    // Varints longer than 64 bits, non-minimal varints, unknown tags and formats.
    expect(() => decodeTxn(new Uint8Array([1, ...new Array(11).fill(0xff), 0]))).toThrow(DecodeError)
    expect(() => decodeTxn(new Uint8Array([1, 0x80, 0x00, 0, 0, 0, 0, 9, 0]))).toThrow(/non-minimal/)
    expect(() => decodeTxn(new Uint8Array([1, 0, 0, 0, 0, 0, 42]))).toThrow(/tag/)
    expect(() => decodeTxn(new Uint8Array([2, 0, 0, 0, 0, 0, 9, 0]))).toThrow(/format/)
    expect(() => decodeTxn(new Uint8Array([1, 0, 0, 0, 0, 0, 2, 2]))).toThrow(/boolean/)
    // Invalid UTF-8 in a path.
    expect(() => decodeTxn(new Uint8Array([1, 0, 0, 0, 0, 0, 9, 1, 0xff]))).toThrow(/UTF-8/)
  })

  it("rejects multis nested too deeply", () => {
    let deep: TxnOp = { type: "sync", path: "/" }
    for (let i = 0; i < 6; i++) deep = { type: "multi", ops: [deep] }
    const txn: CoordTxn = { session: 0n, cxid: 0, origin: 0, time: 0, auth: [], op: deep }
    expect(() => encodeTxn(txn)).toThrow(/nested/)
    const bytes = new Uint8Array([1, 0, 0, 0, 0, 0, ...new Array(6).fill([8, 1]).flat(), 9, 1, 0x2f])
    expect(() => decodeTxn(bytes)).toThrow(/nested/)
  })

  it("refuses to encode what it could not decode back exactly", () => {
    const base: CoordTxn = { session: 0n, cxid: 0, origin: 0, time: 0, auth: [], op: { type: "sync", path: "/" } }
    expect(() => encodeTxn({ ...base, time: 1.5 })).toThrow()
    expect(() => encodeTxn({ ...base, time: Number.NaN })).toThrow()
    expect(() => encodeTxn({ ...base, session: -1n })).toThrow()
    expect(() => encodeTxn({ ...base, session: 1n << 64n })).toThrow()
    expect(() => encodeTxn({ ...base, op: { type: "sync", path: "/\ud800" } })).toThrow(/well-formed/)
    expect(decodeTxn(encodeTxn({ ...base, op: { type: "sync", path: "\ufeff/" } }))).toEqual({ ...base, op: { type: "sync", path: "\ufeff/" } })
  })
})
