/**
 * The ZooKeeper protocol layer: golden frames, per-opcode round trips through the table, multi
 * encoding, and the typed errors a server acts on.
 *
 * The golden vectors were computed by hand from the jute rules (int32/int64 big-endian, strings
 * and buffers int32 length + bytes, -1 = null, booleans one byte, frames int32 length + body), and
 * are byte-for-byte what Apache ZooKeeper 3.9.5's own jute classes (ConnectRequest,
 * MultiOperationRecord, MultiResponse, ...) serialize for the same values.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { FrameDecoder } from "../../adapters/tcp/zookeeper/frames.ts"
import { JuteReader, JuteWriter } from "../../adapters/tcp/zookeeper/jute.ts"
import {
  MULTI_OPS,
  MULTI_RESULTS,
  OPS,
  Op,
  Xid,
  ZkDecodeError,
  decodeConnectRequest,
  decodeConnectResponse,
  decodeMultiRequest,
  decodeReply,
  decodeRequest,
  encodeConnectRequest,
  encodeConnectResponse,
  encodeMultiResponse,
  encodeNotification,
  encodeReply,
  encodeReplyDynamic,
  encodeRequest,
  opSpec,
  type MultiOp,
  type MultiResult,
  type RequestKind,
  type ResponseName,
  type ZkRequest,
} from "../../adapters/tcp/zookeeper/protocol.ts"
import { RECORDS, recordToBytes } from "../../adapters/tcp/zookeeper/records.ts"
import { recordArbitrary } from "./arbitraries.ts"
import { ascii, hex, toHex } from "./hex.ts"

/** The single frame body in `bytes` (checks the length prefix). */
function body(frame: Uint8Array): Uint8Array {
  const frames = new FrameDecoder().push(frame)
  expect(frames).toHaveLength(1)
  return frames[0]!
}

function decodeError(f: () => unknown): ZkDecodeError {
  try {
    f()
  } catch (e) {
    expect(e).toBeInstanceOf(ZkDecodeError)
    return e as ZkDecodeError
  }
  throw new Error("expected a ZkDecodeError")
}

const zeroStat = { czxid: 0n, mzxid: 0n, ctime: 0n, mtime: 0n, version: 0, cversion: 0, aversion: 0, ephemeralOwner: 0n, dataLength: 0, numChildren: 0, pzxid: 0n }
const passwd0to15 = Uint8Array.from({ length: 16 }, (_, i) => i)

