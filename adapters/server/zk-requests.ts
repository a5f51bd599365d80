/**
 * Client writes, both ways: a decoded wire request becomes a `CoordTxn` to propose, and the
 * `OpResult` of applying it becomes the reply frame. One table per direction.
 *
 * Only stateless checks happen here (a malformed path, an unknown create mode): they are
 * answered at once. Every check against the tree (missing parent, node exists, bad version, no
 * auth, ...) is made by `DataTree.apply` at the transaction's place in the total order — the
 * point ZooKeeper's leader emulates with its "outstanding changes" — so two pipelined writes of
 * one client (create /a, then create /a/b) are judged as they will really apply.
 */
import { Err, validatePath, type ACL, type CoordTxn, type Id, type OpResult, type SessionId, type Stat, type TxnOp } from "../../core/coordination/index.ts"
import { Op, encodeReply, encodeReplyDynamic, type ZkRequest } from "../tcp/zookeeper/protocol.ts"

export interface PendingWrite {
  readonly txn: CoordTxn
  /**
   * The reply frame for this request once its transaction applied with `result` at `zxid`;
   * `statOf` reads the tree as it stands right after that transaction.
   */
  readonly reply: (result: OpResult, zxid: number, statOf: (path: string) => Stat | undefined) => Uint8Array
}

export interface Requester {
  readonly session: SessionId
  readonly origin: number
  readonly time: number
  readonly auth: readonly Id[]
}

/** Wire Stat: every jute long as a bigint. */
export function toWireStat(s: Stat): Record<string, bigint | number> {
  return {
    czxid: BigInt(s.czxid),
    mzxid: BigInt(s.mzxid),
    ctime: BigInt(s.ctime),
    mtime: BigInt(s.mtime),
    version: s.version,
    cversion: s.cversion,
    aversion: s.aversion,
    ephemeralOwner: s.ephemeralOwner,
    dataLength: s.dataLength,
    numChildren: s.numChildren,
    pzxid: BigInt(s.pzxid),
  }
}

type R = Record<string, unknown>
const str = (r: R, k: string): string => (typeof r[k] === "string" ? (r[k] as string) : "")
const num = (r: R, k: string): number => Number(r[k] ?? 0)
const bytes = (r: R, k: string): Uint8Array => (r[k] instanceof Uint8Array ? (r[k] as Uint8Array) : new Uint8Array(0))
const acl = (r: R): ACL[] =>
  ((r["acl"] as Array<{ perms: number; id: { scheme: string; id: string } }> | null) ?? []).map((a) => ({
    perms: a.perms,
    id: { scheme: a.id.scheme, id: a.id.id },
  }))

/** One op of a create/delete/setData/check/setACL request as a `TxnOp`, or an error code. */
function toTxnOp(type: number, r: R): TxnOp | number {
  const path = str(r, "path")
  switch (type) {
    case Op.create:
    case Op.create2:
    case Op.createContainer:
    case Op.createTTL: {
      const mode = num(r, "flags")
      const sequential = mode === 2 || mode === 3 || mode === 6
      if (validatePath(path, sequential) !== undefined) return Err.BADARGUMENTS
      if (!Number.isInteger(mode) || mode < 0 || mode > 6) return Err.BADARGUMENTS
      // ZooKeeper: containers only through createContainer, TTLs only through createTTL.
      if ((mode === 4) !== (type === Op.createContainer)) return Err.BADARGUMENTS
      if ((mode === 5 || mode === 6) !== (type === Op.createTTL)) return Err.BADARGUMENTS
      const ttl = type === Op.createTTL ? num(r, "ttl") : 0
      return { type: "create", path, data: bytes(r, "data"), acl: acl(r), mode: mode as 0, ttl }
    }
    case Op.delete:
      return validatePath(path) ? Err.BADARGUMENTS : { type: "delete", path, version: num(r, "version") }
    case Op.setData:
      return validatePath(path) ? Err.BADARGUMENTS : { type: "setData", path, data: bytes(r, "data"), version: num(r, "version") }
    case Op.setACL:
      return validatePath(path) ? Err.BADARGUMENTS : { type: "setACL", path, acl: acl(r), version: num(r, "version") }
    case Op.check:
      return validatePath(path) ? Err.BADARGUMENTS : { type: "check", path, version: num(r, "version") }
    case Op.sync:
      return validatePath(path) ? Err.BADARGUMENTS : { type: "sync", path }
    default:
      return Err.UNIMPLEMENTED
  }
}

