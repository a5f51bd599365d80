/**
 * ZooKeeper's znode tree as a deterministic state machine.
 *
 * `apply` is the whole write path: it checks a transaction exactly as ZooKeeper's leader does
 * (PrepRequestProcessor) and then changes the tree as every replica does (DataTree.processTxn).
 * ZooKeeper splits those two because its leader checks against a view that includes proposals
 * still in flight; here every replica re-checks at apply time, against the committed tree, so a
 * transaction that became invalid while it was in flight just answers with an error, and all
 * replicas agree on which.
 *
 * Every change goes through an undo log. That gives multi its all-or-nothing semantics and lets
 * `validate` (the leader's pre-check before proposing) be `apply` followed by a rollback: one
 * code path for the rules, not two copies that could drift apart.
 */
import { createHash } from "node:crypto"
import { assert } from "../consensus/assert.ts"
import { checkAcl, fixupAcl, OPEN_ACL_UNSAFE, READ_ACL_UNSAFE, redactAcl } from "./acl.ts"
import { DecodeError, Reader, Writer } from "./binary.ts"
import { Err } from "./errors.ts"
import { basename, childPath, formatSequence, isValidPath, parentOf } from "./path.ts"
import {
  CreateMode,
  EventType,
  Perms,
  type ACL,
  type CoordTxn,
  type Id,
  type OpResult,
  type SessionId,
  type Stat,
  type TreeEvent,
  type TxnOp,
} from "./types.ts"
import {
  CONTAINER_OWNER,
  isCollectable,
  MAX_TTL,
  nodeKind,
  sessionOwner,
  statOf,
  ttlOwner,
  type Znode,
  type ZnodeView,
} from "./znode.ts"

export interface SessionInfo {
  readonly id: SessionId
  readonly timeoutMs: number
  readonly passwd: Uint8Array
}

/** A non-OK error code. */
export type Failure = Exclude<Err, typeof Err.OK>

/** What a read answers: the value, or `{ err }` (tell them apart with `"err" in result`). */
export type ReadResult<T> = T | { readonly err: Failure }

export interface Applied {
  readonly result: OpResult
  /** What watches may fire on, in order; empty when the transaction failed. */
  readonly events: TreeEvent[]
}

/** Paths ZooKeeper owns: never deletable (DataTree.isSpecialPath). */
const SPECIAL_PATHS: ReadonlySet<string> = new Set(["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"])

const MULTI_OPS: ReadonlySet<TxnOp["type"]> = new Set(["create", "delete", "setData", "check"])

const SNAPSHOT_MAGIC = [0x53, 0x51, 0x54, 0x52] // "SQTR"
const SNAPSHOT_FORMAT = 1

/** One apply's pending work: how to take it back, and what it announced. */
interface Changes {
  readonly undo: (() => void)[]
  readonly events: TreeEvent[]
}

function fail(err: Failure): OpResult {
  return { type: "error", err }
}

function versionMatches(expected: number, actual: number): boolean {
  return expected === -1 || expected === actual
}

/** Java int increment: versions wrap at 2^31 as they do in ZooKeeper. */
function inc(n: number): number {
  return (n + 1) | 0
}

function isCreateMode(mode: number): mode is CreateMode {
  return Number.isInteger(mode) && mode >= CreateMode.PERSISTENT && mode <= CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL
}

function emptyNode(acl: readonly ACL[], children: string[]): Znode {
  return {
    data: new Uint8Array(0),
    acl,
    czxid: 0,
    mzxid: 0,
    ctime: 0,
    mtime: 0,
    version: 0,
    cversion: 0,
    aversion: 0,
    ephemeralOwner: 0n,
    pzxid: 0,
    children: new Set(children),
  }
}

export class DataTree {
  private readonly nodes = new Map<string, Znode>()
  private readonly sessionTable = new Map<SessionId, SessionInfo>()
  /** Paths of each session's ephemerals, kept so closeSession need not scan the tree. */
  private readonly ephemeralIndex = new Map<SessionId, Set<string>>()
  private last = 0

  private constructor() {}