describe("golden frames", () => {
  // ConnectRequest{protocolVersion 0, lastZxidSeen 0x100000005, timeOut 10000, sessionId
  // 0x72d1a5c3e0f40001 (above 2^53), passwd 00..0f, readOnly true}: 45-byte body.
  const connectRequest = hex(`
    0000002d
    00000000 0000000100000005 00002710 72d1a5c3e0f40001
    00000010 000102030405060708090a0b0c0d0e0f
    01`)

  it("ConnectRequest", () => {
    const req = decodeConnectRequest(body(connectRequest))
    expect(req).toEqual({
      protocolVersion: 0,
      lastZxidSeen: 0x100000005n,
      timeOut: 10000,
      sessionId: 0x72d1a5c3e0f40001n,
      passwd: passwd0to15,
      readOnly: true,
      oldClient: false,
    })
    const { oldClient: _, ...fields } = req
    expect(toHex(encodeConnectRequest(fields))).toBe(toHex(connectRequest))
  })

  it("ConnectRequest from an old client without the readOnly byte", () => {
    const frame = encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 30000, sessionId: 0, passwd: new Uint8Array(16), readOnly: false }, { omitReadOnly: true })
    expect(toHex(frame)).toBe("0000002c" + "00000000" + "0000000000000000" + "00007530" + "0000000000000000" + "00000010" + "00".repeat(16))
    expect(decodeConnectRequest(body(frame))).toMatchObject({ timeOut: 30000, readOnly: false, oldClient: true })
  })

  it("ConnectResponse always carries readOnly", () => {
    // {protocolVersion 0, timeOut 4000, sessionId 0x100000a7b2c0000, passwd aa*16, readOnly false}
    const frame = encodeConnectResponse({ protocolVersion: 0, timeOut: 4000, sessionId: 0x100000a7b2c0000n, passwd: new Uint8Array(16).fill(0xaa), readOnly: false })
    expect(toHex(frame)).toBe(toHex(hex(`
      00000025
      00000000 00000fa0 0100000a7b2c0000
      00000010 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
      00`)))
    expect(decodeConnectResponse(body(frame))).toMatchObject({ timeOut: 4000, sessionId: 0x100000a7b2c0000n, readOnly: false })
  })

  it("create request", () => {
    // xid 1, create "/a" data "hi", acl [world:anyone, perms 31], flags 0
    const frame = hex(`
      00000033
      00000001 00000001
      00000002 2f61
      00000002 6869
      00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65
      00000000`)
    const req = decodeRequest(body(frame))
    expect(req).toEqual({
      type: Op.create,
      xid: 1,
      op: "create",
      header: { xid: 1, type: 1 },
      request: { path: "/a", data: ascii("hi"), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0 },
    })
    expect(toHex(encodeRequest(1, Op.create, req.request as ZkRequest["request"] as never))).toBe(toHex(frame))
  })

  // xid 2, multi [create "/m" "v" [] EPHEMERAL, check "/c" v3, delete "/d" v-1]
  const multiRequest = hex(`
    00000053
    00000002 0000000e
    00000001 00 ffffffff   00000002 2f6d 00000001 76 00000000 00000001
    0000000d 00 ffffffff   00000002 2f63 00000003
    00000002 00 ffffffff   00000002 2f64 ffffffff
    ffffffff 01 ffffffff`)
  const multiOps: MultiOp[] = [
    { type: Op.create, request: { path: "/m", data: ascii("v"), acl: [], flags: 1 } },
    { type: Op.check, request: { path: "/c", version: 3 } },
    { type: Op.delete, request: { path: "/d", version: -1 } },
  ]

  it("multi request: MultiHeader{type, false, -1} + op, ..., MultiHeader{-1, true, -1}", () => {
    const req = decodeRequest(body(multiRequest))
    expect(req.type).toBe(Op.multi)
    expect(req.request).toEqual({ ops: multiOps })
    expect(toHex(encodeRequest(2, Op.multi, { ops: multiOps }))).toBe(toHex(multiRequest))
  })

  it("multi request with createTTL (CreateTTLRequest) and a null setData buffer", () => {
    const frame = hex(`
      00000062
      00000004 0000000e
      00000015 00 ffffffff   00000002 2f74 00000000 00000001 0000001f 00000005 776f726c64 00000006 616e796f6e65 00000005 0000000000001388
      00000005 00 ffffffff   00000002 2f73 ffffffff 00000007
      ffffffff 01 ffffffff`)
    expect(decodeRequest(body(frame)).request).toEqual({
      ops: [
        { type: Op.createTTL, request: { path: "/t", data: new Uint8Array(0), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 5, ttl: 5000n } },
        { type: Op.setData, request: { path: "/s", data: null, version: 7 } },
      ],
    })
  })

  it("multiRead request", () => {
    const frame = hex(`
      00000031
      00000003 00000016
      00000008 00 ffffffff   00000002 2f70 00
      00000004 00 ffffffff   00000002 2f71 00
      ffffffff 01 ffffffff`)
    const req = decodeRequest(body(frame))
    expect(req.op).toBe("multiRead")
    expect(req.request).toEqual({
      ops: [
        { type: Op.getChildren, request: { path: "/p", watch: false } },
        { type: Op.getData, request: { path: "/q", watch: false } },
      ],
    })
  })

  it("multi response, all ops succeeded: per-op MultiHeader{type, false, 0} + result record", () => {
    const results: MultiResult[] = [{ type: Op.create, path: "/m" }, { type: Op.check }, { type: Op.delete }]
    const frame = encodeReply(2, 0x10, 0, "MultiResponse", { results })
    expect(toHex(frame)).toBe(toHex(hex(`
      0000003a
      00000002 0000000000000010 00000000
      00000001 00 00000000   00000002 2f6d
      0000000d 00 00000000
      00000002 00 00000000
      ffffffff 01 ffffffff`)))
    expect(decodeReply(body(frame), "MultiResponse").response).toEqual({ results })
  })

  it("multi response, failed: header err 0, every result an error (OK before, the code, RUNTIMEINCONSISTENCY after)", () => {
    const results: MultiResult[] = [
      { type: Op.error, err: 0 },
      { type: Op.error, err: -101 },
      { type: Op.error, err: -2 },
    ]
    const frame = encodeReply(2, 0x10, 0, "MultiResponse", { results })
    expect(toHex(frame)).toBe(toHex(hex(`
      00000040
      00000002 0000000000000010 00000000
      ffffffff 00 00000000   00000000
      ffffffff 00 ffffff9b   ffffff9b
      ffffffff 00 fffffffe   fffffffe
      ffffffff 01 ffffffff`)))
    expect(decodeReply(body(frame), "MultiResponse").response).toEqual({ results })
  })

  it("multiRead response: GetChildrenResponse, an error, GetDataResponse", () => {
    const stat = { czxid: 1n, mzxid: 2n, ctime: 3n, mtime: 4n, version: 5, cversion: 6, aversion: 7, ephemeralOwner: 0x1234n, dataLength: 8, numChildren: 9, pzxid: 10n }
    const results: MultiResult[] = [
      { type: Op.getChildren, children: ["a", "b"] },
      { type: Op.error, err: -101 },
      { type: Op.getData, data: ascii("x"), stat },
    ]
    const frame = encodeReply(3, 0x11, 0, "MultiResponse", { results })
    expect(toHex(frame)).toBe(toHex(hex(`
      0000008f
      00000003 0000000000000011 00000000
      00000008 00 00000000   00000002 00000001 61 00000001 62
      ffffffff 00 ffffff9b   ffffff9b
      00000004 00 00000000   00000001 78
        0000000000000001 0000000000000002 0000000000000003 0000000000000004
        00000005 00000006 00000007 0000000000001234 00000008 00000009 000000000000000a
      ffffffff 01 ffffffff`)))
    expect(decodeReply(body(frame), "MultiResponse").response).toEqual({ results })
  })

  it("watch notification: xid -1, zxid -1, err 0, WatcherEvent", () => {
    const frame = encodeNotification(3 /* NodeDataChanged */, 3 /* SyncConnected */, "/n")
    expect(toHex(frame)).toBe(toHex(hex(`
      0000001e
      ffffffff ffffffffffffffff 00000000
      00000003 00000003 00000002 2f6e`)))
    const { header, response } = decodeReply(body(frame), "WatcherEvent")
    expect(header).toEqual({ xid: Xid.notification, zxid: -1n, err: 0 })
    expect(response).toEqual({ type: 3, state: 3, path: "/n" })
    // 3.9 style: the zxid of the change; a state event with a null path.
    expect(toHex(encodeNotification(-1, 4, null, 0x20n))).toBe("0000001c" + "ffffffff" + "0000000000000020" + "00000000" + "ffffffff" + "00000004" + "ffffffff")
  })

  it("ping reply and an error reply have no body", () => {
    expect(toHex(encodeReply(Xid.ping, 5, 0))).toBe("00000010" + "fffffffe" + "0000000000000005" + "00000000")
    expect(toHex(encodeReply(7, 9n, -101))).toBe("00000010" + "00000007" + "0000000000000009" + "ffffff9b")
    expect(decodeReply(body(encodeReply(7, 9n, -101)), "GetDataResponse").response).toBeUndefined()
  })

  it("ping, closeSession and whoAmI requests are a bare header", () => {
    expect(toHex(encodeRequest(Xid.ping, Op.ping, null))).toBe("00000008" + "fffffffe" + "0000000b")
    expect(decodeRequest(hex("fffffffe 0000000b"))).toMatchObject({ xid: -2, type: Op.ping, request: null })
    expect(decodeRequest(hex("00000009 fffffff5"))).toMatchObject({ xid: 9, op: "closeSession", request: null })
    expect(decodeRequest(hex("0000000a 0000006b"))).toMatchObject({ op: "whoAmI", request: null })
  })

  it("deleteContainer carries the raw path bytes", () => {
    expect(decodeRequest(hex("00000001 00000014 2f782f79")).request).toEqual({ path: "/x/y" })
    expect(toHex(encodeRequest(1, Op.deleteContainer, { path: "/x/y" }))).toBe("0000000c" + "00000001" + "00000014" + "2f782f79")
  })
})

