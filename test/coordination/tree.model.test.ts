/**
 * Model-based test (fast-check `commands`) of DataTree against a deliberately naive model: a map
 * from path to { data, version, kind, owner, creations } and a set of live sessions, with the
 * rules written out the obvious way. Generated command sequences create nodes in every mode
 * (sequential ones included), delete and set data with right, wrong and -1 versions, run multis
 * that may fail part-way, open and close sessions, collect containers and round-trip snapshots.
 * After every command the tree must agree with the model node by node, answer the error the
 * model predicts (and `validate` must have predicted the same), and satisfy every tree invariant.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  CreateMode,
  DataTree,
  Err,
  checkTreeInvariants,
  errName,
  childPath,
  formatSequence,
  nodeKind,
  parentOf,
  type NodeKind,
  type OpResult,
  type SessionId,
  type TxnOp,
} from "../../core/coordination/index.ts"
import { Harness, bytes, createOp } from "./helpers.ts"

interface MNode {
  data: string
  version: number
  kind: NodeKind
  owner: SessionId
  /** Child creations so far: the sequential counter. */
  creates: number
  czxid: number
  mzxid: number
  /** Zxid of the last child creation or deletion. */
  pzxid: number
}

const SPECIAL = new Set(["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"])
/** The one built-in node whose ACL (world:anyone READ) denies CREATE, DELETE and WRITE. */
const READ_ONLY = "/zookeeper/config"
const NAMES = ["a", "b", "s-"] as const
const UNIVERSE = (() => {
  const out: string[] = []
  const walk = (p: string, depth: number): void => {
    if (depth === 3) return
    for (const n of ["a", "b"]) {
      out.push(childPath(p, n))
      walk(childPath(p, n), depth + 1)
    }
  }
  walk("/", 0)
  return out
})()
const DEAD_SESSION = 10n ** 15n

class Model {
  nodes = new Map<string, MNode>()
  sessions = new Set<SessionId>()
  zxid = 0

  constructor() {
    for (const p of SPECIAL) {
      this.nodes.set(p, { data: "", version: 0, kind: "persistent", owner: 0n, creates: 0, czxid: 0, mzxid: 0, pzxid: 0 })
    }
  }

  clone(): Model {
    const m = new Model()
    m.nodes = new Map([...this.nodes].map(([p, n]) => [p, { ...n }]))
    m.sessions = new Set(this.sessions)
    m.zxid = this.zxid
    return m
  }

  remove(path: string): void {
    this.nodes.delete(path)
    this.nodes.get(parentOf(path))!.pzxid = this.zxid
  }

  childCount(path: string): number {
    let n = 0
    for (const p of this.nodes.keys()) if (p !== "/" && parentOf(p) === path) n++
    return n
  }

  /** Paths commands pick from: everything that exists plus a fixed set that may not. */
  candidates(): string[] {
    return [...new Set([...this.nodes.keys(), ...UNIVERSE])].sort()
  }

  /** Existing paths, the /zookeeper subtree left out so trees grow where the action is. */
  existing(): string[] {
    return [...this.nodes.keys()].filter((p) => !p.startsWith("/zookeeper")).sort()
  }
}