  /** A fresh tree as a new ZooKeeper server has it: /, /zookeeper, /zookeeper/{quota,config}. */
  static empty(): DataTree {
    const t = new DataTree()
    t.nodes.set("/", emptyNode(OPEN_ACL_UNSAFE, ["zookeeper"]))
    t.nodes.set("/zookeeper", emptyNode(OPEN_ACL_UNSAFE, ["quota", "config"]))
    t.nodes.set("/zookeeper/quota", emptyNode(OPEN_ACL_UNSAFE, []))
    // DataTree.addConfigNode sets the config node's ACL with version -1, which ZooKeeper stores
    // as the aversion, so clients see aclVersion -1 there.
    t.nodes.set("/zookeeper/config", { ...emptyNode(READ_ACL_UNSAFE, []), aversion: -1 })
    return t
  }

  /** Zxid of the last transaction applied (0 for a fresh tree). */
  get lastZxid(): number {
    return this.last
  }

  // ---------------------------------------------------------------------------------------------
  // Writes

  /** Apply one committed transaction. Deterministic; on error the tree is unchanged. */
  apply(txn: CoordTxn, zxid: number): Applied {
    assert(Number.isSafeInteger(zxid) && zxid > this.last, `zxid ${zxid} must exceed the last applied ${this.last}`)
    const ch: Changes = { undo: [], events: [] }
    const result = this.run(txn, txn.op, zxid, ch, false)
    if (result.err !== Err.OK) this.rollback(ch)
    this.last = zxid
    return { result, events: result.err === Err.OK ? ch.events : [] }
  }

  /** The error `apply` would answer right now (0 = it would succeed), without changing anything. */
  validate(txn: CoordTxn): number {
    const ch: Changes = { undo: [], events: [] }
    const result = this.run(txn, txn.op, this.last + 1, ch, false)
    this.rollback(ch)
    return result.err
  }

  private rollback(ch: Changes): void {
    while (ch.undo.length > 0) ch.undo.pop()!()
  }

  private run(txn: CoordTxn, op: TxnOp, zxid: number, ch: Changes, inMulti: boolean): OpResult {
    if (inMulti && !MULTI_OPS.has(op.type)) return fail(Err.BADARGUMENTS)
    switch (op.type) {
      case "createSession":
        return this.createSession(op, zxid, ch)
      case "closeSession":
        return this.closeSession(txn.session, zxid, ch)
      case "create":
        return this.create(txn, op, zxid, ch)
      case "delete":
        return this.delete(txn.auth, op, zxid, ch)
      case "setData":
        return this.setData(txn, op, zxid, ch)
      case "setACL":
        return this.setAcl(txn.auth, op, ch)
      case "check":
        return this.check(txn.auth, op)
      case "multi":
        return this.multi(txn, op.ops, zxid, ch)
      case "sync":
        return { type: "sync", err: Err.OK }
      case "deleteContainer":
        return this.deleteContainer(op.path, txn.time, zxid, ch)
    }
  }

  private createSession(op: Extract<TxnOp, { type: "createSession" }>, zxid: number, ch: Changes): OpResult {
    // A zxid names exactly one transaction forever, so it is a session id no replica can reuse.
    const id = BigInt(zxid)
    assert(!this.sessionTable.has(id), `session ${id} already exists`)
    const info: SessionInfo = { id, timeoutMs: op.timeoutMs, passwd: op.passwd.slice() }
    this.sessionTable.set(id, info)
    ch.undo.push(() => this.sessionTable.delete(id))
    return { type: "createSession", err: Err.OK, sessionId: id, timeoutMs: info.timeoutMs, passwd: info.passwd }
  }

  private closeSession(session: SessionId, zxid: number, ch: Changes): OpResult {
    const info = this.sessionTable.get(session)
    if (info === undefined) return fail(Err.SESSIONEXPIRED)
    for (const path of [...(this.ephemeralIndex.get(session) ?? [])].sort()) this.removeNode(path, zxid, ch)
    this.sessionTable.delete(session)
    ch.undo.push(() => this.sessionTable.set(session, info))
    return { type: "closeSession", err: Err.OK }
  }