describe("the opcode table", () => {
  it("covers every client opcode once, with records that exist", () => {
    const types = OPS.map((o) => o.type)
    expect(new Set(types).size).toBe(types.length)
    const expected = Object.entries(Op).filter(([name]) => !["notification", "createSession", "error"].includes(name))
    expect(OPS.map((o) => [o.name, o.type]).sort()).toEqual(expected.sort())
    for (const o of OPS) {
      expect(opSpec(o.type)).toBe(o)
      const req: RequestKind = o.request
      if (req !== null && req !== "MultiOperationRecord" && req !== "RawPath") expect(RECORDS[req]).toBeDefined()
      const rsp: ResponseName | null = o.response
      if (rsp !== null && rsp !== "MultiResponse") expect(RECORDS[rsp]).toBeDefined()
    }
    expect(opSpec(Op.createSession)).toBeUndefined()
    expect(opSpec(12345)).toBeUndefined()
  })

  it("maps the opcodes the brief and ZooKeeper 3.9 define", () => {
    const pick = (n: string) => OPS.find((o) => o.name === n)!
    expect(pick("create")).toMatchObject({ request: "CreateRequest", response: "CreateResponse" })
    expect(pick("create2")).toMatchObject({ request: "CreateRequest", response: "Create2Response" })
    expect(pick("createTTL")).toMatchObject({ request: "CreateTTLRequest", response: "Create2Response" })
    expect(pick("getChildren2")).toMatchObject({ request: "GetChildren2Request", response: "GetChildren2Response" })
    expect(pick("sasl")).toMatchObject({ request: "GetSASLRequest", response: "SetSASLResponse" })
    expect(pick("addWatch")).toMatchObject({ request: "AddWatchRequest", response: "ErrorResponse" })
    expect(pick("setWatches2")).toMatchObject({ request: "SetWatches2", response: null })
    expect(pick("reconfig")).toMatchObject({ request: "ReconfigRequest", response: "GetDataResponse" })
  })
})

