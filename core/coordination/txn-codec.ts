/**
 * The bytes of a `CoordTxn` inside a consensus log entry.
 *
 * Layout: format byte, then session, cxid, origin, time, auth ids, op. An op is a tag byte and
 * its fields; a multi nests ops (depth-limited). Integers are varints (`binary.ts`), so the common
 * transaction is a few dozen bytes plus its path and data.
 *
 * Decoding reads bytes that crossed the network and the disk: any malformed input throws a
 * `DecodeError`, and no length or count is trusted beyond the bytes actually present.
 */
import { assert } from "../consensus/assert.ts"
import { DecodeError, Reader, Writer } from "./binary.ts"
import type { ACL, CoordTxn, CreateMode, Id, TxnOp } from "./types.ts"

const FORMAT = 1

/** Multi inside multi is meaningless (apply rejects it) but must still round-trip; bound the nesting. */
const MAX_DEPTH = 4

const Tag = {
  createSession: 1,
  closeSession: 2,
  create: 3,
  delete: 4,
  setData: 5,
  setACL: 6,
  check: 7,
  multi: 8,
  sync: 9,
  deleteContainer: 10,
} as const satisfies Record<TxnOp["type"], number>

export function encodeTxn(txn: CoordTxn): Uint8Array {
  const w = new Writer()
  w.u8(FORMAT)
  w.bigUvar(txn.session)
  w.svar(txn.cxid)
  w.svar(txn.origin)
  w.svar(txn.time)
  w.uvar(txn.auth.length)
  for (const id of txn.auth) writeId(w, id)
  writeOp(w, txn.op, 0)
  return w.finish()
}

export function decodeTxn(bytes: Uint8Array): CoordTxn {
  const r = new Reader(bytes)
  const format = r.u8()
  if (format !== FORMAT) throw new DecodeError(`unknown transaction format ${format}`)
  const session = r.bigUvar()
  const cxid = r.svar()
  const origin = r.svar()
  const time = r.svar()
  const auth: Id[] = []
  for (let n = r.count(2); n > 0; n--) auth.push(readId(r))
  const op = readOp(r, 0)
  r.end()
  return { session, cxid, origin, time, auth, op }
}

function writeId(w: Writer, id: Id): void {
  w.str(id.scheme)
  w.str(id.id)
}

function readId(r: Reader): Id {
  const scheme = r.str()
  const id = r.str()
  return { scheme, id }
}

function writeAcl(w: Writer, acl: readonly ACL[]): void {
  w.uvar(acl.length)
  for (const a of acl) {
    w.svar(a.perms)
    writeId(w, a.id)
  }
}

function readAcl(r: Reader): ACL[] {
  const acl: ACL[] = []
  for (let n = r.count(3); n > 0; n--) {
    const perms = r.svar()
    acl.push({ perms, id: readId(r) })
  }
  return acl
}

function writeOp(w: Writer, op: TxnOp, depth: number): void {
  w.u8(Tag[op.type])
  switch (op.type) {
    case "createSession":
      w.svar(op.timeoutMs)
      w.bytes(op.passwd)
      return
    case "closeSession":
      w.u8(op.expired ? 1 : 0)
      return
    case "create":
      w.str(op.path)
      w.bytes(op.data)
      writeAcl(w, op.acl)
      w.svar(op.mode)
      w.svar(op.ttl)
      return
    case "delete":
    case "check":
      w.str(op.path)
      w.svar(op.version)
      return
    case "setData":
      w.str(op.path)
      w.bytes(op.data)
      w.svar(op.version)
      return
    case "setACL":
      w.str(op.path)
      writeAcl(w, op.acl)
      w.svar(op.version)
      return
    case "multi":
      assert(depth < MAX_DEPTH, `multi nested deeper than ${MAX_DEPTH}`)
      w.uvar(op.ops.length)
      for (const sub of op.ops) writeOp(w, sub, depth + 1)
      return
    case "sync":
    case "deleteContainer":
      w.str(op.path)
      return
  }
}

function readOp(r: Reader, depth: number): TxnOp {
  const tag = r.u8()
  switch (tag) {
    case Tag.createSession: {
      const timeoutMs = r.svar()
      return { type: "createSession", timeoutMs, passwd: r.bytes() }
    }
    case Tag.closeSession: {
      const b = r.u8()
      if (b > 1) throw new DecodeError(`bad boolean ${b}`)
      return { type: "closeSession", expired: b === 1 }
    }
    case Tag.create: {
      const path = r.str()
      const data = r.bytes()
      const acl = readAcl(r)
      // Any int is carried as is: an unknown mode is apply's BADARGUMENTS, not a decoding failure.
      const mode = r.svar() as CreateMode
      const ttl = r.svar()
      return { type: "create", path, data, acl, mode, ttl }
    }
    case Tag.delete:
    case Tag.check: {
      const path = r.str()
      const version = r.svar()
      return { type: tag === Tag.delete ? "delete" : "check", path, version }
    }
    case Tag.setData: {
      const path = r.str()
      const data = r.bytes()
      return { type: "setData", path, data, version: r.svar() }
    }
    case Tag.setACL: {
      const path = r.str()
      const acl = readAcl(r)
      return { type: "setACL", path, acl, version: r.svar() }
    }
    case Tag.multi: {
      if (depth >= MAX_DEPTH) throw new DecodeError(`multi nested deeper than ${MAX_DEPTH}`)
      const ops: TxnOp[] = []
      for (let n = r.count(1); n > 0; n--) ops.push(readOp(r, depth + 1))
      return { type: "multi", ops }
    }
    case Tag.sync:
    case Tag.deleteContainer:
      return { type: tag === Tag.sync ? "sync" : "deleteContainer", path: r.str() }
    default:
      throw new DecodeError(`unknown op tag ${tag}`)
  }
}