/** The model's answer to one op; changes the model only on success. */
function predict(m: Model, op: TxnOp, session: SessionId): { err: number; path?: string } {
  const versionOk = (expected: number, actual: number) => expected === -1 || expected === actual
  switch (op.type) {
    case "create": {
      const ephemeral = op.mode === CreateMode.EPHEMERAL || op.mode === CreateMode.EPHEMERAL_SEQUENTIAL
      if (ephemeral && !m.sessions.has(session)) return { err: Err.SESSIONEXPIRED }
      const parentPath = parentOf(op.path.endsWith("/") ? op.path + "x" : op.path)
      const parent = m.nodes.get(parentPath)
      if (parent === undefined) return { err: Err.NONODE }
      if (parentPath === READ_ONLY) return { err: Err.NOAUTH }
      const sequential = op.mode === CreateMode.PERSISTENT_SEQUENTIAL || op.mode === CreateMode.EPHEMERAL_SEQUENTIAL
      const path = sequential ? op.path + formatSequence(parent.creates) : op.path
      if (m.nodes.has(path)) return { err: Err.NODEEXISTS }
      if (parent.kind === "ephemeral") return { err: Err.NOCHILDRENFOREPHEMERALS }
      const kind: NodeKind = ephemeral
        ? "ephemeral"
        : op.mode === CreateMode.CONTAINER
          ? "container"
          : op.mode === CreateMode.PERSISTENT_WITH_TTL
            ? "ttl"
            : "persistent"
      parent.creates++
      parent.pzxid = m.zxid
      const data = new TextDecoder().decode(op.data)
      m.nodes.set(path, { data, version: 0, kind, owner: ephemeral ? session : 0n, creates: 0, czxid: m.zxid, mzxid: m.zxid, pzxid: m.zxid })
      return { err: 0, path }
    }
    case "delete": {
      if (SPECIAL.has(op.path)) return { err: Err.BADARGUMENTS }
      if (!m.nodes.has(parentOf(op.path))) return { err: Err.NONODE }
      if (parentOf(op.path) === READ_ONLY) return { err: Err.NOAUTH }
      const node = m.nodes.get(op.path)
      if (node === undefined) return { err: Err.NONODE }
      if (!versionOk(op.version, node.version)) return { err: Err.BADVERSION }
      if (m.childCount(op.path) > 0) return { err: Err.NOTEMPTY }
      m.remove(op.path)
      return { err: 0 }
    }
    case "setData":
    case "check": {
      const node = m.nodes.get(op.path)
      if (node === undefined) return { err: Err.NONODE }
      if (op.type === "setData" && op.path === READ_ONLY) return { err: Err.NOAUTH }
      if (!versionOk(op.version, node.version)) return { err: Err.BADVERSION }
      if (op.type === "setData") {
        node.version++
        node.mzxid = m.zxid
        node.data = new TextDecoder().decode(op.data)
      }
      return { err: 0 }
    }
    case "createSession":
      m.sessions.add(BigInt(m.zxid))
      return { err: 0 }
    case "closeSession": {
      if (!m.sessions.has(session)) return { err: Err.SESSIONEXPIRED }
      for (const [p, n] of [...m.nodes]) if (n.kind === "ephemeral" && n.owner === session) m.remove(p)
      m.sessions.delete(session)
      return { err: 0 }
    }
    case "deleteContainer": {
      const node = m.nodes.get(op.path)
      if (node !== undefined && node.kind === "container" && node.creates > 0 && m.childCount(op.path) === 0) m.remove(op.path)
      return { err: 0 }
    }
    default:
      throw new Error(`the model does not cover ${op.type}`)
  }
}

// ---------------------------------------------------------------------------------------------
// Commands are generated as specs (indexes, not paths) and resolved against the model when they
// run, so they stay meaningful whatever ran before them.

type Version = "any" | "right" | "wrong"
type Spec =
  | { readonly k: "create"; readonly parent: number; readonly name: (typeof NAMES)[number]; readonly mode: CreateMode; readonly data: string }
  | { readonly k: "delete"; readonly pick: number; readonly ver: Version }
  | { readonly k: "setData"; readonly pick: number; readonly ver: Version; readonly data: string }
  | { readonly k: "check"; readonly pick: number; readonly ver: Version }

function resolveSession(m: Model, pick: number): SessionId {
  const live = [...m.sessions].sort((a, b) => (a < b ? -1 : 1))
  if (pick === 0) return 0n
  if (pick === 1 || live.length === 0) return DEAD_SESSION
  return live[pick % live.length]!
}

/** Even picks choose an existing node, odd ones anything (so NONODE and friends come up too). */
function pickPath(m: Model, i: number): string {
  const from = i % 2 === 0 ? m.existing() : m.candidates()
  return from[(i >> 1) % from.length]!
}

function resolve(m: Model, s: Spec): TxnOp {
  const pick = (i: number) => pickPath(m, i)
  const version = (path: string, ver: Version) => {
    const v = m.nodes.get(path)?.version ?? 0
    return ver === "any" ? -1 : ver === "right" ? v : v + 1
  }
  switch (s.k) {
    case "create":
      return createOp(childPath(pick(s.parent), s.name), {
        mode: s.mode,
        data: s.data,
        ttl: s.mode === CreateMode.PERSISTENT_WITH_TTL ? 1e9 : 0,
      })
    case "delete": {
      const path = pick(s.pick)
      return { type: "delete", path, version: version(path, s.ver) }
    }
    case "setData": {
      const path = pick(s.pick)
      return { type: "setData", path, data: bytes(s.data), version: version(path, s.ver) }
    }
    case "check": {
      const path = pick(s.pick)
      return { type: "check", path, version: version(path, s.ver) }
    }
  }
}