/** Arbitrary request payloads, by request kind. */
function payloadArbitrary(kind: RequestKind, type: number): fc.Arbitrary<unknown> {
  if (kind === null) return fc.constant(null)
  if (kind === "RawPath") return fc.record({ path: fc.string({ unit: "binary", maxLength: 20 }) })
  if (kind === "MultiOperationRecord") {
    const want = type === Op.multiRead ? "read" : "write"
    const op = fc
      .constantFrom(...MULTI_OPS.filter((o) => o.kind === want))
      .chain((spec) => recordArbitrary(spec.request).map((request) => ({ type: spec.type, request })))
    return fc.record({ ops: fc.array(op, { maxLength: 5 }) })
  }
  return recordArbitrary(kind)
}

const multiResultArbitrary: fc.Arbitrary<unknown> = fc
  .constantFrom(...MULTI_RESULTS)
  .chain((spec): fc.Arbitrary<unknown> =>
    spec.response === null ? fc.constant({ type: spec.type }) : recordArbitrary(spec.response).map((r) => ({ type: spec.type, ...r })),
  )

describe("round trips through the table", () => {
  for (const o of OPS) {
    it(`${o.name} (${o.type}) request`, () => {
      fc.assert(
        fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), payloadArbitrary(o.request, o.type), (xid, request) => {
          const frame = encodeRequest(xid, o.type, request as never)
          const req = decodeRequest(body(frame))
          expect(req).toEqual({ type: o.type, xid, op: o.name, header: { xid, type: o.type }, request })
        }),
        { numRuns: 40 },
      )
    })
  }

  const responses = [...new Set(OPS.map((o) => o.response).filter((r) => r !== null))]
  for (const name of responses) {
    it(`${name} reply`, () => {
      const value = name === "MultiResponse" ? fc.record({ results: fc.array(multiResultArbitrary, { maxLength: 5 }) }) : recordArbitrary(name)
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.bigInt({ min: 0n, max: 2n ** 63n - 1n }), value, (xid, zxid, v) => {
          const frame = encodeReply(xid, zxid, 0, name, v as never)
          expect(decodeReply(body(frame), name)).toEqual({ header: { xid, zxid, err: 0 }, response: v })
        }),
        { numRuns: 40 },
      )
    })
  }
})

