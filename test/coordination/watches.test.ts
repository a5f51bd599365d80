import { describe, expect, it } from "vitest"
import { CreateMode, EventType, WatchManager, type Notification, type WatchKind } from "../../core/coordination/index.ts"
import { Harness, bytes, createOp } from "./helpers.ts"

const { NodeCreated, NodeDeleted, NodeDataChanged, NodeChildrenChanged } = EventType
const ev = (type: EventType, path: string) => ({ type, path })

function fire(w: WatchManager, ...events: { type: EventType; path: string }[]): Array<[number, EventType, string]> {
  return w.trigger(events).map((n: Notification) => [n.conn, n.type, n.path])
}

describe("one-shot watches", () => {
  it("a data watch fires on created, changed or deleted, once", () => {
    for (const type of [NodeCreated, NodeDataChanged, NodeDeleted]) {
      const w = new WatchManager()
      w.add(1, "/a", "data")
      expect(fire(w, ev(type, "/a"))).toEqual([[1, type, "/a"]])
      expect(w.has(1, "/a", "data")).toBe(false)
      expect(fire(w, ev(type, "/a"))).toEqual([])
    }
  })

  it("a data watch ignores children changes and other paths", () => {
    const w = new WatchManager()
    w.add(1, "/a", "data")
    expect(fire(w, ev(NodeChildrenChanged, "/a"), ev(NodeDataChanged, "/a/b"), ev(NodeCreated, "/ab"))).toEqual([])
    expect(w.has(1, "/a", "data")).toBe(true)
  })

  it("a child watch fires on children changed or on the node's deletion, once", () => {
    for (const type of [NodeChildrenChanged, NodeDeleted]) {
      const w = new WatchManager()
      w.add(1, "/a", "child")
      expect(fire(w, ev(NodeDataChanged, "/a"), ev(NodeCreated, "/a"))).toEqual([])
      expect(fire(w, ev(type, "/a"), ev(type, "/a"))).toEqual([[1, type, "/a"]])
      expect(w.size).toBe(0)
    }
  })

  it("fires at most once per connection per event, even when set twice or by both kinds", () => {
    const w = new WatchManager()
    w.add(1, "/a", "data")
    w.add(1, "/a", "data")
    w.add(1, "/a", "child")
    w.add(2, "/a", "child")
    expect(fire(w, ev(NodeDeleted, "/a"))).toEqual([
      [1, NodeDeleted, "/a"],
      [2, NodeDeleted, "/a"],
    ])
    expect(w.size).toBe(0)
  })
})

describe("persistent watches", () => {
  it("fire for every event on the path, children changes included, and stay", () => {
    const w = new WatchManager()
    w.add(1, "/a", "persistent")
    const events = [NodeCreated, NodeDataChanged, NodeChildrenChanged, NodeDeleted, NodeCreated].map((t) => ev(t, "/a"))
    expect(fire(w, ...events)).toEqual(events.map((e) => [1, e.type, "/a"]))
    expect(fire(w, ev(NodeDataChanged, "/a/b"))).toEqual([])
    expect(w.has(1, "/a", "persistent")).toBe(true)
  })

  it("recursive ones fire for the path and all descendants but never for children changes", () => {
    const w = new WatchManager()
    w.add(1, "/a", "persistentRecursive")
    expect(
      fire(w, ev(NodeCreated, "/a"), ev(NodeCreated, "/a/b"), ev(NodeDataChanged, "/a/b/c"), ev(NodeDeleted, "/a/b"), ev(NodeChildrenChanged, "/a"), ev(NodeCreated, "/ab"), ev(NodeCreated, "/")),
    ).toEqual([
      [1, NodeCreated, "/a"],
      [1, NodeCreated, "/a/b"],
      [1, NodeDataChanged, "/a/b/c"],
      [1, NodeDeleted, "/a/b"],
    ])
    expect(w.has(1, "/a", "persistentRecursive")).toBe(true)
  })

  it("a recursive watch on / sees everything", () => {
    const w = new WatchManager()
    w.add(4, "/", "persistentRecursive")
    expect(fire(w, ev(NodeCreated, "/x/y"))).toEqual([[4, NodeCreated, "/x/y"]])
  })

  it("alongside a one-shot watch: one notification, and only the one-shot goes", () => {
    const w = new WatchManager()
    w.add(1, "/a", "persistent")
    w.add(1, "/a", "data")
    w.add(1, "/", "persistentRecursive")
    expect(fire(w, ev(NodeDataChanged, "/a"))).toEqual([[1, NodeDataChanged, "/a"]])
    expect(w.watchesOf(1)).toEqual([
      { path: "/", kind: "persistentRecursive" },
      { path: "/a", kind: "persistent" },
    ])
  })
})