class Real {
  constructor(public h: Harness) {}
}

/** How often each error code came up, to show the runs exercise the rules. */
const seen = new Map<number, number>()

/** Run `op` on both sides and compare answers (and what `validate` foresaw). */
function step(m: Model, r: Real, op: TxnOp, session: SessionId): void {
  const txn = r.h.txn(op, { session })
  const foreseen = r.h.tree.validate(txn)
  m.zxid++
  r.h.zxid++
  expect(r.h.zxid).toBe(m.zxid)
  const { result } = r.h.tree.apply(txn, r.h.zxid)
  expect(foreseen, "validate disagrees with apply").toBe(result.err)
  seen.set(result.err, (seen.get(result.err) ?? 0) + 1)
  if (op.type === "multi") checkMulti(m, op.ops, session, result)
  else {
    const expected = predict(m, op, session)
    expect(result.err, `${op.type} ${"path" in op ? op.path : ""}`).toBe(expected.err)
    if (expected.path !== undefined) expect(result).toMatchObject({ type: "create", path: expected.path })
  }
  compare(m, r)
}

function checkMulti(m: Model, ops: readonly TxnOp[], session: SessionId, result: OpResult): void {
  const trial = m.clone()
  const predicted = ops.map(() => ({ err: Err.RUNTIMEINCONSISTENCY as number, path: undefined as string | undefined }))
  let failedAt = -1
  for (const [i, op] of ops.entries()) {
    const p = predict(trial, op, session)
    predicted[i] = { err: p.err, path: p.path }
    if (p.err !== 0) {
      failedAt = i
      break
    }
  }
  if (failedAt === -1) {
    m.nodes = trial.nodes
    expect(result).toMatchObject({ type: "multi", err: 0 })
    const results = (result as Extract<OpResult, { type: "multi" }>).results
    expect(results.map((x) => x.type)).toEqual(ops.map((o) => o.type))
    results.forEach((x, i) => x.type === "create" && expect(x.path).toBe(predicted[i]!.path))
  } else {
    expect(result).toEqual({
      type: "multi",
      err: predicted[failedAt]!.err,
      results: ops.map((_, i) => ({ type: "error", err: i < failedAt ? 0 : i === failedAt ? predicted[i]!.err : Err.RUNTIMEINCONSISTENCY })),
    })
  }
}

function compare(m: Model, r: Real): void {
  const t = r.h.tree
  const paths = [...t.entries()].map(([p]) => p).sort()
  expect(paths).toEqual([...m.nodes.keys()].sort())
  for (const p of paths) {
    const node = t.node(p)!
    const mn = m.nodes.get(p)!
    const stat = t.exists(p)!
    expect(new TextDecoder().decode(node.data), p).toBe(mn.data)
    expect(stat.version, p).toBe(mn.version)
    expect(node.cversion, p).toBe(mn.creates)
    expect([stat.czxid, stat.mzxid, stat.pzxid], p).toEqual([mn.czxid, mn.mzxid, mn.pzxid])
    expect(stat.numChildren, p).toBe(m.childCount(p))
    expect(nodeKind(node.ephemeralOwner), p).toBe(mn.kind)
    expect(stat.ephemeralOwner, p).toBe(mn.kind === "ephemeral" ? mn.owner : 0n)
  }
  expect(t.sessions().map((s) => s.id)).toEqual([...m.sessions].sort((a, b) => (a < b ? -1 : 1)))
  expect(checkTreeInvariants(t)).toEqual([])
}

class OpCommand implements fc.Command<Model, Real> {
  constructor(
    readonly spec: Spec,
    readonly sess: number,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    step(m, r, resolve(m, this.spec), resolveSession(m, this.sess))
  }
  toString = () => `${JSON.stringify(this.spec)} as session#${this.sess}`
}

