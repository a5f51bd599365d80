/**
 * The table-driven record codec: every generated record round-trips (fast-check values per field
 * type, nulls included), encodes to the size the jute rules predict, rejects wrong shapes with a
 * TypeError naming the field, and rejects every truncation of its encoding with a JuteError.
 * Also: the committed generated file matches the generator's output for the reference IDL.
 */
import { existsSync, readFileSync } from "node:fs"
import path from "node:path"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { JuteError, JuteReader, JuteWriter } from "../../adapters/tcp/zookeeper/jute.ts"
import {
  RECORDS,
  decodeRecord,
  decodeRecordOptionalTail,
  encodeRecord,
  minEncodedSize,
  recordFromBytes,
  recordToBytes,
  type RecordName,
} from "../../adapters/tcp/zookeeper/records.ts"
import { GENERATED_FILE, JUTE_SOURCE, MODULES, REPO_ROOT, generate, parseJute } from "../../scripts/gen-jute.ts"
import { recordArbitrary, encodedSize } from "./arbitraries.ts"
import { toHex } from "./hex.ts"

const names = Object.keys(RECORDS) as RecordName[]

describe("generated tables", () => {
  it("cover the data, proto and txn modules", () => {
    const modules = new Set(names.map((n) => RECORDS[n].module))
    expect([...modules].sort()).toEqual([...MODULES].sort())
    for (const n of ["Stat", "ACL", "Id", "ConnectRequest", "ConnectResponse", "RequestHeader", "ReplyHeader", "MultiHeader", "CreateRequest", "WatcherEvent", "TxnHeader", "MultiTxn"]) {
      expect(names).toContain(n)
    }
    expect(RECORDS.Stat.fields.map((f) => f.name)).toEqual([
      "czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion", "ephemeralOwner", "dataLength", "numChildren", "pzxid",
    ])
    expect(RECORDS.CreateRequest.fields).toEqual([
      { name: "path", type: "ustring" },
      { name: "data", type: "buffer" },
      { name: "acl", type: { vector: { record: "ACL" } } },
      { name: "flags", type: "int" },
    ])
    expect(minEncodedSize({ record: "Stat" })).toBe(68)
  })

  const source = path.resolve(REPO_ROOT, JUTE_SOURCE)
  it.skipIf(!existsSync(source))("are up to date with the reference IDL (npx tsx scripts/gen-jute.ts)", () => {
    const text = generate(readFileSync(source, "utf8"), JUTE_SOURCE)
    expect(readFileSync(path.resolve(REPO_ROOT, GENERATED_FILE), "utf8")).toBe(text)
  })

  it("the generator's parser handles comments, qualified and unqualified references, and refuses unknown types", () => {
    const classes = parseJute(`
      module a.b { /* block */ class X { int i; // line
        vector<vector<ustring>>vv; } class Y { X x; a.b.X y; vector<a.b.X> xs; } }`)
    expect(classes.map((c) => c.name)).toEqual(["X", "Y"])
    expect(classes[0]!.fields[1]).toEqual({ name: "vv", type: { vector: { vector: "ustring" } } })
    expect(classes[1]!.fields.map((f) => f.type)).toEqual([{ record: "X" }, { record: "X" }, { vector: { record: "X" } }])
    expect(() => parseJute("module m { class Z { float f; } }")).toThrow(/not supported/)
    expect(() => parseJute("module m { class Z { Q q; } }")).toThrow(/unknown record/)
    expect(() => parseJute("module m { class Z { int i } }")).toThrow(/expected ";"/)
  })
})

