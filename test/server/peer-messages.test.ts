import { Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { decodePeerMessage, encodePeerMessage, type PeerMessage } from "../../adapters/server/peer-messages.ts"
import { Message, type Sync, type Txn } from "../../core/consensus/types.ts"
import { MAX_EPOCH } from "../../core/consensus/zxid.ts"

// ---------------------------------------------------------------------------------------------
// Arbitraries: every value the consensus core can put on the wire

const epoch = fc.oneof(fc.integer({ min: 0, max: MAX_EPOCH - 1 }), fc.constantFrom(0, 1, MAX_EPOCH - 1))
const zxid = fc.oneof(
  fc.bigInt({ min: 0n, max: 2n ** 52n - 1n }).map(Number),
  fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 1000 })).map(([e, c]) => e * 2 ** 32 + c),
  fc.constantFrom(0, 1, 2 ** 32, 2 ** 52 - 1),
)
const nat = fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER))
const data = fc.uint8Array({ maxLength: 64 })
/** Strictly increasing zxids; the first is the `prev` the batch follows. */
const chain = (minLength: number) =>
  fc.uniqueArray(zxid, { minLength, maxLength: 7 }).chain((zs) => {
    const sorted = zs.sort((a, b) => a - b)
    return fc.tuple(fc.constant(sorted), fc.array(data, { minLength: sorted.length, maxLength: sorted.length }))
  })
const batch = chain(1).map(([zs, ds]) => ({ prev: zs[0]!, txns: zs.slice(1).map((z, i): Txn => ({ zxid: z, data: ds[i]! })) }))
const txns = chain(0).map(([zs, ds]) => zs.map((z, i): Txn => ({ zxid: z, data: ds[i]! })))

/** A batch following a compacted log's base (the base's zxid is the batch's prev). */
const based = fc.tuple(batch.filter((b) => b.prev >= 1), fc.integer({ min: 1, max: 2 ** 40 }), data).map(([b, index, d]) => ({
  snapshot: { index, zxid: b.prev, data: d },
  txns: b.txns,
}))

const sync: fc.Arbitrary<Sync> = fc.oneof(
  batch.map(({ prev, txns }): Sync => ({ _tag: "DIFF", prevZxid: prev, txns })),
  batch.map(({ prev, txns }): Sync => ({ _tag: "TRUNC", truncZxid: prev, txns })),
  txns.map((txns): Sync => ({ _tag: "SNAP", txns })),
  based.map(({ snapshot, txns }): Sync => ({ _tag: "SNAP", snapshot, txns })),
)

const message: fc.Arbitrary<Message> = fc.oneof(
  fc
    .record({
      round: nat,
      vote: fc.record({ id: nat, epoch, zxid }),
      state: fc.constantFrom("looking", "following", "leading", "observing" as const),
    })
    .map((m): Message => ({ _tag: "Vote", ...m })),
  fc.record({ acceptedEpoch: epoch, lastZxid: zxid, observer: fc.boolean() }).map((m): Message => ({ _tag: "FollowerInfo", ...m })),
  epoch.map((e): Message => ({ _tag: "LeaderInfo", epoch: e })),
  fc.record({ epoch, currentEpoch: epoch, lastZxid: zxid }).map((m): Message => ({ _tag: "AckEpoch", ...m })),
  fc.record({ epoch, sync, leaderLastZxid: zxid }).map((m): Message => ({ _tag: "NewLeader", ...m })),
  fc.record({ epoch, zxid }).map((m): Message => ({ _tag: "Ack", ...m })),
  fc.tuple(epoch, batch).map(([e, b]): Message => ({ _tag: "Proposal", epoch: e, prevZxid: b.prev, txns: b.txns })),
  fc.record({ epoch, zxid }).map((m): Message => ({ _tag: "Commit", ...m })),
  fc.record({ epoch, commitZxid: zxid }).map((m): Message => ({ _tag: "Ping", ...m })),
  fc
    .tuple(epoch, batch, zxid)
    .map(([e, b, c]): Message => ({ _tag: "Inform", epoch: e, prevZxid: b.prev, txns: b.txns, commitZxid: c })),
  fc
    .tuple(epoch, based, zxid)
    .map(([e, b, c]): Message => ({ _tag: "Inform", epoch: e, prevZxid: b.snapshot.zxid, txns: b.txns, commitZxid: c, snapshot: b.snapshot })),
)

const peerMessage: fc.Arbitrary<PeerMessage> = fc.oneof(
  { arbitrary: message.map((m): PeerMessage => ({ _tag: "Zab", message: m })), weight: 10 },
  data.map((txn): PeerMessage => ({ _tag: "Forward", txn })),
  fc
    .array(fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.constantFrom(0n, 2n ** 63n, 2n ** 64n - 1n)), { maxLength: 8 })
    .map((sessions): PeerMessage => ({ _tag: "Touch", sessions })),
)

const isMessage = Schema.is(Message)