class MultiCommand implements fc.Command<Model, Real> {
  constructor(
    readonly specs: readonly Spec[],
    readonly sess: number,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    // Sub-ops resolve against the model before the multi: paths a sequential create inside
    // will produce are not known yet, exactly as for a client.
    step(m, r, { type: "multi", ops: this.specs.map((s) => resolve(m, s)) }, resolveSession(m, this.sess))
  }
  toString = () => `multi ${JSON.stringify(this.specs)} as session#${this.sess}`
}

class SessionCommand implements fc.Command<Model, Real> {
  constructor(
    readonly open: boolean,
    readonly sess: number,
  ) {}
  check = () => true
  run(m: Model, r: Real): void {
    if (this.open) step(m, r, { type: "createSession", timeoutMs: 5000, passwd: new Uint8Array(16) }, 0n)
    else step(m, r, { type: "closeSession", expired: this.sess % 2 === 0 }, resolveSession(m, this.sess))
  }
  toString = () => (this.open ? "createSession" : `closeSession session#${this.sess}`)
}

class CollectCommand implements fc.Command<Model, Real> {
  constructor(readonly pick: number) {}
  check = () => true
  run(m: Model, r: Real): void {
    step(m, r, { type: "deleteContainer", path: pickPath(m, this.pick) }, 0n)
  }
  toString = () => `deleteContainer #${this.pick}`
}

class SnapshotCommand implements fc.Command<Model, Real> {
  check = () => true
  run(m: Model, r: Real): void {
    const bytes = r.h.tree.serialize()
    const restored = DataTree.deserialize(bytes)
    expect(restored.digest()).toBe(r.h.tree.digest())
    expect(restored.serialize()).toEqual(bytes)
    r.h = new Harness(restored)
    compare(m, r)
  }
  toString = () => "snapshot round trip"
}

const pick = fc.nat({ max: 1000 })
const sess = fc.nat({ max: 6 })
const ver = fc.constantFrom<Version>("any", "right", "right", "wrong")
const data = fc.string({ maxLength: 3 })
const mode = fc.constantFrom<CreateMode>(
  CreateMode.PERSISTENT,
  CreateMode.PERSISTENT,
  CreateMode.EPHEMERAL,
  CreateMode.PERSISTENT_SEQUENTIAL,
  CreateMode.EPHEMERAL_SEQUENTIAL,
  CreateMode.CONTAINER,
  CreateMode.PERSISTENT_WITH_TTL,
)
const spec: fc.Arbitrary<Spec> = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant("create" as const), parent: pick, name: fc.constantFrom(...NAMES), mode, data }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant("delete" as const), pick, ver }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant("setData" as const), pick, ver, data }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant("check" as const), pick, ver }), weight: 1 },
)
const commands = fc.commands(
  [
    fc.tuple(spec.filter((s) => s.k !== "check"), sess).map(([s, x]) => new OpCommand(s, x)),
    fc.tuple(fc.array(spec, { minLength: 1, maxLength: 4 }), sess).map(([s, x]) => new MultiCommand(s, x)),
    fc.constant(new SessionCommand(true, 0)),
    sess.map((x) => new SessionCommand(false, x)),
    pick.map((p) => new CollectCommand(p)),
    fc.constant(new SnapshotCommand()),
  ],
  { maxCommands: 80, size: "large" },
)

describe("DataTree against a naive model", () => {
  it("agrees after every command", () => {
    let nodes = 0
    fc.assert(
      fc.property(commands, (cmds) => {
        const m = new Model()
        const r = new Real(new Harness())
        fc.modelRun(() => ({ model: m, real: r }), cmds)
        nodes += r.h.tree.nodeCount - 4
      }),
      { numRuns: 250 },
    )
    // Not vacuous: runs build trees, and every rule the model knows answers at some point.
    expect(nodes).toBeGreaterThan(200)
    for (const code of [
      Err.OK,
      Err.NONODE,
      Err.NODEEXISTS,
      Err.BADVERSION,
      Err.NOTEMPTY,
      Err.NOCHILDRENFOREPHEMERALS,
      Err.SESSIONEXPIRED,
      Err.BADARGUMENTS,
    ]) {
      expect(seen.get(code) ?? 0, errName(code)).toBeGreaterThan(20)
    }
  })
})
