/**
 * What servers say to each other: consensus messages, plus the two things ZooKeeper's learners
 * also tell their leader — client writes to propose, and which client sessions are alive.
 *
 * A compact binary codec, driven by one table per union below. Every frame is a kind byte and
 * the variant's fields in table order, fixed width, big-endian:
 *
 *   frame    := kind:u8 field*           kinds 1..10 are consensus messages (`Zab`), 64 Forward, 65 Touch
 *   epoch    := u32                      below MAX_EPOCH (2^20), as the core's zxids require
 *   zxid     := hi:u32 lo:u32            hi*2^32 + lo, hi below MAX_EPOCH (so below 2^52)
 *   nat      := hi:u32 lo:u32            a non-negative safe integer (hi below 2^21)
 *   bool     := u8                       0 or 1
 *   role     := u8                       index into Role's literals
 *   bytes    := length:u32 byte*
 *   txns     := count:u32 { zxid bytes }*   zxids strictly increasing
 *   sync     := kind:u8 field*           1 DIFF, 2 TRUNC, 3 SNAP
 *   snapshot := index:nat zxid bytes     a compacted log's base (SNAP, Inform)
 *   opt(x)   := 0:u8 | 1:u8 x            an optional field
 *   sessions := count:u32 u64*
 *
 * Decoding treats the bytes as hostile: every count and length is checked against the bytes
 * actually left before anything is allocated, every number against the range the consensus core
 * relies on, trailing bytes are refused, and transaction batches must be in the zxid order the
 * core's log asserts (strictly increasing, and after the `prevZxid`/`truncZxid` they follow). A
 * bad frame becomes an `Error` that the node logs and drops (the core tolerates lost messages);
 * nothing throws out of `decodePeerMessage`. The encoding is canonical: whatever decodes
 * re-encodes to the same bytes. Encoding throws a `RangeError` on a number the wire cannot carry
 * (a bug in the caller, like the Schema encoder this codec replaced).
 */
import { Role, type Message, type Snapshot, type Sync, type Txn, type Vote } from "../../core/consensus/types.ts"
import { MAX_EPOCH } from "../../core/consensus/zxid.ts"

export type PeerMessage =
  | { readonly _tag: "Zab"; readonly message: Message }
  /** A learner forwards a client's write (an encoded `CoordTxn`) for the leader to propose. */
  | { readonly _tag: "Forward"; readonly txn: Uint8Array }
  /** A learner's clients that were heard from since its last report (ZooKeeper's session touches in PING). */
  | { readonly _tag: "Touch"; readonly sessions: readonly bigint[] }

/** Why a frame was refused. */
export class PeerFrameError extends Error {
  override readonly name = "PeerFrameError"
}

export function encodePeerMessage(m: PeerMessage): Buffer {
  return m._tag === "Zab" ? encodeWith(zabCodec, m.message) : encodeWith(peerCodec, m)
}