  /** The checks and their order follow PrepRequestProcessor.pRequest2TxnCreate. */
  private create(txn: CoordTxn, op: Extract<TxnOp, { type: "create" }>, zxid: number, ch: Changes): OpResult {
    const { mode, ttl } = op
    if (!isCreateMode(mode)) return fail(Err.BADARGUMENTS)
    const ttlMode = mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL
    const ttlOk = ttlMode ? Number.isInteger(ttl) && ttl > 0 && ttl <= MAX_TTL : ttl === 0
    if (!ttlOk) return fail(Err.BADARGUMENTS)
    const ephemeral = mode === CreateMode.EPHEMERAL || mode === CreateMode.EPHEMERAL_SEQUENTIAL
    if (ephemeral && !this.sessionTable.has(txn.session)) return fail(Err.SESSIONEXPIRED)

    const slash = op.path.lastIndexOf("/")
    if (slash === -1 || op.path.includes("\0")) return fail(Err.BADARGUMENTS)
    const acl = fixupAcl(op.acl, txn.auth)
    if (acl === undefined) return fail(Err.INVALIDACL)
    // "/a" has parent "" in ZooKeeper, an alias of the root; "/" itself then fails as NODEEXISTS.
    const parentPath = slash === 0 ? "/" : op.path.slice(0, slash)
    const parent = this.nodes.get(parentPath)
    if (parent === undefined) return fail(Err.NONODE)
    if (!checkAcl(parent.acl, txn.auth, Perms.CREATE)) return fail(Err.NOAUTH)
    const sequential =
      mode === CreateMode.PERSISTENT_SEQUENTIAL ||
      mode === CreateMode.EPHEMERAL_SEQUENTIAL ||
      mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL
    // The suffix is the parent's creation counter before this creation bumps it.
    const path = sequential ? op.path + formatSequence(parent.cversion) : op.path
    if (!isValidPath(path)) return fail(Err.BADARGUMENTS)
    if (this.nodes.has(path)) return fail(Err.NODEEXISTS)
    if (nodeKind(parent.ephemeralOwner) === "ephemeral") return fail(Err.NOCHILDRENFOREPHEMERALS)

    const owner = ephemeral
      ? txn.session
      : mode === CreateMode.CONTAINER
        ? CONTAINER_OWNER
        : ttlMode
          ? ttlOwner(ttl)
          : 0n
    this.modify(parent, ch)
    parent.cversion = inc(parent.cversion)
    parent.pzxid = zxid
    const node: Znode = {
      data: op.data.slice(),
      acl,
      czxid: zxid,
      mzxid: zxid,
      ctime: txn.time,
      mtime: txn.time,
      version: 0,
      cversion: 0,
      aversion: 0,
      ephemeralOwner: owner,
      pzxid: zxid,
      children: new Set(),
    }
    this.link(parentPath, path, node, ch)
    ch.events.push({ type: EventType.NodeCreated, path, zxid }, { type: EventType.NodeChildrenChanged, path: parentPath, zxid })
    return { type: "create", err: Err.OK, path, stat: statOf(node) }
  }

  /** PrepRequestProcessor's delete: the parent's DELETE permission is checked before the node is looked up. */
  private delete(auth: readonly Id[], op: Extract<TxnOp, { type: "delete" }>, zxid: number, ch: Changes): OpResult {
    const slash = op.path.lastIndexOf("/")
    if (slash === -1 || op.path.includes("\0") || SPECIAL_PATHS.has(op.path)) return fail(Err.BADARGUMENTS)
    const parent = this.nodes.get(slash === 0 ? "/" : op.path.slice(0, slash))
    if (parent === undefined) return fail(Err.NONODE)
    if (!checkAcl(parent.acl, auth, Perms.DELETE)) return fail(Err.NOAUTH)
    const node = this.nodes.get(op.path)
    if (node === undefined) return fail(Err.NONODE)
    if (!versionMatches(op.version, node.version)) return fail(Err.BADVERSION)
    if (node.children.size > 0) return fail(Err.NOTEMPTY)
    this.removeNode(op.path, zxid, ch)
    return { type: "delete", err: Err.OK }
  }

