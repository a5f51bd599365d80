/**
 * The ZooKeeper-facing half of a node: client connections on the client port, sessions, reads
 * served from the local tree, writes handed to the replica for ordering, watches.
 *
 * Ordering guarantees, and how they are kept:
 * - FIFO per client: each connection answers strictly in request order. A read waits behind the
 *   connection's earlier writes, and runs against the tree at the moment it reaches the head.
 * - A client never sees the past: replies carry the tree's last zxid; a reconnecting client whose
 *   `lastZxidSeen` is ahead of this server is refused (it tries another server).
 * - Watches fire before the change is visible: notifications are written when a transaction is
 *   applied, before its reply and before any later read on that connection.
 * - When this server stops serving (leader lost, new epoch) it drops every client connection, as
 *   ZooKeeper's learners do; clients reconnect and re-register watches with setWatches.
 */
import net from "node:net"
import {
  Err,
  Perms,
  WatchManager,
  checkAcl,
  digestId,
  negotiateTimeout,
  validatePath,
  type CoordTxn,
  type Id,
  type OpResult,
  type SessionId,
  type TxnOp,
} from "../../core/coordination/index.ts"
import {
  FrameDecoder,
  Op,
  ZkDecodeError,
  decodeConnectRequest,
  decodeRequest,
  encodeConnectResponse,
  encodeNotification,
  encodeReply,
  encodeReplyDynamic,
  type ZkRequest,
} from "../tcp/zookeeper/protocol.ts"
import { Replica, type Applied } from "./replica.ts"
import { toWireStat, writeOpRequest, type PendingWrite } from "./zk-requests.ts"

export interface ZkServerConfig {
  readonly host: string
  readonly port: number
  /** ZooKeeper's tickTime: session timeouts are clamped to [2, 20] ticks. */
  readonly tickTimeMs: number
  /** jute.maxbuffer: a frame longer than this closes the connection. */
  readonly maxBuffer: number
  /** A forwarded write not answered within this long drops its connection. */
  readonly writeTimeoutMs: number
  readonly log: (line: string) => void
}

interface QueueItem {
  readonly xid: number
  /** The reply, once known (a write's arrives when its transaction applies). */
  reply: Uint8Array | undefined
  /**
   * Computes the reply when the item reaches the head of the queue, so it reflects (and its zxid
   * is no older than) everything answered before it.
   */
  readonly read?: () => Uint8Array
  readonly deadline?: number
}

class ClientConnection {
  session: SessionId = 0n
  timeoutMs = 0
  passwd: Uint8Array = new Uint8Array(16)
  readonly auth: Id[]
  readonly queue: QueueItem[] = []
  open = false
  closed = false
  readonly decoder: FrameDecoder

  constructor(
    readonly id: number,
    readonly socket: net.Socket,
    maxBuffer: number,
  ) {
    this.decoder = new FrameDecoder(maxBuffer)
    this.auth = [{ scheme: "ip", id: normalizeIp(socket.remoteAddress ?? "") }]
  }

  write(frame: Uint8Array): void {
    if (!this.closed) this.socket.write(frame)
  }
}

const normalizeIp = (a: string): string => (a.startsWith("::ffff:") ? a.slice(7) : a)

export class ZkServer {
  private readonly server: net.Server
  private readonly conns = new Map<number, ClientConnection>()
  private readonly bySession = new Map<SessionId, ClientConnection>()
  /** Writes of this server's clients awaiting their commit, by `${session}:${cxid}`. */
  private readonly pending = new Map<string, { conn: ClientConnection; item: QueueItem; write: PendingWrite }>()
  /** Connects awaiting their createSession commit, by the cxid we gave the txn. */
  private readonly pendingConnects = new Map<number, ClientConnection>()
  private readonly watches = new WatchManager()
  private nextConnId = 1
  private nextConnectCxid = 1
  private sweeper: NodeJS.Timeout | undefined