describe("encodeRecord / decodeRecord", () => {
  for (const name of names) {
    it(`${name} round-trips`, () => {
      fc.assert(
        fc.property(recordArbitrary(name), (value) => {
          const w = new JuteWriter(8)
          encodeRecord(name, value as never, w)
          const bytes = w.finish()
          expect(bytes.length).toBe(encodedSize({ record: name }, value))
          const r = new JuteReader(bytes)
          expect(decodeRecord(name, r)).toEqual(value)
          expect(r.remaining).toBe(0)
        }),
        { numRuns: 60 },
      )
    })
  }

  it("every strict prefix of an encoding is refused with JuteError (truncated)", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...names).chain((n) => fc.tuple(fc.constant(n), recordArbitrary(n))),
        fc.nat(),
        ([name, value], cut) => {
          const bytes = recordToBytes(name, value as never)
          const prefix = bytes.subarray(0, cut % bytes.length)
          let err: unknown
          try {
            recordFromBytes(name, prefix)
          } catch (e) {
            err = e
          }
          expect(err).toBeInstanceOf(JuteError)
          expect((err as JuteError).kind).toBe("truncated")
        },
      ),
    )
  })

  it("decodes arbitrary bytes as any record without throwing anything but JuteError", () => {
    fc.assert(
      fc.property(fc.constantFrom(...names), fc.uint8Array({ maxLength: 128 }), (name, bytes) => {
        try {
          recordFromBytes(name, bytes)
        } catch (e) {
          expect(e).toBeInstanceOf(JuteError)
        }
      }),
    )
  })

  it("accepts numbers for longs when encoding", () => {
    const stat = { czxid: 1, mzxid: 2n, ctime: 1_700_000_000_000, mtime: 0, version: 1, cversion: 2, aversion: 3, ephemeralOwner: 0x1234_5678_9abc_def0n, dataLength: 4, numChildren: 5, pzxid: 6 }
    const bytes = recordToBytes("Stat", stat)
    expect(toHex(bytes)).toBe(
      "0000000000000001" + "0000000000000002" + "0000018bcfe56800" + "0000000000000000" + "00000001" + "00000002" + "00000003" + "123456789abcdef0" + "00000004" + "00000005" + "0000000000000006",
    )
    expect(recordFromBytes("Stat", bytes)).toMatchObject({ czxid: 1n, ctime: 1_700_000_000_000n, ephemeralOwner: 0x1234_5678_9abc_def0n })
  })

  it("rejects values of the wrong shape with a TypeError naming the field", () => {
    const w = new JuteWriter()
    const bad = (name: RecordName, v: unknown): void => encodeRecord(name, v as never, w)
    expect(() => bad("Id", { scheme: "world" })).toThrow(/Id\.id: missing/)
    expect(() => bad("Id", { scheme: 1, id: "x" })).toThrow(/Id\.scheme: expected ustring/)
    expect(() => bad("ACL", { perms: 1, id: null })).toThrow(/ACL\.id: expected record Id/)
    expect(() => bad("GetChildrenResponse", { children: "a" })).toThrow(/GetChildrenResponse\.children: expected vector/)
    expect(() => bad("GetChildrenResponse", { children: ["a", 2] })).toThrow(/GetChildrenResponse\.children: expected ustring/)
    expect(() => bad("GetDataResponse", { data: [1, 2], stat: {} })).toThrow(/GetDataResponse\.data: expected buffer/)
    expect(() => bad("ExistsRequest", { path: "/", watch: 1 })).toThrow(/ExistsRequest\.watch: expected boolean/)
    expect(() => bad("ReplyHeader", { xid: 1, zxid: "1", err: 0 })).toThrow(/ReplyHeader\.zxid: expected long/)
    expect(() => bad("ReplyHeader", { xid: 2 ** 40, zxid: 1, err: 0 })).toThrow(RangeError)
    expect(() => bad("ReplyHeader", null)).toThrow(TypeError)
  })

  it("decodeRecordOptionalTail leaves out trailing fields the input does not have", () => {
    const full = recordToBytes("ConnectResponse", { protocolVersion: 0, timeOut: 1, sessionId: 2n, passwd: new Uint8Array(2), readOnly: true })
    expect(decodeRecordOptionalTail("ConnectResponse", new JuteReader(full), 1)).toMatchObject({ readOnly: true })
    const short = decodeRecordOptionalTail("ConnectResponse", new JuteReader(full.subarray(0, full.length - 1)), 1)
    expect(short).toEqual({ protocolVersion: 0, timeOut: 1, sessionId: 2n, passwd: new Uint8Array(2) })
    expect(() => decodeRecordOptionalTail("ConnectResponse", new JuteReader(full.subarray(0, full.length - 2)), 1)).toThrow(JuteError)
  })
})