/** Decodes bytes that must be refused; fails the test if decoding throws or accepts them. */
function refused(bytes: Uint8Array): Error {
  let r: PeerMessage | Error
  expect(() => (r = decodePeerMessage(bytes))).not.toThrow()
  expect(r!).toBeInstanceOf(Error)
  return r! as Error
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ""), "hex")

// ---------------------------------------------------------------------------------------------

describe("peer message codec", () => {
  it("round-trips every message, and what it decodes is a valid consensus Message", () => {
    fc.assert(
      fc.property(peerMessage, (m) => {
        const d = decodePeerMessage(encodePeerMessage(m))
        expect(d).not.toBeInstanceOf(Error)
        expect(d).toEqual(m)
        if (!(d instanceof Error) && d._tag === "Zab") expect(isMessage(d.message)).toBe(true)
      }),
      { numRuns: 2000 },
    )
  })

  it("decodes from any offset of a larger buffer (frames are subarrays of socket chunks)", () => {
    fc.assert(
      fc.property(peerMessage, fc.uint8Array({ maxLength: 9 }), fc.uint8Array({ maxLength: 9 }), (m, before, after) => {
        const frame = encodePeerMessage(m)
        const chunk = Buffer.concat([before, frame, after])
        const d = decodePeerMessage(chunk.subarray(before.length, before.length + frame.length))
        expect(d).toEqual(m)
        // Decoded bytes are copies: reusing the chunk must not change the message.
        chunk.fill(0xee)
        expect(d).toEqual(m)
      }),
      { numRuns: 300 },
    )
  })

  it("refuses every strict prefix and any trailing bytes", () => {
    fc.assert(
      fc.property(peerMessage, fc.uint8Array({ minLength: 1, maxLength: 4 }), (m, extra) => {
        const b = encodePeerMessage(m)
        for (let n = 0; n < b.length; n++) refused(b.subarray(0, n))
        refused(Buffer.concat([b, extra]))
      }),
      { numRuns: 300 },
    )
  })

  it("never throws on garbage; whatever it accepts is valid and re-encodes to the same bytes", () => {
    const check = (bytes: Uint8Array): void => {
      let d: PeerMessage | Error
      expect(() => (d = decodePeerMessage(bytes))).not.toThrow()
      if (d! instanceof Error) return
      if (d!._tag === "Zab") expect(isMessage(d!.message)).toBe(true)
      expect(encodePeerMessage(d!).equals(Buffer.from(bytes))).toBe(true)
    }
    // Random bytes with a plausible kind byte first, so the fields are reached.
    fc.assert(
      fc.property(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 63, 64, 65, 66, 0x7b, 255), fc.uint8Array({ maxLength: 80 }), (kind, rest) =>
        check(Buffer.concat([Buffer.of(kind), rest])),
      ),
      { numRuns: 3000 },
    )
    // Valid frames with a few bytes overwritten.
    fc.assert(
      fc.property(
        peerMessage,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (m, edits) => {
          const b = Buffer.from(encodePeerMessage(m))
          for (const [i, v] of edits) b[i % b.length] = v
          check(b)
        },
      ),
      { numRuns: 3000 },
    )
  })

  it("refuses absurd counts and lengths without allocating them", () => {
    refused(hex("07 00000001 00000000 00000000 ffffffff")) // Proposal claiming 2^32-1 transactions
    refused(hex("40 ffffffff 00")) // Forward claiming 4 GiB
    refused(hex("41 20000000 00000000 00000000")) // Touch claiming 2^29 sessions
    refused(hex("05 00000001 03 00 7fffffff")) // NewLeader SNAP claiming 2^31-1 transactions
    refused(hex("05 00000001 03 01 00000000 00000001 00000000 00000001 ffffffff")) // a snapshot claiming 4 GiB
    // A count its bytes cannot hold is refused before any element is read (each takes >= 12 bytes).
    expect(refused(Buffer.concat([hex("07 00000001 00000000 00000000 00000064"), Buffer.alloc(100)])).message).toMatch(/count 100/)
  })

  it("refuses numbers and literals outside what the core relies on", () => {
    const ok = (b: Buffer): void => expect(decodePeerMessage(b)).not.toBeInstanceOf(Error)
    ok(hex("03 000fffff")) // LeaderInfo, epoch 2^20 - 1
    refused(hex("03 00100000")) // epoch 2^20: the core could not make a zxid of it
    ok(hex("06 00000001 000fffff ffffffff")) // Ack, zxid 2^52 - 1
    refused(hex("06 00000001 00100000 00000000")) // zxid 2^52
    ok(hex("01 001fffff ffffffff  00000000 00000000  00000000  00000000 00000000  00")) // Vote, round 2^53 - 1
    refused(hex("01 00200000 00000000  00000000 00000000  00000000  00000000 00000000  00")) // round 2^53
    ok(hex("01 00000000 00000000  00000000 00000000  00000000  00000000 00000000  03")) // role "observing"
    refused(hex("01 00000000 00000000  00000000 00000000  00000000  00000000 00000000  04")) // role index 4
    refused(hex("02 00000001 00000000 00000005 02")) // FollowerInfo, observer byte 2
    refused(hex("05 00000001 04 00000000")) // unknown sync kind
    refused(hex("00")) // unknown kinds
    refused(hex("0b"))
    refused(hex("42"))
    refused(hex("7b 7d")) // a JSON frame of the old codec
    refused(new Uint8Array(0))
  })

  it("refuses transaction batches out of the order the core's log asserts", () => {
    const txn = (z: number) => `00000000 ${z.toString(16).padStart(8, "0")} 00000001 aa`
    const proposal = (prev: number, ...zs: number[]) => hex(`07 00000001 00000000 ${prev.toString(16).padStart(8, "0")} ${zs.length.toString(16).padStart(8, "0")} ${zs.map(txn).join(" ")}`)
    expect(decodePeerMessage(proposal(4, 5, 6))).toEqual({
      _tag: "Zab",
      message: { _tag: "Proposal", epoch: 1, prevZxid: 4, txns: [{ zxid: 5, data: Uint8Array.of(0xaa) }, { zxid: 6, data: Uint8Array.of(0xaa) }] },
    })
    refused(proposal(4, 6, 5)) // decreasing
    refused(proposal(4, 5, 5)) // repeated
    refused(proposal(5, 5, 6)) // does not follow prevZxid
    refused(proposal(9, 5, 6))
    const diff = (prev: number, ...zs: number[]) => hex(`05 00000001 01 00000000 ${prev.toString(16).padStart(8, "0")} ${zs.length.toString(16).padStart(8, "0")} ${zs.map(txn).join(" ")} 00000000 00000009`)
    expect(decodePeerMessage(diff(2, 3))).not.toBeInstanceOf(Error)
    refused(diff(3, 3))
    const snap = (...zs: number[]) => hex(`05 00000001 03 00 ${zs.length.toString(16).padStart(8, "0")} ${zs.map(txn).join(" ")} 00000000 00000009`)
    expect(decodePeerMessage(snap(1, 2))).not.toBeInstanceOf(Error)
    refused(snap(2, 1))
    // With a snapshot (index 3, zxid `base`, one data byte) the batch must follow the snapshot.
    const based = (base: number, ...zs: number[]) =>
      hex(`05 00000001 03 01 00000000 00000003 00000000 ${base.toString(16).padStart(8, "0")} 00000001 bb ${zs.length.toString(16).padStart(8, "0")} ${zs.map(txn).join(" ")} 00000000 00000009`)
    expect(decodePeerMessage(based(4, 5, 6))).toMatchObject({ message: { sync: { _tag: "SNAP", snapshot: { index: 3, zxid: 4 } } } })
    refused(based(5, 5, 6))
    refused(based(0)) // a snapshot of nothing
    refused(hex("05 00000001 03 02 00000000")) // presence byte 2
    const inform = (prev: number, base: number) =>
      hex(`0a 00000001 00000000 ${prev.toString(16).padStart(8, "0")} 00000001 ${txn(9)} 00000000 00000009 01 00000000 00000003 00000000 ${base.toString(16).padStart(8, "0")} 00000000`)
    expect(decodePeerMessage(inform(4, 4))).not.toBeInstanceOf(Error)
    refused(inform(4, 3)) // the snapshot must be what the batch follows
  })

  it("encoding refuses numbers the wire cannot carry", () => {
    const zab = (message: Message): PeerMessage => ({ _tag: "Zab", message })
    expect(() => encodePeerMessage(zab({ _tag: "LeaderInfo", epoch: -1 }))).toThrow(RangeError)
    expect(() => encodePeerMessage(zab({ _tag: "LeaderInfo", epoch: 1.5 }))).toThrow(RangeError)
    expect(() => encodePeerMessage(zab({ _tag: "LeaderInfo", epoch: MAX_EPOCH }))).toThrow(RangeError)
    expect(() => encodePeerMessage(zab({ _tag: "Ack", epoch: 1, zxid: 2 ** 52 }))).toThrow(RangeError)
    expect(() => encodePeerMessage(zab({ _tag: "Ack", epoch: 1, zxid: NaN }))).toThrow(RangeError)
    expect(() => encodePeerMessage(zab({ _tag: "Vote", round: -1, vote: { id: 1, epoch: 1, zxid: 1 }, state: "looking" }))).toThrow(RangeError)
    expect(() => encodePeerMessage({ _tag: "Touch", sessions: [-1n] })).toThrow(RangeError)
    expect(() => encodePeerMessage({ _tag: "Touch", sessions: [2n ** 64n] })).toThrow(RangeError)
  })

  it("is compact: a one-transaction proposal costs 29 bytes over its data", () => {
    const data = new Uint8Array(100)
    const b = encodePeerMessage({ _tag: "Zab", message: { _tag: "Proposal", epoch: 3, prevZxid: 3 * 2 ** 32 + 7, txns: [{ zxid: 3 * 2 ** 32 + 8, data }] } })
    expect(b.length).toBe(1 + 4 + 8 + 4 + 8 + 4 + 100)
    expect(encodePeerMessage({ _tag: "Zab", message: { _tag: "Ack", epoch: 3, zxid: 3 * 2 ** 32 + 8 } }).length).toBe(13)
  })
})
