import { describe, expect, it } from "vitest"
import {
  CONTAINER_OWNER,
  CreateMode,
  DataTree,
  DecodeError,
  Err,
  EventType,
  MAX_TTL,
  Perms,
  READ_ACL_UNSAFE,
  checkTreeInvariants,
  containersToDelete,
  digestId,
  ttlOwner,
  type ACL,
  type Id,
  type OpResult,
  type TxnOp,
} from "../../core/coordination/index.ts"
import { Harness, bytes, createOp } from "./helpers.ts"

const alice: Id = { scheme: "digest", id: digestId("alice:secret") }
const bob: Id = { scheme: "digest", id: digestId("bob:pw") }
const only = (perms: number, id: Id): ACL[] => [{ perms, id }]
const del = (path: string, version = -1): TxnOp => ({ type: "delete", path, version })
const set = (path: string, data: string, version = -1): TxnOp => ({ type: "setData", path, data: bytes(data), version })
const check = (path: string, version: number): TxnOp => ({ type: "check", path, version })

function stat(h: Harness, path: string) {
  const s = h.tree.exists(path)
  if (s === undefined) throw new Error(`${path} does not exist`)
  return s
}

describe("a fresh tree", () => {
  it("looks like a fresh ZooKeeper: / holds /zookeeper with quota and config", () => {
    const t = DataTree.empty()
    expect(t.getChildren("/", [])).toMatchObject({ children: ["zookeeper"] })
    expect(t.getChildren("/zookeeper", [])).toMatchObject({ children: ["config", "quota"] })
    expect(t.getAllChildrenNumber("/", [])).toEqual({ count: 3 })
    expect(t.lastZxid).toBe(0)
    expect(t.nodeCount).toBe(4)
  })

  it("reports the stats ZooKeeper reports, including cversion -1 on / and -2 on /zookeeper", () => {
    const t = DataTree.empty()
    expect(t.exists("/")).toEqual({
      czxid: 0, mzxid: 0, ctime: 0, mtime: 0, version: 0, cversion: -1, aversion: 0,
      ephemeralOwner: 0n, dataLength: 0, numChildren: 1, pzxid: 0,
    })
    expect(t.exists("/zookeeper")).toMatchObject({ cversion: -2, numChildren: 2 })
    expect(t.exists("/zookeeper/config")).toMatchObject({ aversion: -1, cversion: 0 })
    expect(t.getACL("/zookeeper/config")).toMatchObject({ acl: READ_ACL_UNSAFE })
  })

  it("satisfies the invariants", () => expect(checkTreeInvariants(DataTree.empty())).toEqual([]))
})