describe("typed errors", () => {
  it("a body shorter than the RequestHeader: kind header, close the connection", () => {
    for (const b of [new Uint8Array(0), hex("00000001"), hex("00000001 000000")]) {
      const e = decodeError(() => decodeRequest(b))
      expect(e.kind).toBe("header")
      expect(e.replyErr).toBeUndefined()
    }
  })

  it("an unknown opcode: kind unknown-opcode with the xid, answer UNIMPLEMENTED", () => {
    const e = decodeError(() => decodeRequest(hex("0000002a 000003e7 0102")))
    expect(e).toMatchObject({ kind: "unknown-opcode", xid: 42, type: 999 })
    expect(e.replyErr).toBe(-6)
    expect(decodeError(() => decodeRequest(hex("00000001 fffffff6"))).kind).toBe("unknown-opcode") // createSession after the handshake
  })

  it("a truncated or malformed body: kind body, answer MARSHALLINGERROR (auth/sasl: close)", () => {
    const full = encodeRequest(5, Op.getData, { path: "/abc", watch: true })
    const e = decodeError(() => decodeRequest(full.subarray(4, full.length - 1)))
    expect(e).toMatchObject({ kind: "body", xid: 5, type: Op.getData })
    expect(e.replyErr).toBe(-5)
    expect(e.cause).toMatchObject({ kind: "truncated" })
    const auth = encodeRequest(Xid.auth, Op.auth, { type: 0, scheme: "digest", auth: ascii("u:p") })
    const a = decodeError(() => decodeRequest(auth.subarray(4, auth.length - 2)))
    expect(a.kind).toBe("body")
    expect(a.replyErr).toBeUndefined()
    // a string length of -2
    expect(decodeError(() => decodeRequest(hex("00000001 00000004 fffffffe 00"))).cause).toMatchObject({ kind: "bad-length" })
  })

  it("trailing bytes after a request are ignored, as in ZooKeeper", () => {
    const frame = encodeRequest(5, Op.exists, { path: "/", watch: false })
    const padded = new Uint8Array([...frame.subarray(4), 1, 2, 3])
    expect(decodeRequest(padded).request).toEqual({ path: "/", watch: false })
  })

  it("multi bodies: unknown op types, mixed kinds, and the wrong kind for the opcode are malformed", () => {
    const multi = (type: number, ops: string) => hex(`00000001 ${type.toString(16).padStart(8, "0")} ${ops} ffffffff 01 ffffffff`)
    const getData = "00000004 00 ffffffff 00000001 2f 00"
    const del = "00000002 00 ffffffff 00000001 2f ffffffff"
    expect(decodeError(() => decodeRequest(multi(Op.multi, "00000003 00 ffffffff 00000001 2f 00"))).cause).toMatchObject({ kind: "malformed" }) // exists
    expect(decodeError(() => decodeRequest(multi(Op.multi, `${del} ${getData}`))).kind).toBe("body") // mixed
    expect(decodeError(() => decodeRequest(multi(Op.multi, getData))).kind).toBe("body") // read op in multi
    expect(decodeError(() => decodeRequest(multi(Op.multiRead, del))).kind).toBe("body") // write op in multiRead
    expect(decodeRequest(multi(Op.multi, "")).request).toEqual({ ops: [] })
    expect(decodeError(() => decodeRequest(hex("00000001 0000000e 00000002 00"))).kind).toBe("body") // no terminator
    // the terminator's type and err are not looked at, only done
    expect(decodeMultiRequest(new JuteReader(hex("00000007 01 00000000")))).toEqual({ ops: [] })
  })

  it("a bad ConnectRequest: kind connect", () => {
    const frame = encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0, timeOut: 1, sessionId: 0, passwd: new Uint8Array(16), readOnly: false })
    const e = decodeError(() => decodeConnectRequest(frame.subarray(4, frame.length - 2)))
    expect(e.kind).toBe("connect")
    expect(e.replyErr).toBeUndefined()
    expect(decodeError(() => decodeConnectRequest(new Uint8Array(3))).kind).toBe("connect")
  })

  it("decodeRequest on arbitrary bytes throws only ZkDecodeError (property)", () => {
    const opcodes = [...OPS.map((o) => o.type), 0, 10, 23, 999, -1, -10]
    const arbitraryBody = fc.oneof(
      fc.uint8Array({ maxLength: 96 }),
      // a plausible header in front of garbage, to reach every body decoder
      fc.tuple(fc.integer(), fc.constantFrom(...opcodes), fc.uint8Array({ maxLength: 96 })).map(([xid, type, rest]) => {
        const w = new JuteWriter()
        w.int(xid).int(type).raw(rest)
        return w.finish()
      }),
    )
    fc.assert(
      fc.property(arbitraryBody, (b) => {
        try {
          decodeRequest(b)
        } catch (e) {
          expect(e).toBeInstanceOf(ZkDecodeError)
        }
      }),
      { numRuns: 3000 },
    )
  })

  it("mutated valid requests decode or fail with ZkDecodeError, quickly (property)", () => {
    const valid = fc
      .constantFrom(...OPS)
      .chain((o) => payloadArbitrary(o.request, o.type).map((p) => encodeRequest(1, o.type, p as never).subarray(4)))
    fc.assert(
      fc.property(valid, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (b, flips) => {
        const m = new Uint8Array(b)
        for (const [i, v] of flips) if (m.length > 0) m[i % m.length] = v
        const start = performance.now()
        try {
          decodeRequest(m)
        } catch (e) {
          expect(e).toBeInstanceOf(ZkDecodeError)
        }
        expect(performance.now() - start).toBeLessThan(200)
      }),
      { numRuns: 1000 },
    )
  })

  it("a huge declared vector count fails at once instead of allocating", () => {
    // getChildren2-style body would be a string; use setWatches: relativeZxid then a vector of 2^31-1 strings
    const e = decodeError(() => decodeRequest(hex("ffffffff 00000065 0000000000000000 7fffffff")))
    expect(e.cause).toMatchObject({ kind: "too-large" })
    const f = decodeError(() => decodeRequest(hex("ffffffff 00000065 0000000000000000 000fffff 00000000")))
    expect(f.cause).toMatchObject({ kind: "truncated" })
  })
})