export function decodePeerMessage(bytes: Uint8Array): PeerMessage | Error {
  try {
    const r = new Input(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    if (r.left === 0) return new PeerFrameError("empty peer frame")
    const m: PeerMessage = bytes[0]! < FIRST_PEER_KIND ? { _tag: "Zab", message: zabCodec.read(r) } : peerCodec.read(r)
    if (r.left !== 0) return new PeerFrameError(`${r.left} trailing bytes after a ${tagOf(m)} frame`)
    return m
  } catch (e) {
    return e instanceof PeerFrameError ? e : new PeerFrameError(`undecodable peer frame: ${String(e)}`)
  }
}

const tagOf = (m: PeerMessage): string => (m._tag === "Zab" ? m.message._tag : m._tag)

// ---------------------------------------------------------------------------------------------
// Field codecs

const TWO_32 = 2 ** 32

class Input {
  at = 0
  constructor(readonly buf: Buffer) {}

  get left(): number {
    return this.buf.length - this.at
  }

  need(n: number, what: string): void {
    if (this.buf.length - this.at < n) throw new PeerFrameError(`peer frame truncated in ${what} at byte ${this.at}`)
  }

  u8(what: string): number {
    this.need(1, what)
    return this.buf[this.at++]!
  }

  u32(what: string): number {
    this.need(4, what)
    const v = this.buf.readUInt32BE(this.at)
    this.at += 4
    return v
  }

  /** An element count where each element takes at least `minBytes`: bounded by what is left. */
  count(minBytes: number, what: string): number {
    const n = this.u32(what)
    if (n > this.left / minBytes) throw new PeerFrameError(`${what}: count ${n} exceeds the ${this.left} bytes left`)
    return n
  }
}

interface Field<T> {
  readonly size: (v: T) => number
  /** Writes `v` at `at`; returns the offset after it. */
  readonly write: (b: Buffer, at: number, v: T) => number
  readonly read: (r: Input) => T
}

const bad = (what: string, v: unknown): RangeError => new RangeError(`peer message: ${what} out of range: ${String(v)}`)

const epoch: Field<number> = {
  size: () => 4,
  write: (b, at, v) => {
    if (!(Number.isInteger(v) && v >= 0 && v < MAX_EPOCH)) throw bad("epoch", v)
    b.writeUInt32BE(v, at)
    return at + 4
  },
  read: (r) => {
    const v = r.u32("epoch")
    if (v >= MAX_EPOCH) throw new PeerFrameError(`epoch ${v} is not below ${MAX_EPOCH}`)
    return v
  },
}

/** A non-negative integer below `hiLimit * 2^32`, as two u32s. */
function wide(what: string, hiLimit: number): Field<number> {
  const limit = hiLimit * TWO_32
  return {
    size: () => 8,
    write: (b, at, v) => {
      if (!(Number.isInteger(v) && v >= 0 && v < limit)) throw bad(what, v)
      const hi = Math.floor(v / TWO_32)
      b.writeUInt32BE(hi, at)
      b.writeUInt32BE(v - hi * TWO_32, at + 4)
      return at + 8
    },
    read: (r) => {
      const hi = r.u32(what)
      const lo = r.u32(what)
      if (hi >= hiLimit) throw new PeerFrameError(`${what} ${hi} * 2^32 + ${lo} is out of range`)
      return hi * TWO_32 + lo
    },
  }
}

/** Zxids are epoch * 2^32 + counter with the epoch below MAX_EPOCH (see core/consensus/zxid.ts). */
const zxid = wide("zxid", MAX_EPOCH)
/** Any non-negative safe integer (election rounds, vote ids; 0 is an observer's non-vote). */
const nat = wide("number", 2 ** 21)

const bool: Field<boolean> = {
  size: () => 1,
  write: (b, at, v) => {
    b[at] = v ? 1 : 0
    return at + 1
  },
  read: (r) => {
    const v = r.u8("boolean")
    if (v > 1) throw new PeerFrameError(`boolean byte ${v}`)
    return v === 1
  },
}

function literal<L extends string>(what: string, values: readonly L[]): Field<L> {
  return {
    size: () => 1,
    write: (b, at, v) => {
      const i = values.indexOf(v)
      if (i < 0) throw bad(what, v)
      b[at] = i
      return at + 1
    },
    read: (r) => {
      const i = r.u8(what)
      if (i >= values.length) throw new PeerFrameError(`${what} index ${i} is not one of ${values.join(", ")}`)
      return values[i]!
    },
  }
}

const bytes: Field<Uint8Array> = {
  size: (v) => 4 + v.length,
  write: (b, at, v) => {
    b.writeUInt32BE(v.length, at)
    b.set(v, at + 4)
    return at + 4 + v.length
  },
  read: (r) => {
    const n = r.u32("byte length")
    r.need(n, "bytes")
    // A copy: a log entry must not pin the socket chunk it arrived in.
    const out = new Uint8Array(n)
    out.set(r.buf.subarray(r.at, r.at + n))
    r.at += n
    return out
  },
}

/** A batch of transactions, zxids strictly increasing (the core's log asserts that order). */
const txns: Field<readonly Txn[]> = {
  size: (v) => {
    let n = 4
    for (const t of v) n += 12 + t.data.length
    return n
  },
  write: (b, at, v) => {
    b.writeUInt32BE(v.length, at)
    at += 4
    for (const t of v) at = bytes.write(b, zxid.write(b, at, t.zxid), t.data)
    return at
  },
  read: (r) => {
    const n = r.count(12, "transactions")
    const out: Txn[] = new Array(n)
    let prev = -1
    for (let i = 0; i < n; i++) {
      const z = zxid.read(r)
      if (z <= prev) throw new PeerFrameError(`transaction zxids out of order: ${z} after ${prev}`)
      out[i] = { zxid: z, data: bytes.read(r) }
      prev = z
    }
    return out
  },
}

/** Absent: a 0 byte (and no key in the decoded object); present: a 1 byte, then the value. */
function optional<T>(f: Field<T>): Field<T | undefined> {
  return {
    size: (v) => (v === undefined ? 1 : 1 + f.size(v)),
    write: (b, at, v) => {
      if (v === undefined) {
        b[at] = 0
        return at + 1
      }
      b[at] = 1
      return f.write(b, at + 1, v)
    },
    read: (r) => {
      const flag = r.u8("presence flag")
      if (flag > 1) throw new PeerFrameError(`presence byte ${flag}`)
      return flag === 1 ? f.read(r) : undefined
    },
  }
}

const u64Limit = 1n << 64n
const sessions: Field<readonly bigint[]> = {
  size: (v) => 4 + 8 * v.length,
  write: (b, at, v) => {
    b.writeUInt32BE(v.length, at)
    at += 4
    for (const s of v) {
      if (!(s >= 0n && s < u64Limit)) throw bad("session id", s)
      b.writeBigUInt64BE(s, at)
      at += 8
    }
    return at
  },
  read: (r) => {
    const n = r.count(8, "sessions")
    const out: bigint[] = new Array(n)
    for (let i = 0; i < n; i++) {
      out[i] = r.buf.readBigUInt64BE(r.at)
      r.at += 8
    }
    return out
  },
}

// ---------------------------------------------------------------------------------------------
// Structs and tagged unions, from tables

type Fields<T> = { readonly [K in Exclude<keyof T, "_tag">]-?: Field<T[K]> }

function struct<T extends object>(fields: Fields<T>): Field<T> {
  const entries = Object.entries(fields) as [string, Field<unknown>][]
  return {
    size: (v) => {
      let n = 0
      for (const [k, f] of entries) n += f.size((v as Record<string, unknown>)[k])
      return n
    },
    write: (b, at, v) => {
      for (const [k, f] of entries) at = f.write(b, at, (v as Record<string, unknown>)[k])
      return at
    },
    read: (r) => {
      const o: Record<string, unknown> = {}
      for (const [k, f] of entries) {
        const v = f.read(r)
        if (v !== undefined) o[k] = v
      }
      return o as T
    },
  }
}

type Variants<T extends { readonly _tag: string }> = {
  readonly [K in T["_tag"]]: {
    readonly kind: number
    readonly fields: Fields<Extract<T, { readonly _tag: K }>>
    /** A constraint across fields; returns why the value is refused. */
    readonly check?: (v: Extract<T, { readonly _tag: K }>) => string | undefined
  }
}

interface Compiled {
  readonly tag: string
  readonly kind: number
  readonly entries: readonly (readonly [string, Field<unknown>])[]
  readonly check: ((v: never) => string | undefined) | undefined
}

/** A kind byte, then the variant's fields in table order. */
function union<T extends { readonly _tag: string }>(what: string, variants: Variants<T>): Field<T> {
  const byTag = new Map<string, Compiled>()
  const byKind: (Compiled | undefined)[] = new Array(256).fill(undefined)
  for (const [tag, v] of Object.entries(variants) as [string, Variants<T>[T["_tag"]]][]) {
    if (byKind[v.kind] !== undefined || v.kind < 0 || v.kind > 255) throw new Error(`${what}: kind ${v.kind} of ${tag} is taken or not a byte`)
    const c: Compiled = { tag, kind: v.kind, entries: Object.entries(v.fields) as [string, Field<unknown>][], check: v.check as Compiled["check"] }
    byTag.set(tag, c)
    byKind[v.kind] = c
  }
  const variantOf = (v: T): Compiled => {
    const c = byTag.get(v._tag)
    if (c === undefined) throw bad(`${what} tag`, v._tag)
    return c
  }
  return {
    size: (v) => {
      let n = 1
      for (const [k, f] of variantOf(v).entries) n += f.size((v as Record<string, unknown>)[k])
      return n
    },
    write: (b, at, v) => {
      const c = variantOf(v)
      b[at++] = c.kind
      for (const [k, f] of c.entries) at = f.write(b, at, (v as Record<string, unknown>)[k])
      return at
    },
    read: (r) => {
      const kind = r.u8(what)
      const c = byKind[kind]
      if (c === undefined) throw new PeerFrameError(`unknown ${what} kind ${kind}`)
      const o: Record<string, unknown> = { _tag: c.tag }
      for (const [k, f] of c.entries) {
        const v = f.read(r)
        if (v !== undefined) o[k] = v
      }
      const why = c.check?.(o as never)
      if (why !== undefined) throw new PeerFrameError(`${c.tag}: ${why}`)
      return o as T
    },
  }
}

/** Batches the core appends after `prev` must start above it (the log asserts so). */
const follows = (prev: number, ts: readonly Txn[]): string | undefined =>
  ts.length > 0 && ts[0]!.zxid <= prev ? `first transaction ${ts[0]!.zxid} does not follow ${prev}` : undefined

const vote = struct<Vote>({ id: nat, epoch, zxid })

/** A compacted log's base. Its index counts entries, so it is at least 1. */
const snapshot: Field<Snapshot> = {
  ...struct<Snapshot>({ index: nat, zxid, data: bytes }),
  read: (r) => {
    const v = struct<Snapshot>({ index: nat, zxid, data: bytes }).read(r)
    if (v.index < 1 || v.zxid < 1) throw new PeerFrameError(`snapshot at index ${v.index}, zxid ${v.zxid}`)
    return v
  },
}

const sync = union<Sync>("sync", {
  DIFF: { kind: 1, fields: { prevZxid: zxid, txns }, check: (s) => follows(s.prevZxid, s.txns) },
  TRUNC: { kind: 2, fields: { truncZxid: zxid, txns }, check: (s) => follows(s.truncZxid, s.txns) },
  SNAP: { kind: 3, fields: { snapshot: optional(snapshot), txns }, check: (s) => (s.snapshot === undefined ? undefined : follows(s.snapshot.zxid, s.txns)) },
})

const zabCodec = union<Message>("message", {
  Vote: { kind: 1, fields: { round: nat, vote, state: literal("role", Role.literals) } },
  FollowerInfo: { kind: 2, fields: { acceptedEpoch: epoch, lastZxid: zxid, observer: bool } },
  LeaderInfo: { kind: 3, fields: { epoch } },
  AckEpoch: { kind: 4, fields: { epoch, currentEpoch: epoch, lastZxid: zxid } },
  NewLeader: { kind: 5, fields: { epoch, sync, leaderLastZxid: zxid } },
  Ack: { kind: 6, fields: { epoch, zxid } },
  Proposal: { kind: 7, fields: { epoch, prevZxid: zxid, txns }, check: (m) => follows(m.prevZxid, m.txns) },
  Commit: { kind: 8, fields: { epoch, zxid } },
  Ping: { kind: 9, fields: { epoch, commitZxid: zxid } },
  Inform: {
    kind: 10,
    fields: { epoch, prevZxid: zxid, txns, commitZxid: zxid, snapshot: optional(snapshot) },
    check: (m) =>
      m.snapshot !== undefined && m.snapshot.zxid !== m.prevZxid ? `snapshot ${m.snapshot.zxid} is not prevZxid ${m.prevZxid}` : follows(m.prevZxid, m.txns),
  },
})

/** Kinds from here on are the server-level messages; below it, consensus messages. */
const FIRST_PEER_KIND = 64

const peerCodec = union<Exclude<PeerMessage, { readonly _tag: "Zab" }>>("peer message", {
  Forward: { kind: FIRST_PEER_KIND, fields: { txn: bytes } },
  Touch: { kind: FIRST_PEER_KIND + 1, fields: { sessions } },
})

function encodeWith<T>(f: Field<T>, v: T): Buffer {
  const b = Buffer.allocUnsafe(f.size(v))
  const end = f.write(b, 0, v)
  if (end !== b.length) throw new Error(`peer codec bug: wrote ${end} of ${b.length} bytes`)
  return b
}