  private setData(txn: CoordTxn, op: Extract<TxnOp, { type: "setData" }>, zxid: number, ch: Changes): OpResult {
    if (!isValidPath(op.path)) return fail(Err.BADARGUMENTS)
    const node = this.nodes.get(op.path)
    if (node === undefined) return fail(Err.NONODE)
    if (!checkAcl(node.acl, txn.auth, Perms.WRITE)) return fail(Err.NOAUTH)
    if (!versionMatches(op.version, node.version)) return fail(Err.BADVERSION)
    this.modify(node, ch)
    node.data = op.data.slice()
    node.version = inc(node.version)
    node.mzxid = zxid
    node.mtime = txn.time
    ch.events.push({ type: EventType.NodeDataChanged, path: op.path, zxid })
    return { type: "setData", err: Err.OK, stat: statOf(node) }
  }

  private setAcl(auth: readonly Id[], op: Extract<TxnOp, { type: "setACL" }>, ch: Changes): OpResult {
    if (!isValidPath(op.path)) return fail(Err.BADARGUMENTS)
    const acl = fixupAcl(op.acl, auth)
    if (acl === undefined) return fail(Err.INVALIDACL)
    const node = this.nodes.get(op.path)
    if (node === undefined) return fail(Err.NONODE)
    if (!checkAcl(node.acl, auth, Perms.ADMIN)) return fail(Err.NOAUTH)
    if (!versionMatches(op.version, node.aversion)) return fail(Err.BADVERSION)
    this.modify(node, ch)
    node.acl = acl
    node.aversion = inc(node.aversion)
    return { type: "setACL", err: Err.OK, stat: statOf(node) }
  }

  private check(auth: readonly Id[], op: Extract<TxnOp, { type: "check" }>): OpResult {
    if (!isValidPath(op.path)) return fail(Err.BADARGUMENTS)
    const node = this.nodes.get(op.path)
    if (node === undefined) return fail(Err.NONODE)
    if (!checkAcl(node.acl, auth, Perms.READ)) return fail(Err.NOAUTH)
    if (!versionMatches(op.version, node.version)) return fail(Err.BADVERSION)
    return { type: "check", err: Err.OK }
  }

  /**
   * Ops see the effects of the ones before them. The first failure ends the multi; `apply` (or
   * `validate`) then takes back everything, as for any failed transaction.
   */
  private multi(txn: CoordTxn, ops: readonly TxnOp[], zxid: number, ch: Changes): OpResult {
    const results: OpResult[] = []
    for (const [i, op] of ops.entries()) {
      const r = this.run(txn, op, zxid, ch, true)
      if (r.err !== Err.OK) {
        const failed: OpResult[] = ops.map((_, j) => ({
          type: "error",
          err: j < i ? Err.OK : j === i ? r.err : Err.RUNTIMEINCONSISTENCY,
        }))
        return { type: "multi", err: r.err, results: failed }
      }
      results.push(r)
    }
    return { type: "multi", err: Err.OK, results }
  }

  /** Leader housekeeping: re-checked here, since the node may have been used since it was picked. */
  private deleteContainer(path: string, now: number, zxid: number, ch: Changes): OpResult {
    const node = this.nodes.get(path)
    if (node !== undefined && !SPECIAL_PATHS.has(path) && isCollectable(node, now)) this.removeNode(path, zxid, ch)
    return { type: "deleteContainer", err: Err.OK }
  }

  // ---------------------------------------------------------------------------------------------
  // Undoable primitives

  /** Remember a node's fields before they change. */
  private modify(node: Znode, ch: Changes): void {
    const saved = { ...node }
    ch.undo.push(() => Object.assign(node, saved))
  }

  private link(parentPath: string, path: string, node: Znode, ch: Changes): void {
    const parent = this.nodes.get(parentPath)!
    const name = basename(path)
    parent.children.add(name)
    this.nodes.set(path, node)
    const owner = sessionOwner(node)
    if (owner !== undefined) this.indexAdd(owner, path)
    ch.undo.push(() => {
      parent.children.delete(name)
      this.nodes.delete(path)
      if (owner !== undefined) this.indexRemove(owner, path)
    })
  }