describe("bookkeeping", () => {
  it("remove, has, watchesOf and removeConnection", () => {
    const w = new WatchManager()
    const kinds: WatchKind[] = ["data", "child", "persistent", "persistentRecursive"]
    for (const k of kinds) w.add(1, "/b", k)
    w.add(1, "/a", "data")
    w.add(2, "/a", "data")
    expect(w.watchesOf(1)).toEqual([{ path: "/a", kind: "data" }, ...kinds.map((kind) => ({ path: "/b", kind }))])
    expect(w.remove(1, "/b", "child")).toBe(true)
    expect(w.remove(1, "/b", "child")).toBe(false)
    expect(w.remove(3, "/b", "data")).toBe(false)
    w.removeConnection(1)
    expect(w.watchesOf(1)).toEqual([])
    expect(w.size).toBe(1)
    expect(fire(w, ev(NodeCreated, "/b/c"), ev(NodeCreated, "/a"))).toEqual([[2, NodeCreated, "/a"]])
    expect(w.size).toBe(0)
  })

  it("orders notifications by event, then connection", () => {
    const w = new WatchManager()
    for (const c of [5, 1, 3]) w.add(c, "/a", "persistent")
    w.add(2, "/a/b", "data")
    expect(fire(w, ev(NodeCreated, "/a/b"), ev(NodeChildrenChanged, "/a"))).toEqual([
      [2, NodeCreated, "/a/b"],
      [1, NodeChildrenChanged, "/a"],
      [3, NodeChildrenChanged, "/a"],
      [5, NodeChildrenChanged, "/a"],
    ])
  })
})

describe("with the tree's events", () => {
  it("exists on a missing node, getData and getChildren watches fire as in ZooKeeper", () => {
    const h = new Harness()
    const w = new WatchManager()
    w.add(1, "/a", "data") // exists("/a", watch) on a missing node
    const created = h.apply(createOp("/a")).events
    expect(w.trigger(created)).toEqual([{ conn: 1, type: NodeCreated, path: "/a" }])
    w.add(1, "/a", "data") // getData
    w.add(1, "/a", "child") // getChildren
    w.add(2, "/", "child")
    const child = h.apply(createOp("/a/b")).events
    expect(w.trigger(child)).toEqual([{ conn: 1, type: NodeChildrenChanged, path: "/a" }])
    expect(w.trigger(h.apply({ type: "setData", path: "/a", data: bytes("x"), version: -1 }).events)).toEqual([
      { conn: 1, type: NodeDataChanged, path: "/a" },
    ])
    w.add(1, "/a/b", "data")
    w.add(1, "/a", "child")
    expect(w.trigger(h.apply({ type: "delete", path: "/a/b", version: -1 }).events)).toEqual([
      { conn: 1, type: NodeDeleted, path: "/a/b" },
      { conn: 1, type: NodeChildrenChanged, path: "/a" },
    ])
    expect(w.watchesOf(1)).toEqual([])
    expect(w.watchesOf(2)).toEqual([{ path: "/", kind: "child" }])
  })

  it("setACL fires nothing; session close fires the ephemerals' watches", () => {
    const h = new Harness()
    const w = new WatchManager()
    const s = h.session()
    h.apply(createOp("/e", { mode: CreateMode.EPHEMERAL }), { session: s })
    w.add(1, "/e", "persistent")
    w.add(1, "/", "child")
    expect(w.trigger(h.apply({ type: "setACL", path: "/e", acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], version: -1 }).events)).toEqual([])
    expect(w.trigger(h.apply({ type: "closeSession", expired: true }, { session: s }).events)).toEqual([
      { conn: 1, type: NodeDeleted, path: "/e" },
      { conn: 1, type: NodeChildrenChanged, path: "/" },
    ])
  })
})

describe("restore (setWatches after a reconnect)", () => {
  it("fires what the client missed and registers the rest", () => {
    const h = new Harness()
    h.apply(createOp("/old"))
    h.apply(createOp("/kids"))
    const seen = h.zxid
    h.apply(createOp("/kids/new"))
    h.apply(createOp("/fresh"))
    h.apply({ type: "setData", path: "/fresh", data: bytes("x"), version: -1 })
    const w = new WatchManager()
    const out = w.restore(
      9,
      {
        relativeZxid: seen,
        dataWatches: ["/old", "/fresh", "/gone"],
        existWatches: ["/fresh", "/still-missing"],
        childWatches: ["/kids", "/old", "/gone"],
        persistentWatches: ["/p"],
        persistentRecursiveWatches: ["/r"],
      },
      (p) => h.tree.exists(p),
    )
    expect(out).toEqual([
      { conn: 9, type: NodeDataChanged, path: "/fresh" },
      { conn: 9, type: NodeDeleted, path: "/gone" },
      { conn: 9, type: NodeCreated, path: "/fresh" },
      { conn: 9, type: NodeChildrenChanged, path: "/kids" },
      { conn: 9, type: NodeDeleted, path: "/gone" },
    ])
    expect(w.watchesOf(9)).toEqual([
      { path: "/old", kind: "data" },
      { path: "/old", kind: "child" },
      { path: "/p", kind: "persistent" },
      { path: "/r", kind: "persistentRecursive" },
      { path: "/still-missing", kind: "data" },
    ])
  })
})
