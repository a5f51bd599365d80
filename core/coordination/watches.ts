/**
 * One server's watches (ZooKeeper's WatchManager pair), keyed by connection. Watches are not
 * replicated: each server keeps those of its own connections and feeds `trigger` the events of
 * every transaction it applies.
 *
 * ZooKeeper keeps two tables, data watches (getData, exists, persistent, persistent recursive)
 * and child watches (getChildren, persistent), and fires each connection at most once per table
 * lookup. This keeps one table of kinds and reproduces the same outcome:
 * - NodeCreated / NodeDataChanged on P fire data and persistent watches on P, and persistent
 *   recursive watches on P or any ancestor;
 * - NodeDeleted on P fires all of those plus child watches on P, still once per connection;
 * - NodeChildrenChanged on P fires child and persistent watches on P (never recursive ones);
 * - one-shot watches (data, child) that fire are removed, persistent ones stay.
 */
import { EventType, type Stat } from "./types.ts"

export type WatchKind = "data" | "child" | "persistent" | "persistentRecursive"

export interface Notification {
  readonly conn: number
  readonly type: EventType
  readonly path: string
}

/** What a reconnecting client re-registers (SetWatches2), relative to the last zxid it saw. */
export interface WatchRestore {
  readonly relativeZxid: number
  readonly dataWatches: readonly string[]
  readonly existWatches: readonly string[]
  readonly childWatches: readonly string[]
  readonly persistentWatches?: readonly string[]
  readonly persistentRecursiveWatches?: readonly string[]
}

const KIND_ORDER: readonly WatchKind[] = ["data", "child", "persistent", "persistentRecursive"]

function* ancestors(path: string): Generator<string> {
  let p = path
  while (p !== "/") {
    const slash = p.lastIndexOf("/")
    p = slash === 0 ? "/" : p.slice(0, slash)
    yield p
  }
}

export class WatchManager {
  /** path -> connection -> kinds it watches there. */
  private readonly byPath = new Map<string, Map<number, Set<WatchKind>>>()
  /** connection -> paths it watches, so dropping a connection does not scan every path. */
  private readonly byConn = new Map<number, Set<string>>()
  /** Recursive watches force a walk up every event's ancestors; skip the walk when there are none. */
  private recursive = 0

  add(conn: number, path: string, kind: WatchKind): void {
    let conns = this.byPath.get(path)
    if (conns === undefined) this.byPath.set(path, (conns = new Map()))
    let kinds = conns.get(conn)
    if (kinds === undefined) conns.set(conn, (kinds = new Set()))
    if (kind === "persistentRecursive" && !kinds.has(kind)) this.recursive++
    kinds.add(kind)
    let paths = this.byConn.get(conn)
    if (paths === undefined) this.byConn.set(conn, (paths = new Set()))
    paths.add(path)
  }

  /** False when there was no such watch (ZooKeeper's NOWATCHER). */
  remove(conn: number, path: string, kind: WatchKind): boolean {
    const kinds = this.byPath.get(path)?.get(conn)
    if (kinds === undefined || !kinds.has(kind)) return false
    this.drop(conn, path, kinds, kind)
    return true
  }

  has(conn: number, path: string, kind: WatchKind): boolean {
    return this.byPath.get(path)?.get(conn)?.has(kind) ?? false
  }

  removeConnection(conn: number): void {
    for (const path of [...(this.byConn.get(conn) ?? [])]) {
      const kinds = this.byPath.get(path)?.get(conn)
      if (kinds !== undefined) for (const kind of [...kinds]) this.drop(conn, path, kinds, kind)
    }
  }

  /** The connection's watches, sorted by path then kind (what a setWatches would resend). */
  watchesOf(conn: number): Array<{ path: string; kind: WatchKind }> {
    const out: Array<{ path: string; kind: WatchKind }> = []
    for (const path of [...(this.byConn.get(conn) ?? [])].sort()) {
      const kinds = this.byPath.get(path)?.get(conn) ?? new Set()
      for (const kind of KIND_ORDER) if (kinds.has(kind)) out.push({ path, kind })
    }
    return out
  }