  /** DataTree.deleteNode: the parent's pzxid moves forward; its stored cversion does not. */
  private removeNode(path: string, zxid: number, ch: Changes): void {
    const node = this.nodes.get(path)
    assert(node !== undefined && node.children.size === 0, `removeNode: ${path} is missing or has children`)
    const parentPath = parentOf(path)
    const parent = this.nodes.get(parentPath)
    assert(parent !== undefined, `removeNode: ${path} has no parent`)
    this.modify(parent, ch)
    if (zxid > parent.pzxid) parent.pzxid = zxid
    const name = basename(path)
    parent.children.delete(name)
    this.nodes.delete(path)
    const owner = sessionOwner(node)
    if (owner !== undefined) this.indexRemove(owner, path)
    ch.undo.push(() => {
      parent.children.add(name)
      this.nodes.set(path, node)
      if (owner !== undefined) this.indexAdd(owner, path)
    })
    ch.events.push({ type: EventType.NodeDeleted, path, zxid }, { type: EventType.NodeChildrenChanged, path: parentPath, zxid })
  }

  private indexAdd(owner: SessionId, path: string): void {
    let paths = this.ephemeralIndex.get(owner)
    if (paths === undefined) this.ephemeralIndex.set(owner, (paths = new Set()))
    paths.add(path)
  }

  private indexRemove(owner: SessionId, path: string): void {
    const paths = this.ephemeralIndex.get(owner)
    paths?.delete(path)
    if (paths?.size === 0) this.ephemeralIndex.delete(owner)
  }

  // ---------------------------------------------------------------------------------------------
  // Reads (FinalRequestProcessor): nothing changes; ACLs are checked against the reader's ids.

  getData(path: string, auth: readonly Id[]): ReadResult<{ readonly data: Uint8Array; readonly stat: Stat }> {
    const node = this.nodes.get(path)
    if (node === undefined) return { err: Err.NONODE }
    if (!checkAcl(node.acl, auth, Perms.READ)) return { err: Err.NOAUTH }
    return { data: node.data, stat: statOf(node) }
  }

  /** ZooKeeper checks no ACL for exists. */
  exists(path: string): Stat | undefined {
    const node = this.nodes.get(path)
    return node === undefined ? undefined : statOf(node)
  }

  /** Children names, sorted. */
  getChildren(path: string, auth: readonly Id[]): ReadResult<{ readonly children: string[]; readonly stat: Stat }> {
    const node = this.nodes.get(path)
    if (node === undefined) return { err: Err.NONODE }
    if (!checkAcl(node.acl, auth, Perms.READ)) return { err: Err.NOAUTH }
    return { children: [...node.children].sort(), stat: statOf(node) }
  }

  /**
   * With `auth`, as a client's getACL: READ or ADMIN is needed, and without ADMIN digest hashes
   * are redacted. Without `auth`, the stored ACL unchecked (for the server itself and tests).
   */
  getACL(path: string, auth?: readonly Id[]): ReadResult<{ readonly acl: readonly ACL[]; readonly stat: Stat }> {
    const node = this.nodes.get(path)
    if (node === undefined) return { err: Err.NONODE }
    if (auth === undefined) return { acl: node.acl, stat: statOf(node) }
    if (!checkAcl(node.acl, auth, Perms.READ | Perms.ADMIN)) return { err: Err.NOAUTH }
    const acl = checkAcl(node.acl, auth, Perms.ADMIN) ? node.acl : redactAcl(node.acl)
    return { acl, stat: statOf(node) }
  }

  /** Number of descendants (not counting the node itself); READ is checked when `auth` is given. */
  getAllChildrenNumber(path: string, auth?: readonly Id[]): ReadResult<{ readonly count: number }> {
    const node = this.nodes.get(path)
    if (node === undefined) return { err: Err.NONODE }
    if (auth !== undefined && !checkAcl(node.acl, auth, Perms.READ)) return { err: Err.NOAUTH }
    let count = 0
    const stack = [path]
    while (stack.length > 0) {
      const p = stack.pop()!
      for (const name of this.nodes.get(p)!.children) {
        count++
        stack.push(childPath(p, name))
      }
    }
    return { count }
  }

  /** The session's ephemerals whose path starts with `prefix` (plain string prefix, as ZooKeeper), sorted. */
  getEphemerals(session: SessionId, prefix: string): string[] {
    const all = [...(this.ephemeralIndex.get(session) ?? [])]
    const p = prefix.trim()
    const matching = p === "" || p === "/" ? all : all.filter((path) => path.startsWith(prefix))
    return matching.sort()
  }

  /** The stored node (internal counters and owner encoding included), for housekeeping and checks. */
  node(path: string): ZnodeView | undefined {
    return this.nodes.get(path)
  }