  constructor(
    private readonly replicaId: number,
    private readonly replica: () => Replica,
    private readonly config: ZkServerConfig,
  ) {
    this.server = net.createServer((s) => this.accept(s))
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject)
      this.server.listen(this.config.port, this.config.host, () => {
        this.server.off("error", reject)
        resolve()
      })
    })
    this.sweeper = setInterval(() => this.sweepTimeouts(), 250)
  }

  async stop(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    for (const c of this.conns.values()) this.close(c, "server stopping")
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  get connectionCount(): number {
    return this.conns.size
  }

  /** Called by the replica when it starts or stops serving. */
  servingChanged(serving: boolean): void {
    if (serving) return
    for (const c of this.conns.values()) this.close(c, "server lost its leader")
  }

  /** Called by the replica for every committed transaction, in zxid order. */
  applied(a: Applied): void {
    // Watches first: a client must get the notification before it can see the change.
    for (const n of this.watches.trigger(a.events)) {
      const c = this.conns.get(n.conn)
      if (c?.open) c.write(encodeNotification(n.type, 3 /* SyncConnected */, n.path, a.zxid))
    }
    const { txn, result } = a
    if (txn.op.type === "closeSession") {
      const c = this.bySession.get(txn.session)
      if (c && txn.op.expired) this.close(c, "session expired")
    }
    if (txn.origin !== this.replicaId) return
    if (txn.op.type === "createSession") {
      const c = this.pendingConnects.get(txn.cxid)
      this.pendingConnects.delete(txn.cxid)
      if (c && !c.closed && result.type === "createSession") this.established(c, result.sessionId, result.passwd, result.timeoutMs)
      return
    }
    const key = `${txn.session}:${txn.cxid}`
    const p = this.pending.get(key)
    if (p === undefined) return
    this.pending.delete(key)
    p.item.reply = p.write.reply(result, a.zxid, (path) => this.replica().tree.exists(path))
    this.flushQueue(p.conn)
    if (txn.op.type === "closeSession") this.close(p.conn, "session closed by client", true)
  }

  private accept(socket: net.Socket): void {
    const conn = new ClientConnection(this.nextConnId++, socket, this.config.maxBuffer)
    this.conns.set(conn.id, conn)
    socket.setNoDelay(true)
    let first = true
    socket.on("data", (chunk: Buffer) => {
      if (first) {
        first = false
        // ZooKeeper's four-letter words arrive in place of the first frame's length.
        const word = chunk.length >= 4 ? chunk.subarray(0, 4).toString("latin1") : ""
        const answer = this.fourLetterWord(word)
        if (answer !== undefined) {
          socket.end(answer)
          conn.closed = true
          this.conns.delete(conn.id)
          return
        }
      }
      let frames: Uint8Array[]
      try {
        frames = conn.decoder.push(chunk)
      } catch (e) {
        return this.close(conn, (e as Error).message)
      }
      for (const f of frames) {
        if (conn.closed) return
        try {
          if (!conn.open && conn.session === 0n && conn.queue.length === 0 && !this.isConnecting(conn)) this.onConnect(conn, f)
          else this.onRequest(conn, f)
        } catch (e) {
          // ZooKeeper answers an unknown opcode or an undecodable body with an error code and
          // closes the connection on anything worse; so do we.
          if (e instanceof ZkDecodeError && conn.open && e.replyErr !== undefined && e.xid !== undefined) {
            this.enqueue(conn, { xid: e.xid, reply: undefined, read: () => encodeReply(e.xid!, this.replica().tree.lastZxid, e.replyErr!) })
            continue
          }
          return this.close(conn, `bad request: ${(e as Error).message}`)
        }
      }
    })
    socket.on("error", () => {})
    socket.on("close", () => this.close(conn, "client went away"))
  }

  /** `ruok` and `srvr`, enough for health checks and for tests to find the leader. */
  private fourLetterWord(word: string): string | undefined {
    const replica = this.replica()
    switch (word) {
      case "ruok":
        return "imok"
      case "srvr":
      case "stat": {
        const mode = !replica.serving ? "not serving" : replica.isLeader ? "leader" : replica.role === "observing" ? "observer" : "follower"
        return [
          "Zookeeper version: sequent-0.1.0 (ZooKeeper protocol compatible)",
          `Mode: ${mode}`,
          `Zxid: 0x${replica.tree.lastZxid.toString(16)}`,
          `Node count: ${replica.tree.nodeCount}`,
          `Connections: ${this.conns.size}`,
          "",
        ].join("\n")
      }
      default:
        return undefined
    }
  }

  private isConnecting(c: ClientConnection): boolean {
    for (const v of this.pendingConnects.values()) if (v === c) return true
    return false
  }

  private onConnect(conn: ClientConnection, body: Uint8Array): void {
    const req = decodeConnectRequest(body)
    const replica = this.replica()
    // No read-only mode: without a leader we refuse every client, read-only ones too, and the
    // client tries the next server.
    if (!replica.serving) return this.close(conn, "not serving: no leader")
    const lastZxid = replica.tree.lastZxid
    if (Number(req.lastZxidSeen) > lastZxid) {
      return this.close(conn, `client has seen zxid 0x${req.lastZxidSeen.toString(16)}, ours is 0x${lastZxid.toString(16)}`)
    }
    const timeoutMs = negotiateTimeout(req.timeOut, this.config.tickTimeMs)
    if (req.sessionId === 0n) {
      const cxid = this.nextConnectCxid++
      this.pendingConnects.set(cxid, conn)
      const ok = replica.submit({
        session: 0n,
        cxid,
        origin: this.replicaId,
        time: Date.now(),
        auth: [],
        op: { type: "createSession", timeoutMs, passwd: Replica.newPassword() },
      })
      if (!ok) this.close(conn, "cannot reach the leader")
      return
    }
    const s = replica.tree.session(req.sessionId)
    if (s === undefined || !equalBytes(s.passwd, req.passwd ?? new Uint8Array(0))) {
      // ZooKeeper's answer to an unknown or expired session: timeout 0, then close.
      conn.write(encodeConnectResponse({ protocolVersion: 0, timeOut: 0, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }))
      return this.close(conn, `session 0x${req.sessionId.toString(16)} is expired or unknown`, true)
    }
    this.established(conn, req.sessionId, s.passwd, timeoutMs)
  }

  private established(conn: ClientConnection, session: SessionId, passwd: Uint8Array, timeoutMs: number): void {
    const old = this.bySession.get(session)
    if (old && old !== conn) this.close(old, "session moved to a new connection")
    conn.session = session
    conn.passwd = passwd
    conn.timeoutMs = timeoutMs
    conn.open = true
    this.bySession.set(session, conn)
    this.replica().touch(session)
    conn.write(encodeConnectResponse({ protocolVersion: 0, timeOut: timeoutMs, sessionId: session, passwd, readOnly: false }))
  }

  private onRequest(conn: ClientConnection, body: Uint8Array): void {
    if (!conn.open) return this.close(conn, "request before the session was established")
    const replica = this.replica()
    replica.touch(conn.session)
    const req = decodeRequest(body)
    const { xid, type } = req.header
    const zxid = (): number => replica.tree.lastZxid
    switch (type) {
      case Op.ping:
        return this.enqueue(conn, { xid, reply: undefined, read: () => encodeReply(xid, zxid(), Err.OK) })
      case Op.auth:
        return this.onAuth(conn, req)
      case Op.setWatches:
      case Op.setWatches2:
        return this.onSetWatches(conn, req)
    }
    const write = writeOpRequest(req, {
      session: conn.session,
      origin: this.replicaId,
      time: Date.now(),
      auth: conn.auth,
    })
    if (write !== undefined) {
      if ("err" in write) return this.enqueue(conn, { xid, reply: undefined, read: () => encodeReply(xid, zxid(), write.err) })
      const item: QueueItem = { xid, reply: undefined, deadline: Date.now() + this.config.writeTimeoutMs }
      this.enqueue(conn, item)
      this.pending.set(`${conn.session}:${xid}`, { conn, item, write })
      if (!replica.submit(write.txn)) this.close(conn, "cannot reach the leader")
      return
    }
    this.enqueue(conn, { xid, reply: undefined, read: () => this.read(conn, req) })
  }

  private enqueue(conn: ClientConnection, item: QueueItem): void {
    conn.queue.push(item)
    this.flushQueue(conn)
  }

  /** Answer from the head of the queue for as long as answers are ready. */
  private flushQueue(conn: ClientConnection): void {
    while (conn.queue.length > 0 && !conn.closed) {
      const head = conn.queue[0]!
      if (head.reply === undefined && head.read) head.reply = head.read()
      if (head.reply === undefined) return
      conn.queue.shift()
      conn.write(head.reply)
    }
  }

  private read(conn: ClientConnection, req: ZkRequest): Uint8Array {
    const tree = this.replica().tree
    const zxid = tree.lastZxid
    const { xid, type } = req.header
    const r = (req.request ?? {}) as unknown as Record<string, unknown>
    const reply = (err: number, record?: string, value?: unknown): Uint8Array => encodeReplyDynamic(xid, zxid, err, record, value)
    const path = typeof r["path"] === "string" ? (r["path"] as string) : ""
    const watch = r["watch"] === true
    const pathErr = validatePath(path)
    switch (type) {
      case Op.exists: {
        if (pathErr) return reply(Err.BADARGUMENTS)
        const stat = tree.exists(path)
        // ZooKeeper 3.9 wants READ to see that a node exists (a missing node needs nothing).
        const acl = stat ? tree.getACL(path) : undefined
        if (acl && !("err" in acl) && !checkAcl(acl.acl, conn.auth, Perms.READ)) return reply(Err.NOAUTH)
        if (watch) this.watches.add(conn.id, path, "data")
        return stat ? reply(Err.OK, "ExistsResponse", { stat: toWireStat(stat) }) : reply(Err.NONODE)
      }
      case Op.getData: {
        if (pathErr) return reply(Err.BADARGUMENTS)
        const g = tree.getData(path, conn.auth)
        if ("err" in g) return reply(g.err)
        if (watch) this.watches.add(conn.id, path, "data")
        return reply(Err.OK, "GetDataResponse", { data: g.data, stat: toWireStat(g.stat) })
      }
      case Op.getChildren:
      case Op.getChildren2: {
        if (pathErr) return reply(Err.BADARGUMENTS)
        const g = tree.getChildren(path, conn.auth)
        if ("err" in g) return reply(g.err)
        if (watch) this.watches.add(conn.id, path, "child")
        return type === Op.getChildren
          ? reply(Err.OK, "GetChildrenResponse", { children: g.children })
          : reply(Err.OK, "GetChildren2Response", { children: g.children, stat: toWireStat(g.stat) })
      }
      case Op.getACL: {
        if (pathErr) return reply(Err.BADARGUMENTS)
        const g = tree.getACL(path, conn.auth)
        if ("err" in g) return reply(g.err)
        return reply(Err.OK, "GetACLResponse", { acl: g.acl, stat: toWireStat(g.stat) })
      }
      case Op.getAllChildrenNumber: {
        if (pathErr) return reply(Err.BADARGUMENTS)
        const g = tree.getAllChildrenNumber(path, conn.auth)
        if ("err" in g) return reply(g.err)
        return reply(Err.OK, "GetAllChildrenNumberResponse", { totalNumber: g.count })
      }
      case Op.getEphemerals: {
        const prefix = typeof r["prefixPath"] === "string" ? (r["prefixPath"] as string) : "/"
        return reply(Err.OK, "GetEphemeralsResponse", { ephemerals: tree.getEphemerals(conn.session, prefix) })
      }
      case Op.whoAmI:
        return reply(Err.OK, "WhoAmIResponse", {
          // As ZooKeeper's providers name users: a digest id "user:hash" is the user "user".
          clientInfo: conn.auth.map((a) => ({ authScheme: a.scheme, user: a.scheme === "digest" ? a.id.split(":")[0]! : a.id })),
        })
      case Op.addWatch: {
        if (pathErr) return reply(Err.BADARGUMENTS)
        const mode = r["mode"]
        if (mode !== 0 && mode !== 1) return reply(Err.BADARGUMENTS)
        this.watches.add(conn.id, path, mode === 0 ? "persistent" : "persistentRecursive")
        // ZooKeeper answers addWatch with an ErrorResponse body, which the Java client reads.
        return reply(Err.OK, "ErrorResponse", { err: 0 })
      }
      case Op.checkWatches:
      case Op.removeWatches: {
        const kinds = watchKinds(r["type"])
        const present = kinds.filter((k) => this.watches.has(conn.id, path, k))
        if (present.length === 0) return reply(Err.NOWATCHER)
        if (type === Op.removeWatches) for (const k of present) this.watches.remove(conn.id, path, k)
        return reply(Err.OK)
      }
      case Op.multiRead:
        return this.multiRead(conn, req, zxid)
      default:
        return reply(Err.UNIMPLEMENTED)
    }
  }

  private multiRead(conn: ClientConnection, req: ZkRequest, zxid: number): Uint8Array {
    const tree = this.replica().tree
    const ops = (req.request as unknown as { ops: Array<{ type: number; request: { path: string; watch: boolean } }> }).ops
    const results = ops.map((op) => {
      const path = op.request.path
      if (validatePath(path)) return { type: Op.error, err: Err.BADARGUMENTS }
      if (op.type === Op.getData) {
        const g = tree.getData(path, conn.auth)
        if ("err" in g) return { type: Op.error, err: g.err }
        if (op.request.watch) this.watches.add(conn.id, path, "data")
        return { type: Op.getData, data: g.data, stat: toWireStat(g.stat) }
      }
      const g = tree.getChildren(path, conn.auth)
      if ("err" in g) return { type: Op.error, err: g.err }
      if (op.request.watch) this.watches.add(conn.id, path, "child")
      return { type: Op.getChildren, children: g.children }
    })
    return encodeReplyDynamic(req.header.xid, zxid, Err.OK, "MultiResponse", { results })
  }

  private onAuth(conn: ClientConnection, req: ZkRequest): void {
    const r = req.request as unknown as { type: number; scheme: string; auth: Uint8Array }
    if (r.scheme !== "digest") {
      this.enqueue(conn, { xid: req.header.xid, reply: encodeReply(req.header.xid, 0, Err.AUTHFAILED) })
      conn.write(encodeNotification(-1, 4 /* AuthFailed */, null))
      return this.close(conn, `unsupported auth scheme ${r.scheme}`, true)
    }
    const id = digestId(Buffer.from(r.auth).toString("utf8"))
    if (!conn.auth.some((a) => a.scheme === "digest" && a.id === id)) conn.auth.push({ scheme: "digest", id })
    // ZooKeeper answers auth with zxid 0.
    this.enqueue(conn, { xid: req.header.xid, reply: encodeReply(req.header.xid, 0, Err.OK) })
  }

  /**
   * Re-registration after a reconnect (setWatches / setWatches2). A watch whose event already
   * happened after the client's `relativeZxid` fires at once, so no change between two
   * connections goes unnoticed.
   */
  private onSetWatches(conn: ClientConnection, req: ZkRequest): void {
    const tree = this.replica().tree
    const r = req.request as unknown as {
      relativeZxid: bigint
      dataWatches: string[] | null
      existWatches: string[] | null
      childWatches: string[] | null
      persistentWatches?: string[] | null
      persistentRecursiveWatches?: string[] | null
    }
    const fired = this.watches.restore(
      conn.id,
      {
        relativeZxid: Number(r.relativeZxid),
        dataWatches: r.dataWatches ?? [],
        existWatches: r.existWatches ?? [],
        childWatches: r.childWatches ?? [],
        persistentWatches: r.persistentWatches ?? [],
        persistentRecursiveWatches: r.persistentRecursiveWatches ?? [],
      },
      (path) => tree.exists(path),
    )
    for (const n of fired) conn.write(encodeNotification(n.type, 3 /* SyncConnected */, n.path, tree.lastZxid))
    // Echo the request's xid: the Java client uses -8, node-zookeeper-client an ordinary xid.
    this.enqueue(conn, { xid: req.header.xid, reply: undefined, read: () => encodeReply(req.header.xid, tree.lastZxid, Err.OK) })
  }

  private sweepTimeouts(): void {
    const now = Date.now()
    for (const c of this.conns.values()) {
      const head = c.queue[0]
      if (head?.deadline !== undefined && head.reply === undefined && head.deadline < now) this.close(c, "write not committed in time")
    }
  }

  private close(conn: ClientConnection, why: string, graceful = false): void {
    if (conn.closed) return
    conn.closed = true
    conn.open = false
    this.conns.delete(conn.id)
    if (this.bySession.get(conn.session) === conn) this.bySession.delete(conn.session)
    this.watches.removeConnection(conn.id)
    for (const [k, p] of this.pending) if (p.conn === conn) this.pending.delete(k)
    for (const [k, c] of this.pendingConnects) if (c === conn) this.pendingConnects.delete(k)
    if (!graceful) this.config.log(`client ${conn.id} (session 0x${conn.session.toString(16)}): ${why}`)
    if (graceful) conn.socket.end()
    else conn.socket.destroy()
  }
}

function watchKinds(t: unknown): Array<"data" | "child" | "persistent" | "persistentRecursive"> {
  // WatcherType: 1 children, 2 data, 3 any
  if (t === 1) return ["child"]
  if (t === 2) return ["data"]
  return ["child", "data", "persistent", "persistentRecursive"]
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export type { CoordTxn, OpResult, TxnOp }
export { Perms }