  /** Total number of registered (connection, path, kind) watches. */
  get size(): number {
    let n = 0
    for (const conns of this.byPath.values()) for (const kinds of conns.values()) n += kinds.size
    return n
  }

  /** Notifications for `events` (in event order, then connection order), removing fired one-shot watches. */
  trigger(events: readonly { readonly type: EventType; readonly path: string }[]): Notification[] {
    const out: Notification[] = []
    for (const e of events) {
      const fired = new Set<number>()
      switch (e.type) {
        case EventType.NodeCreated:
        case EventType.NodeDataChanged:
          this.fireData(e.path, fired)
          break
        case EventType.NodeDeleted:
          this.fireData(e.path, fired)
          this.fireChild(e.path, fired)
          break
        case EventType.NodeChildrenChanged:
          this.fireChild(e.path, fired)
          break
        default:
          break
      }
      for (const conn of [...fired].sort((a, b) => a - b)) out.push({ conn, type: e.type, path: e.path })
    }
    return out
  }

  /**
   * Re-register a reconnecting client's watches (DataTree.setWatches). Watches whose condition
   * already happened after `relativeZxid` fire now instead of being registered; `stat` looks the
   * path up in the server's current tree.
   */
  restore(conn: number, req: WatchRestore, stat: (path: string) => Stat | undefined): Notification[] {
    const out: Notification[] = []
    const now = (type: EventType, path: string): void => void out.push({ conn, type, path })
    for (const path of req.dataWatches) {
      const s = stat(path)
      if (s === undefined) now(EventType.NodeDeleted, path)
      else if (s.mzxid > req.relativeZxid) now(EventType.NodeDataChanged, path)
      else this.add(conn, path, "data")
    }
    for (const path of req.existWatches) {
      if (stat(path) !== undefined) now(EventType.NodeCreated, path)
      else this.add(conn, path, "data")
    }
    for (const path of req.childWatches) {
      const s = stat(path)
      if (s === undefined) now(EventType.NodeDeleted, path)
      else if (s.pzxid > req.relativeZxid) now(EventType.NodeChildrenChanged, path)
      else this.add(conn, path, "child")
    }
    for (const path of req.persistentWatches ?? []) this.add(conn, path, "persistent")
    for (const path of req.persistentRecursiveWatches ?? []) this.add(conn, path, "persistentRecursive")
    return out
  }

  private fireData(path: string, fired: Set<number>): void {
    for (const [conn, kinds] of [...(this.byPath.get(path) ?? [])]) {
      if (kinds.has("data") || kinds.has("persistent") || kinds.has("persistentRecursive")) fired.add(conn)
      if (kinds.has("data")) this.drop(conn, path, kinds, "data")
    }
    if (this.recursive === 0) return
    for (const p of ancestors(path)) {
      for (const [conn, kinds] of this.byPath.get(p) ?? []) if (kinds.has("persistentRecursive")) fired.add(conn)
    }
  }

  private fireChild(path: string, fired: Set<number>): void {
    for (const [conn, kinds] of [...(this.byPath.get(path) ?? [])]) {
      if (kinds.has("child") || kinds.has("persistent")) fired.add(conn)
      if (kinds.has("child")) this.drop(conn, path, kinds, "child")
    }
  }

  private drop(conn: number, path: string, kinds: Set<WatchKind>, kind: WatchKind): void {
    if (kind === "persistentRecursive" && kinds.has(kind)) this.recursive--
    kinds.delete(kind)
    if (kinds.size > 0) return
    const conns = this.byPath.get(path)!
    conns.delete(conn)
    if (conns.size === 0) this.byPath.delete(path)
    const paths = this.byConn.get(conn)!
    paths.delete(path)
    if (paths.size === 0) this.byConn.delete(conn)
  }
}