describe("encoding misuse", () => {
  it("encodeReply with a record name but no value throws", () => {
    expect(() => encodeReply(1, 1, 0, "ExistsResponse")).toThrow(TypeError)
  })

  it("encodeReplyDynamic checks the record name and the value at run time", () => {
    expect(toHex(encodeReplyDynamic(1, 2, 0, "ExistsResponse", { stat: zeroStat }))).toBe(
      toHex(encodeReply(1, 2, 0, "ExistsResponse", { stat: zeroStat })),
    )
    expect(toHex(encodeReplyDynamic(1, 2, -101))).toBe(toHex(encodeReply(1, 2, -101)))
    expect(() => encodeReplyDynamic(1, 2, 0, "NoSuchResponse", {})).toThrow(/not a response record/)
    expect(() => encodeReplyDynamic(1, 2, 0, "ExistsResponse", { stat: null })).toThrow(/ExistsResponse\.stat/)
  })

  it("multi encoders refuse op and result types that cannot appear in a multi", () => {
    expect(() => encodeRequest(1, Op.multi, { ops: [{ type: Op.exists, request: { path: "/", watch: false } }] } as never)).toThrow(TypeError)
    expect(() => encodeMultiResponse({ results: [{ type: Op.exists } as never] }, new JuteWriter())).toThrow(TypeError)
  })

  it("record bytes match the frame bytes after the header", () => {
    const req = { path: "/p", watch: true }
    expect(toHex(encodeRequest(1, Op.getData, req).subarray(12))).toBe(toHex(recordToBytes("GetDataRequest", req)))
  })
})

describe("ZkRequest narrows on type (compile-time)", () => {
  it("gives each opcode its record", () => {
    const pathOf = (r: ZkRequest): string | null => {
      switch (r.type) {
        case Op.create:
        case Op.create2:
          return r.request.path
        case Op.multi:
          return r.request.ops[0]?.type === Op.setData ? r.request.ops[0].request.path : null
        case Op.deleteContainer:
          return r.request.path
        case Op.ping:
          return r.request
        default:
          return null
      }
    }
    expect(pathOf(decodeRequest(encodeRequest(1, Op.create2, { path: "/z", data: null, acl: null, flags: 0 }).subarray(4)))).toBe("/z")
  })
})