  /** Every stored node, in no particular order. */
  entries(): IterableIterator<[string, ZnodeView]> {
    return this.nodes.entries()
  }

  /** Number of znodes, the root and /zookeeper nodes included. */
  get nodeCount(): number {
    return this.nodes.size
  }

  session(id: SessionId): SessionInfo | undefined {
    return this.sessionTable.get(id)
  }

  /** Live sessions in id order. */
  sessions(): SessionInfo[] {
    return [...this.sessionTable.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots

  /** A canonical encoding: equal trees give equal bytes (sessions by id, nodes by path). */
  serialize(): Uint8Array {
    const w = new Writer()
    for (const b of SNAPSHOT_MAGIC) w.u8(b)
    w.u8(SNAPSHOT_FORMAT)
    w.uvar(this.last)
    const sessions = this.sessions()
    w.uvar(sessions.length)
    for (const s of sessions) {
      w.bigUvar(s.id)
      w.svar(s.timeoutMs)
      w.bytes(s.passwd)
    }
    const paths = [...this.nodes.keys()].sort()
    w.uvar(paths.length)
    for (const path of paths) {
      const n = this.nodes.get(path)!
      w.str(path)
      w.bytes(n.data)
      w.uvar(n.acl.length)
      for (const a of n.acl) {
        w.svar(a.perms)
        w.str(a.id.scheme)
        w.str(a.id.id)
      }
      w.uvar(n.czxid)
      w.uvar(n.mzxid)
      w.svar(n.ctime)
      w.svar(n.mtime)
      w.svar(n.version)
      w.svar(n.cversion)
      w.svar(n.aversion)
      w.bigUvar(n.ephemeralOwner)
      w.uvar(n.pzxid)
    }
    return w.finish()
  }

  /** Inverse of `serialize`; throws `DecodeError` on anything malformed or structurally inconsistent. */
  static deserialize(bytes: Uint8Array): DataTree {
    const r = new Reader(bytes)
    for (const b of SNAPSHOT_MAGIC) if (r.u8() !== b) throw new DecodeError("not a tree snapshot")
    const format = r.u8()
    if (format !== SNAPSHOT_FORMAT) throw new DecodeError(`unknown snapshot format ${format}`)
    const t = new DataTree()
    t.last = r.uvar()
    for (let i = r.count(3); i > 0; i--) {
      const id = r.bigUvar()
      const timeoutMs = r.svar()
      const passwd = r.bytes()
      if (t.sessionTable.has(id)) throw new DecodeError(`duplicate session ${id}`)
      t.sessionTable.set(id, { id, timeoutMs, passwd })
    }
    for (let i = r.count(13); i > 0; i--) {
      const path = r.str()
      const data = r.bytes()
      const acl: ACL[] = []
      for (let j = r.count(3); j > 0; j--) {
        const perms = r.svar()
        const scheme = r.str()
        const id = r.str()
        acl.push({ perms, id: { scheme, id } })
      }
      const node: Znode = {
        data,
        acl,
        czxid: r.uvar(),
        mzxid: r.uvar(),
        ctime: r.svar(),
        mtime: r.svar(),
        version: r.svar(),
        cversion: r.svar(),
        aversion: r.svar(),
        ephemeralOwner: r.bigUvar(),
        pzxid: r.uvar(),
        children: new Set(),
      }
      if (!isValidPath(path)) throw new DecodeError(`invalid path ${JSON.stringify(path)}`)
      if (t.nodes.has(path)) throw new DecodeError(`duplicate node ${path}`)
      t.nodes.set(path, node)
    }
    r.end()
    if (!t.nodes.has("/")) throw new DecodeError("snapshot has no root")
    for (const [path, node] of t.nodes) {
      if (path === "/") continue
      const parent = t.nodes.get(parentOf(path))
      if (parent === undefined) throw new DecodeError(`${path} has no parent`)
      parent.children.add(basename(path))
      const owner = sessionOwner(node)
      if (owner !== undefined) t.indexAdd(owner, path)
    }
    return t
  }

  /** A hash of the whole content, for comparing replicas. */
  digest(): string {
    return createHash("sha256").update(this.serialize()).digest("hex")
  }
}