describe("create", () => {
  it("stamps the new node and its parent as DataTree.createNode does", () => {
    const h = new Harness()
    h.create("/a")
    h.time = 5_000
    const { result, events } = h.apply(createOp("/a/b", { data: "hello" }))
    const zxid = h.zxid
    expect(result).toEqual({
      type: "create",
      err: 0,
      path: "/a/b",
      stat: {
        czxid: zxid, mzxid: zxid, ctime: 5_000, mtime: 5_000, version: 0, cversion: 0, aversion: 0,
        ephemeralOwner: 0n, dataLength: 5, numChildren: 0, pzxid: zxid,
      },
    })
    expect(stat(h, "/a")).toMatchObject({ cversion: 1, numChildren: 1, pzxid: zxid, mzxid: zxid - 1, version: 0 })
    expect(events).toEqual([
      { type: EventType.NodeCreated, path: "/a/b", zxid },
      { type: EventType.NodeChildrenChanged, path: "/a", zxid },
    ])
    expect(h.tree.getData("/a/b", [])).toEqual({ data: bytes("hello"), stat: stat(h, "/a/b") })
  })

  it("announces a root child's parent as /", () => {
    const h = new Harness()
    expect(h.apply(createOp("/x")).events[1]).toMatchObject({ type: EventType.NodeChildrenChanged, path: "/" })
  })

  it("appends the parent's creation counter to sequential nodes, before bumping it", () => {
    const h = new Harness()
    h.create("/q")
    expect(h.create("/q/job-", { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe("/q/job-0000000000")
    expect(h.create("/q/job-", { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe("/q/job-0000000001")
    h.create("/q/other")
    // Deleting does not reuse numbers: the counter counts creations.
    expect(h.err(del("/q/job-0000000001"))).toBe(0)
    expect(h.create("/q/", { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe("/q/0000000003")
    // Clients see creations plus deletions: 4 created, 1 deleted.
    expect(stat(h, "/q")).toMatchObject({ cversion: 5, numChildren: 3 })
  })

  it("numbers sequential nodes under / from the root's counter", () => {
    const h = new Harness()
    expect(h.create("/n", { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe("/n0000000000")
  })

  it("records the owner of ephemerals, containers and TTL nodes, showing clients only sessions", () => {
    const h = new Harness()
    const s = h.session()
    h.create("/e", { mode: CreateMode.EPHEMERAL }, { session: s })
    const es = h.create("/es-", { mode: CreateMode.EPHEMERAL_SEQUENTIAL }, { session: s })
    h.create("/c", { mode: CreateMode.CONTAINER })
    h.create("/t", { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 1000 })
    const ts = h.create("/ts-", { mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl: 7 })
    expect(stat(h, "/e").ephemeralOwner).toBe(s)
    expect(stat(h, es).ephemeralOwner).toBe(s)
    expect(h.tree.node("/c")!.ephemeralOwner).toBe(CONTAINER_OWNER)
    expect(h.tree.node("/t")!.ephemeralOwner).toBe(ttlOwner(1000))
    expect(h.tree.node(ts)!.ephemeralOwner).toBe(0xff00000000000007n)
    for (const p of ["/c", "/t", ts]) expect(stat(h, p).ephemeralOwner).toBe(0n)
    expect(h.tree.getEphemerals(s, "/")).toEqual([es, "/e"].sort())
  })

  it("stores the requester's digest ids for an auth ACL", () => {
    const h = new Harness()
    h.create("/mine", { acl: [{ perms: Perms.ALL, id: { scheme: "auth", id: "" } }] }, { auth: [{ scheme: "ip", id: "1.2.3.4" }, alice] })
    expect(h.tree.getACL("/mine")).toMatchObject({ acl: only(Perms.ALL, alice) })
  })

  it.each<[string, (h: Harness) => number, number]>([
    ["missing parent", (h) => h.err(createOp("/nope/x")), Err.NONODE],
    ["existing node", (h) => (h.create("/a"), h.err(createOp("/a"))), Err.NODEEXISTS],
    ["/ itself (it exists)", (h) => h.err(createOp("/")), Err.NODEEXISTS],
    ["trailing slash", (h) => (h.create("/a"), h.err(createOp("/a/"))), Err.BADARGUMENTS],
    ["relative path", (h) => h.err(createOp("a")), Err.BADARGUMENTS],
    ["empty path", (h) => h.err(createOp("")), Err.BADARGUMENTS],
    ["null character", (h) => h.err(createOp("/a\0b")), Err.BADARGUMENTS],
    ["dot segment", (h) => h.err(createOp("/.")), Err.BADARGUMENTS],
    ["unknown mode", (h) => h.err(createOp("/a", { mode: 7 as CreateMode })), Err.BADARGUMENTS],
    ["ttl on a non-TTL mode", (h) => h.err(createOp("/a", { ttl: 5 })), Err.BADARGUMENTS],
    ["TTL mode with ttl 0", (h) => h.err(createOp("/a", { mode: CreateMode.PERSISTENT_WITH_TTL })), Err.BADARGUMENTS],
    ["TTL mode with a negative ttl", (h) => h.err(createOp("/a", { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: -1 })), Err.BADARGUMENTS],
    ["TTL above 2^40-1", (h) => h.err(createOp("/a", { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: MAX_TTL + 1 })), Err.BADARGUMENTS],
    ["TTL at 2^40-1", (h) => h.err(createOp("/a", { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: MAX_TTL })), Err.OK],
    ["empty ACL", (h) => h.err(createOp("/a", { acl: [] })), Err.INVALIDACL],
    ["auth ACL without credentials", (h) => h.err(createOp("/a", { acl: [{ perms: 31, id: { scheme: "auth", id: "" } }] })), Err.INVALIDACL],
    ["malformed digest id", (h) => h.err(createOp("/a", { acl: only(31, { scheme: "digest", id: "nohash" }) })), Err.INVALIDACL],
    ["ephemeral without a session", (h) => h.err(createOp("/a", { mode: CreateMode.EPHEMERAL })), Err.SESSIONEXPIRED],
    ["ephemeral of a closed session", (h) => {
      const s = h.session()
      h.apply({ type: "closeSession", expired: false }, { session: s })
      return h.err(createOp("/a", { mode: CreateMode.EPHEMERAL_SEQUENTIAL }), { session: s })
    }, Err.SESSIONEXPIRED],
    ["child of an ephemeral", (h) => {
      const s = h.session()
      h.create("/e", { mode: CreateMode.EPHEMERAL }, { session: s })
      return h.err(createOp("/e/c"), { session: s })
    }, Err.NOCHILDRENFOREPHEMERALS],
    ["existing child of an ephemeral (NODEEXISTS is checked first)", (h) => {
      const s = h.session()
      h.create("/e", { mode: CreateMode.EPHEMERAL }, { session: s })
      return h.err(createOp("/e"), { session: s })
    }, Err.NODEEXISTS],
    ["child of a container", (h) => (h.create("/c", { mode: CreateMode.CONTAINER }), h.err(createOp("/c/x"))), Err.OK],
    ["child of a TTL node", (h) => (h.create("/t", { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 9 }), h.err(createOp("/t/x"))), Err.OK],
    ["without CREATE on the parent", (h) => (h.create("/p", { acl: only(Perms.ALL & ~Perms.CREATE, { scheme: "world", id: "anyone" }) }), h.err(createOp("/p/x"))), Err.NOAUTH],
    ["missing parent beats a bad ACL? no: INVALIDACL is checked first", (h) => h.err(createOp("/nope/x", { acl: [] })), Err.INVALIDACL],
  ])("%s", (_name, run, expected) => expect(run(new Harness())).toBe(expected))
})

describe("delete", () => {
  it("removes the node and moves the parent's pzxid and client cversion", () => {
    const h = new Harness()
    h.create("/a")
    h.create("/a/b")
    const before = stat(h, "/a")
    const { result, events } = h.apply(del("/a/b", 0))
    expect(result).toEqual({ type: "delete", err: 0 })
    expect(h.tree.exists("/a/b")).toBeUndefined()
    expect(stat(h, "/a")).toMatchObject({ cversion: before.cversion + 1, pzxid: h.zxid, numChildren: 0, mzxid: before.mzxid })
    expect(events).toEqual([
      { type: EventType.NodeDeleted, path: "/a/b", zxid: h.zxid },
      { type: EventType.NodeChildrenChanged, path: "/a", zxid: h.zxid },
    ])
  })

  it.each<[string, (h: Harness) => number, number]>([
    ["missing node", (h) => h.err(del("/nope")), Err.NONODE],
    ["missing parent", (h) => h.err(del("/nope/x")), Err.NONODE],
    ["wrong version", (h) => (h.create("/a"), h.err(del("/a", 3))), Err.BADVERSION],
    ["children", (h) => (h.create("/a"), h.create("/a/b"), h.err(del("/a"))), Err.NOTEMPTY],
    ["children and a wrong version (version is checked first)", (h) => (h.create("/a"), h.create("/a/b"), h.err(del("/a", 9))), Err.BADVERSION],
    ["/", (h) => h.err(del("/")), Err.BADARGUMENTS],
    ["/zookeeper", (h) => h.err(del("/zookeeper")), Err.BADARGUMENTS],
    ["/zookeeper/quota", (h) => h.err(del("/zookeeper/quota")), Err.BADARGUMENTS],
    ["/zookeeper/config", (h) => h.err(del("/zookeeper/config")), Err.BADARGUMENTS],
    ["no slash", (h) => h.err(del("a")), Err.BADARGUMENTS],
    ["without DELETE on the parent", (h) => (h.create("/p", { acl: only(Perms.ALL & ~Perms.DELETE, { scheme: "world", id: "anyone" }) }), h.create("/p/x"), h.err(del("/p/x"))), Err.NOAUTH],
    ["without DELETE on the parent, missing child (the ACL is checked first)", (h) => (h.create("/p", { acl: only(Perms.READ, { scheme: "world", id: "anyone" }) }), h.err(del("/p/x"))), Err.NOAUTH],
    ["DELETE on the node itself is not needed", (h) => (h.create("/x", { acl: only(Perms.READ, { scheme: "world", id: "anyone" }) }), h.err(del("/x"))), Err.OK],
  ])("%s", (_name, run, expected) => expect(run(new Harness())).toBe(expected))
})

describe("setData, setACL and check", () => {
  it("setData bumps version, mzxid and mtime and announces NodeDataChanged", () => {
    const h = new Harness()
    h.create("/a", { data: "x" })
    const created = stat(h, "/a")
    h.time += 10
    const { result, events } = h.apply(set("/a", "hello", 0))
    expect(result).toEqual({ type: "setData", err: 0, stat: { ...created, version: 1, mzxid: h.zxid, mtime: h.time, dataLength: 5 } })
    expect(events).toEqual([{ type: EventType.NodeDataChanged, path: "/a", zxid: h.zxid }])
    expect(h.err(set("/a", "again", 0))).toBe(Err.BADVERSION)
    expect(h.err(set("/a", "again", -1))).toBe(Err.OK)
    expect(stat(h, "/a").version).toBe(2)
  })

  it("setACL bumps aversion only, announces nothing, and stores the fixed-up ACL", () => {
    const h = new Harness()
    h.create("/a")
    const before = stat(h, "/a")
    const { result, events } = h.apply({ type: "setACL", path: "/a", acl: only(Perms.ALL, alice), version: 0 })
    expect(result).toEqual({ type: "setACL", err: 0, stat: { ...before, aversion: 1 } })
    expect(events).toEqual([])
    expect(h.tree.getACL("/a")).toMatchObject({ acl: only(Perms.ALL, alice) })
    expect(h.err({ type: "setACL", path: "/a", acl: only(Perms.ALL, alice), version: 0 }, { auth: [alice] })).toBe(Err.BADVERSION)
    expect(h.err({ type: "setACL", path: "/a", acl: [], version: -1 }, { auth: [alice] })).toBe(Err.INVALIDACL)
    expect(h.err({ type: "setACL", path: "/a", acl: only(Perms.ALL, bob), version: -1 }, { auth: [bob] })).toBe(Err.NOAUTH)
    expect(h.err({ type: "setACL", path: "/nope", acl: only(Perms.ALL, bob), version: -1 })).toBe(Err.NONODE)
  })

  it.each<[string, (h: Harness) => number, number]>([
    ["setData on a missing node", (h) => h.err(set("/nope", "")), Err.NONODE],
    ["setData on a bad path", (h) => h.err(set("/a/", "")), Err.BADARGUMENTS],
    ["setData without WRITE", (h) => (h.create("/r", { acl: only(Perms.ALL & ~Perms.WRITE, { scheme: "world", id: "anyone" }) }), h.err(set("/r", "x"))), Err.NOAUTH],
    ["setData on /zookeeper/config (read-only)", (h) => h.err(set("/zookeeper/config", "x")), Err.NOAUTH],
    ["setData with the right digest", (h) => (h.create("/r", { acl: only(Perms.WRITE, alice) }), h.err(set("/r", "x"), { auth: [alice] })), Err.OK],
    ["setData by a super user", (h) => (h.create("/r", { acl: only(Perms.READ, alice) }), h.err(set("/r", "x"), { auth: [{ scheme: "super", id: "" }] })), Err.OK],
    ["check passes", (h) => (h.create("/a"), h.err(check("/a", 0))), Err.OK],
    ["check with any version", (h) => (h.create("/a"), h.err(check("/a", -1))), Err.OK],
    ["check with a wrong version", (h) => (h.create("/a"), h.err(check("/a", 1))), Err.BADVERSION],
    ["check on a missing node", (h) => h.err(check("/nope", 0)), Err.NONODE],
    ["check needs READ", (h) => (h.create("/r", { acl: only(Perms.WRITE, { scheme: "world", id: "anyone" }) }), h.err(check("/r", 0))), Err.NOAUTH],
    ["sync is a no-op", (h) => h.err({ type: "sync", path: "/whatever" }), Err.OK],
  ])("%s", (_name, run, expected) => expect(run(new Harness())).toBe(expected))
})

describe("failed transactions", () => {
  it("leave the tree unchanged but still advance lastZxid", () => {
    const h = new Harness()
    h.create("/a")
    const digest = h.tree.digest()
    const { result, events } = h.apply(createOp("/a"))
    expect(result).toEqual({ type: "error", err: Err.NODEEXISTS })
    expect(events).toEqual([])
    expect(h.tree.lastZxid).toBe(h.zxid)
    // lastZxid is part of the snapshot, so compare everything else through a reread.
    expect(h.tree.exists("/a")).toEqual(DataTree.deserialize(h.tree.serialize()).exists("/a"))
    expect(h.tree.digest()).not.toBe(digest) // only because lastZxid moved
    expect(h.tree.getChildren("/", [])).toMatchObject({ children: ["a", "zookeeper"] })
  })

  it("apply refuses zxids that do not increase", () => {
    const h = new Harness()
    h.create("/a")
    expect(() => h.tree.apply(h.txn(createOp("/b")), h.zxid)).toThrow(/zxid/)
  })
})

describe("multi", () => {
  it("applies every op in order, later ops seeing earlier ones", () => {
    const h = new Harness()
    const { result, events } = h.apply({
      type: "multi",
      ops: [createOp("/m"), createOp("/m/s-", { mode: CreateMode.PERSISTENT_SEQUENTIAL }), set("/m", "v", 0), check("/m", 1), createOp("/m/s-", { mode: CreateMode.PERSISTENT_SEQUENTIAL })],
    })
    expect(result.err).toBe(0)
    const results = (result as Extract<OpResult, { type: "multi" }>).results
    expect(results.map((r) => r.type)).toEqual(["create", "create", "setData", "check", "create"])
    expect(results.map((r) => (r.type === "create" ? r.path : undefined))).toEqual(["/m", "/m/s-0000000000", undefined, undefined, "/m/s-0000000001"])
    expect(events.map((e) => [e.type, e.path])).toEqual([
      [EventType.NodeCreated, "/m"],
      [EventType.NodeChildrenChanged, "/"],
      [EventType.NodeCreated, "/m/s-0000000000"],
      [EventType.NodeChildrenChanged, "/m"],
      [EventType.NodeDataChanged, "/m"],
      [EventType.NodeCreated, "/m/s-0000000001"],
      [EventType.NodeChildrenChanged, "/m"],
    ])
    expect(events.every((e) => e.zxid === h.zxid)).toBe(true)
  })

  it("is all or nothing: the failing op gets its error, earlier ones 0, later ones RUNTIMEINCONSISTENCY", () => {
    const h = new Harness()
    h.create("/a", { data: "keep" })
    const s = h.session()
    h.create("/a/e", { mode: CreateMode.EPHEMERAL }, { session: s })
    const before = DataTree.deserialize(h.tree.serialize())
    const { result, events } = h.apply({
      type: "multi",
      ops: [createOp("/b"), set("/a", "changed"), del("/a/e"), check("/a", 0), createOp("/c")],
    })
    expect(result).toEqual({
      type: "multi",
      err: Err.BADVERSION,
      results: [
        { type: "error", err: 0 },
        { type: "error", err: 0 },
        { type: "error", err: 0 },
        { type: "error", err: Err.BADVERSION },
        { type: "error", err: Err.RUNTIMEINCONSISTENCY },
      ],
    })
    expect(events).toEqual([])
    for (const p of ["/", "/a", "/a/e", "/b", "/c"]) expect(h.tree.exists(p)).toEqual(before.exists(p))
    expect(h.tree.getData("/a", [])).toMatchObject({ data: bytes("keep") })
    expect(h.tree.getEphemerals(s, "/")).toEqual(["/a/e"])
    expect(checkTreeInvariants(h.tree)).toEqual([])
  })

  it("rolls back a sequential create so the counter is not consumed", () => {
    const h = new Harness()
    h.create("/q")
    h.apply({ type: "multi", ops: [createOp("/q/x-", { mode: CreateMode.PERSISTENT_SEQUENTIAL }), del("/nope")] })
    expect(h.create("/q/x-", { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toBe("/q/x-0000000000")
  })

  it("accepts only create, delete, setData and check inside", () => {
    const h = new Harness()
    h.create("/a")
    for (const op of [
      { type: "setACL", path: "/a", acl: only(31, alice), version: -1 },
      { type: "sync", path: "/a" },
      { type: "multi", ops: [] },
      { type: "closeSession", expired: false },
    ] as TxnOp[]) {
      const r = h.apply({ type: "multi", ops: [check("/a", 0), op] }).result
      expect(r).toMatchObject({ err: Err.BADARGUMENTS, results: [{ err: 0 }, { err: Err.BADARGUMENTS }] })
    }
  })

  it("an empty multi succeeds with no results", () => {
    expect(new Harness().apply({ type: "multi", ops: [] }).result).toEqual({ type: "multi", err: 0, results: [] })
  })
})

describe("sessions", () => {
  it("createSession derives the id from the zxid and remembers timeout and password", () => {
    const h = new Harness()
    h.create("/a")
    const passwd = new Uint8Array([1, 2, 3])
    const { result } = h.apply({ type: "createSession", timeoutMs: 4000, passwd })
    expect(result).toEqual({ type: "createSession", err: 0, sessionId: BigInt(h.zxid), timeoutMs: 4000, passwd })
    expect(h.tree.session(BigInt(h.zxid))).toEqual({ id: BigInt(h.zxid), timeoutMs: 4000, passwd })
    expect(h.tree.sessions().map((s) => s.id)).toEqual([BigInt(h.zxid)])
  })

  it("closeSession deletes the session's ephemerals in path order, then forgets it", () => {
    const h = new Harness()
    const s = h.session()
    const other = h.session()
    h.create("/p")
    for (const p of ["/p/z", "/p/a", "/m"]) h.create(p, { mode: CreateMode.EPHEMERAL }, { session: s })
    h.create("/p/o", { mode: CreateMode.EPHEMERAL }, { session: other })
    const { result, events } = h.apply({ type: "closeSession", expired: true }, { session: s })
    expect(result).toEqual({ type: "closeSession", err: 0 })
    expect(events.map((e) => [e.type, e.path])).toEqual([
      [EventType.NodeDeleted, "/m"],
      [EventType.NodeChildrenChanged, "/"],
      [EventType.NodeDeleted, "/p/a"],
      [EventType.NodeChildrenChanged, "/p"],
      [EventType.NodeDeleted, "/p/z"],
      [EventType.NodeChildrenChanged, "/p"],
    ])
    expect(h.tree.session(s)).toBeUndefined()
    expect(h.tree.getEphemerals(s, "/")).toEqual([])
    expect(h.tree.getChildren("/p", [])).toMatchObject({ children: ["o"] })
    expect(stat(h, "/p").pzxid).toBe(h.zxid)
    expect(h.err({ type: "closeSession", expired: false }, { session: s })).toBe(Err.SESSIONEXPIRED)
    expect(checkTreeInvariants(h.tree)).toEqual([])
  })

  it("getEphemerals filters by plain string prefix", () => {
    const h = new Harness()
    const s = h.session()
    h.create("/app")
    for (const p of ["/app/a", "/app/b", "/apple", "/x"]) h.create(p, { mode: CreateMode.EPHEMERAL }, { session: s })
    expect(h.tree.getEphemerals(s, "/app")).toEqual(["/app/a", "/app/b", "/apple"])
    expect(h.tree.getEphemerals(s, "/app/")).toEqual(["/app/a", "/app/b"])
    expect(h.tree.getEphemerals(s, "")).toEqual(["/app/a", "/app/b", "/apple", "/x"])
    expect(h.tree.getEphemerals(s, " / ")).toEqual(["/app/a", "/app/b", "/apple", "/x"])
    expect(h.tree.getEphemerals(999n, "/")).toEqual([])
  })
})

describe("containers and TTL nodes", () => {
  const dc = (path: string): TxnOp => ({ type: "deleteContainer", path })

  it("an empty container is collected only once it has had a child", () => {
    const h = new Harness()
    h.create("/c", { mode: CreateMode.CONTAINER })
    expect(containersToDelete(h.tree, h.time)).toEqual([])
    expect(h.apply(dc("/c"))).toEqual({ result: { type: "deleteContainer", err: 0 }, events: [] })
    expect(h.tree.exists("/c")).toBeDefined()
    h.create("/c/x")
    expect(containersToDelete(h.tree, h.time)).toEqual([])
    expect(h.err(del("/c/x"))).toBe(0)
    expect(containersToDelete(h.tree, h.time)).toEqual(["/c"])
    const { result, events } = h.apply(dc("/c"))
    expect(result).toEqual({ type: "deleteContainer", err: 0 })
    expect(events.map((e) => [e.type, e.path])).toEqual([[EventType.NodeDeleted, "/c"], [EventType.NodeChildrenChanged, "/"]])
    expect(h.tree.exists("/c")).toBeUndefined()
  })

  it("a TTL node is collected once empty and unmodified for longer than its ttl", () => {
    const h = new Harness()
    h.create("/t", { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 100 })
    const created = h.time
    expect(containersToDelete(h.tree, created + 100)).toEqual([])
    expect(containersToDelete(h.tree, created + 101)).toEqual(["/t"])
    h.time = created + 50
    h.apply(set("/t", "touch"))
    expect(containersToDelete(h.tree, created + 101)).toEqual([])
    // apply re-checks at the transaction's own time.
    expect(h.apply(dc("/t"), { time: created + 120 }).events).toEqual([])
    expect(h.tree.exists("/t")).toBeDefined()
    h.create("/t/child")
    expect(containersToDelete(h.tree, created + 10_000)).toEqual([])
    h.apply(del("/t/child"))
    expect(h.apply(dc("/t"), { time: created + 151 }).events).toHaveLength(2)
    expect(h.tree.exists("/t")).toBeUndefined()
  })

  it("deleteContainer leaves anything else alone", () => {
    const h = new Harness()
    h.create("/p")
    h.create("/q")
    h.create("/q/x")
    h.apply(del("/q/x"))
    const s = h.session()
    h.create("/e", { mode: CreateMode.EPHEMERAL }, { session: s })
    const before = h.tree.nodeCount
    for (const p of ["/p", "/q", "/e", "/nope", "/", "/zookeeper", "bad"]) {
      expect(h.apply(dc(p), { time: h.time + 1e9 })).toEqual({ result: { type: "deleteContainer", err: 0 }, events: [] })
    }
    expect(h.tree.nodeCount).toBe(before)
  })
})

describe("reads", () => {
  it("check READ (getData, getChildren, getAllChildrenNumber) and nothing for exists", () => {
    const h = new Harness()
    h.create("/secret", { data: "s", acl: [{ perms: Perms.READ, id: alice }, { perms: Perms.CREATE, id: bob }] })
    h.create("/secret/x", {}, { auth: [bob] })
    expect(h.tree.getData("/secret", [])).toEqual({ err: Err.NOAUTH })
    expect(h.tree.getData("/secret", [bob])).toEqual({ err: Err.NOAUTH })
    expect(h.tree.getData("/secret", [alice])).toMatchObject({ data: bytes("s") })
    expect(h.tree.getChildren("/secret", [])).toEqual({ err: Err.NOAUTH })
    expect(h.tree.getChildren("/secret", [alice])).toMatchObject({ children: ["x"] })
    expect(h.tree.getAllChildrenNumber("/secret", [])).toEqual({ err: Err.NOAUTH })
    expect(h.tree.getAllChildrenNumber("/secret", [alice])).toEqual({ count: 1 })
    expect(h.tree.exists("/secret")).toBeDefined()
    expect(h.tree.getData("/nope", [])).toEqual({ err: Err.NONODE })
    expect(h.tree.getChildren("/nope", [])).toEqual({ err: Err.NONODE })
  })

  it("getACL needs READ or ADMIN, and hides digest hashes from non-admins", () => {
    const h = new Harness()
    const acl = [{ perms: Perms.READ, id: bob }, { perms: Perms.ADMIN, id: alice }]
    h.create("/a", { acl })
    expect(h.tree.getACL("/a", [])).toEqual({ err: Err.NOAUTH })
    expect(h.tree.getACL("/a", [alice])).toMatchObject({ acl })
    expect(h.tree.getACL("/a", [bob])).toMatchObject({
      acl: [{ perms: Perms.READ, id: { scheme: "digest", id: "bob:x" } }, { perms: Perms.ADMIN, id: { scheme: "digest", id: "alice:x" } }],
    })
    expect(h.tree.getACL("/nope", [alice])).toEqual({ err: Err.NONODE })
  })

  it("getChildren is sorted; getAllChildrenNumber counts every descendant", () => {
    const h = new Harness()
    for (const p of ["/r", "/r/b", "/r/a", "/r/c", "/r/a/1", "/r/a/1/2"]) h.create(p)
    expect(h.tree.getChildren("/r", [])).toMatchObject({ children: ["a", "b", "c"] })
    expect(h.tree.getAllChildrenNumber("/r", [])).toEqual({ count: 5 })
    expect(h.tree.getAllChildrenNumber("/", [])).toEqual({ count: 9 })
  })
})

describe("validate", () => {
  it("answers what apply would, without changing anything", () => {
    const h = new Harness()
    const s = h.session()
    h.create("/a")
    h.create("/a/e", { mode: CreateMode.EPHEMERAL }, { session: s })
    const cases: Array<[TxnOp, bigint]> = [
      [createOp("/a"), 0n],
      [createOp("/b"), 0n],
      [createOp("/a/e/x"), s],
      [del("/a"), 0n],
      [set("/a", "x", 4), 0n],
      [{ type: "multi", ops: [createOp("/m"), createOp("/m/n"), del("/m/n"), del("/m", 7)] }, 0n],
      [{ type: "multi", ops: [createOp("/m"), createOp("/m/n")] }, 0n],
      [{ type: "closeSession", expired: false }, s],
      [{ type: "createSession", timeoutMs: 10, passwd: new Uint8Array() }, 0n],
      [{ type: "deleteContainer", path: "/a" }, 0n],
    ]
    for (const [op, session] of cases) {
      const digest = h.tree.digest()
      const txn = h.txn(op, { session })
      const expected = DataTree.deserialize(h.tree.serialize()).apply(txn, h.zxid + 1).result.err
      expect(h.tree.validate(txn)).toBe(expected)
      expect(h.tree.digest()).toBe(digest)
    }
    expect(checkTreeInvariants(h.tree)).toEqual([])
  })
})

describe("snapshots", () => {
  function busyTree(): Harness {
    const h = new Harness()
    const s = h.session(12_345)
    h.create("/a", { data: "α" })
    h.create("/a/b", { acl: [{ perms: Perms.READ, id: alice }, { perms: Perms.ALL, id: { scheme: "ip", id: "10.0.0.0/8" } }] })
    h.create("/q")
    h.create("/q/s-", { mode: CreateMode.PERSISTENT_SEQUENTIAL })
    h.create("/q/e-", { mode: CreateMode.EPHEMERAL_SEQUENTIAL }, { session: s })
    h.create("/c", { mode: CreateMode.CONTAINER })
    h.create("/t", { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 5 })
    h.apply(set("/a", "β"))
    h.apply({ type: "setACL", path: "/q", acl: only(Perms.ALL, bob), version: -1 })
    h.apply(del("/q/s-0000000000"), { auth: [bob] })
    return h
  }

  it("round-trip exactly: bytes, digest, stats, ACLs, sessions and the ephemeral index", () => {
    const h = busyTree()
    const bytes1 = h.tree.serialize()
    const copy = DataTree.deserialize(bytes1)
    expect(copy.serialize()).toEqual(bytes1)
    expect(copy.digest()).toBe(h.tree.digest())
    expect(copy.lastZxid).toBe(h.tree.lastZxid)
    expect(copy.sessions()).toEqual(h.tree.sessions())
    for (const [path] of h.tree.entries()) {
      expect(copy.exists(path)).toEqual(h.tree.exists(path))
      expect(copy.getACL(path)).toEqual(h.tree.getACL(path))
      expect(copy.node(path)).toEqual(h.tree.node(path))
    }
    const s = h.tree.sessions()[0]!.id
    expect(copy.getEphemerals(s, "/")).toEqual(h.tree.getEphemerals(s, "/"))
    expect(checkTreeInvariants(copy)).toEqual([])
    // And the copy keeps behaving the same.
    const next = h.txn({ type: "closeSession", expired: true }, { session: s })
    expect(copy.apply(next, h.zxid + 1)).toEqual(h.tree.apply(next, h.zxid + 1))
    expect(copy.digest()).toBe(h.tree.digest())
  })

  it("differ when content differs", () => {
    const a = busyTree()
    const b = busyTree()
    expect(a.tree.digest()).toBe(b.tree.digest())
    b.apply(set("/a", "γ"))
    a.apply(set("/a", "δ"))
    expect(a.tree.digest()).not.toBe(b.tree.digest())
  })

  it("reject garbage, truncation and trailing bytes with a DecodeError", () => {
    const good = busyTree().tree.serialize()
    expect(() => DataTree.deserialize(new Uint8Array())).toThrow(DecodeError)
    expect(() => DataTree.deserialize(bytes("not a snapshot"))).toThrow(DecodeError)
    for (let n = 0; n < good.length; n += 7) expect(() => DataTree.deserialize(good.subarray(0, n))).toThrow(DecodeError)
    expect(() => DataTree.deserialize(new Uint8Array([...good, 0]))).toThrow(DecodeError)
  })
})