const multiWriteOps = new Set<number>([Op.create, Op.create2, Op.createContainer, Op.createTTL, Op.delete, Op.setData, Op.check])
const writeOps = new Set<number>([
  Op.create, Op.create2, Op.createContainer, Op.createTTL, Op.delete, Op.setData, Op.setACL, Op.check, Op.sync, Op.multi, Op.closeSession,
])

/**
 * The write a request asks for; `{err}` when it is malformed; undefined when it is not a write
 * (the caller serves it as a read).
 */
export function writeOpRequest(req: ZkRequest, who: Requester): PendingWrite | { err: number } | undefined {
  const { xid, type } = req.header
  if (!writeOps.has(type)) return undefined
  const r = (req.request ?? {}) as unknown as R
  const txn = (op: TxnOp): CoordTxn => ({ session: who.session, cxid: xid, origin: who.origin, time: who.time, auth: who.auth, op })
  if (type === Op.closeSession) {
    return { txn: txn({ type: "closeSession", expired: false }), reply: (res, zxid) => encodeReply(xid, zxid, res.err) }
  }
  if (type === Op.multi) {
    const subs = (r["ops"] as Array<{ type: number; request: R }>) ?? []
    const ops: TxnOp[] = []
    for (const s of subs) {
      if (!multiWriteOps.has(s.type)) return { err: Err.BADARGUMENTS }
      const op = toTxnOp(s.type, s.request)
      if (typeof op === "number") return { err: op }
      ops.push(op)
    }
    const types = subs.map((s) => s.type)
    return { txn: txn({ type: "multi", ops }), reply: (res, zxid) => multiReply(xid, zxid, res, types) }
  }
  const op = toTxnOp(type, r)
  if (typeof op === "number") return { err: op }
  return { txn: txn(op), reply: (res, zxid, statOf) => singleReply(xid, zxid, type, res, op, statOf) }
}

function singleReply(xid: number, zxid: number, type: number, res: OpResult, op: TxnOp, statOf: (path: string) => Stat | undefined): Uint8Array {
  if (res.err !== Err.OK) return encodeReply(xid, zxid, res.err)
  const [record, body] = responseBody(type, res, op, statOf)
  return encodeReplyDynamic(xid, zxid, Err.OK, record, body)
}

/** The response record (and its value) for a successful single op. */
function responseBody(type: number, res: OpResult, op: TxnOp, statOf: (path: string) => Stat | undefined): [string | undefined, unknown] {
  switch (res.type) {
    case "create":
      return type === Op.create ? ["CreateResponse", { path: res.path }] : ["Create2Response", { path: res.path, stat: toWireStat(res.stat) }]
    case "setData":
      return ["SetDataResponse", { stat: toWireStat(res.stat) }]
    case "setACL":
      return ["SetACLResponse", { stat: toWireStat(res.stat) }]
    case "sync":
      return ["SyncResponse", { path: op.type === "sync" ? op.path : "" }]
    case "check": {
      // ZooKeeper 3.9 answers a stand-alone check with the node's stat (a SetDataResponse).
      const stat = op.type === "check" ? statOf(op.path) : undefined
      return stat ? ["SetDataResponse", { stat: toWireStat(stat) }] : [undefined, undefined]
    }
    default:
      return [undefined, undefined]
  }
}

/**
 * A multi's reply: ZooKeeper answers err 0 in the header and puts the outcome in the results
 * (on failure every result is an error: 0 before the failing op, its code, -2 after), so the
 * client can report which op failed.
 */
function multiReply(xid: number, zxid: number, res: OpResult, types: readonly number[]): Uint8Array {
  if (res.type !== "multi") return encodeReply(xid, zxid, res.err)
  const results: unknown[] = res.results.map((sub, i) => {
    if (sub.type === "error" || res.err !== Err.OK) return { type: Op.error, err: sub.err }
    const type = types[i]!
    switch (sub.type) {
      case "create":
        // createTTL and createContainer answer like create2 inside a multi.
        return type === Op.create ? { type, path: sub.path } : { type: Op.create2, path: sub.path, stat: toWireStat(sub.stat) }
      case "setData":
        return { type, stat: toWireStat(sub.stat) }
      default:
        return { type }
    }
  })
  return encodeReplyDynamic(xid, zxid, Err.OK, "MultiResponse", { results })
}
