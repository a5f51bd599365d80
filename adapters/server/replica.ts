/**
 * One replica of the coordination service: the pure consensus core and the pure znode tree,
 * wired to a disk, a peer transport and a clock.
 *
 * The loop (etcd/raft's Ready/Advance rule, with an asynchronous group commit): inputs queue up;
 * `drain` steps the core through all of them and writes every `Persist` record (no fsync), and
 * hands the other outputs to `HeldOutputs`, which carries them out, in order across drains, only
 * once an fsync that started after those writes has completed (one fsync under way at a time;
 * the event loop keeps stepping inputs meanwhile). So nothing leaves this process (an ACK, a
 * COMMIT, a reply to a client) before the state it depends on is on disk. The one exception is
 * the leader's `Proposal`, which may go out before its own fsync: see `HeldOutputs`.
 *
 * Committed transactions are applied to the tree in zxid order; `onApplied` tells the client
 * side, which answers the request's origin connection and fires watches. The leader also keeps
 * the session tracker: it alone decides that a session expired, by proposing its closeSession.
 */
import { randomBytes } from "node:crypto"
import {
  makeConfig,
  start,
  step,
  type Input,
  type NodeState,
  type Output,
  type StepResult,
} from "../../core/consensus/index.ts"
import {
  DataTree,
  SessionTracker,
  containersToDelete,
  decodeTxn,
  encodeTxn,
  type CoordTxn,
  type OpResult,
  type SessionId,
  type TreeEvent,
} from "../../core/coordination/index.ts"
import { NodeStorage } from "../disk/node-storage.ts"
import { nodeFs } from "../disk/fs.ts"
import { PeerTransport, type PeerAddress } from "../tcp/peer-transport.ts"
import { decodePeerMessage, encodePeerMessage, type PeerMessage } from "./peer-messages.ts"

export interface ReplicaConfig {
  readonly id: number
  readonly voters: readonly number[]
  readonly observers: readonly number[]
  /** Peer (server-to-server) addresses of every member, including this one. */
  readonly peers: readonly PeerAddress[]
  readonly dataDir: string
  /** Length of one consensus tick; heartbeats are 2 ticks, a lost leader is noticed after 10. */
  readonly tickMs: number
  /** Take a tree snapshot (and compact the consensus log) every this many applied transactions. */
  readonly snapshotEvery: number
  readonly log: (line: string) => void
}

export interface Applied {
  readonly zxid: number
  readonly txn: CoordTxn
  readonly result: OpResult
  readonly events: readonly TreeEvent[]
}

export interface ReplicaHooks {
  /** A committed transaction was applied to the tree. */
  readonly onApplied: (a: Applied) => void
  /** This replica started or stopped serving (it is in broadcast with an established leader). */
  readonly onServingChanged: (serving: boolean) => void
}

export class Replica {
  /** Replaced wholesale when a snapshot is installed: callers read `tree` afresh, never keep it. */
  private current: DataTree
  private core: NodeState
  private readonly storage: NodeStorage
  private readonly transport: PeerTransport
  private readonly inbox: Input[] = []
  private readonly toPropose: Uint8Array[] = []
  private drainScheduled = false
  private ticker: NodeJS.Timeout | undefined
  private servingNow = false
  private leaderNow = 0
  private epochNow = -1
  /** Leader only: the sessions it tracks, and whether it already proposed their expiry. */
  private tracker: SessionTracker | undefined
  private readonly expiring = new Set<SessionId>()
  private readonly pendingTouches = new Set<SessionId>()
  private appliedSinceSnapshot = 0
  /** The newest tree snapshot on disk: the next snapshot compacts the consensus log up to it. */
  private lastSnapshot: { zxid: number; bytes: Uint8Array } | undefined
  private stopped = false
  private readonly held: HeldOutputs<CoreStatus>

  constructor(
    private readonly config: ReplicaConfig,
    private readonly hooks: ReplicaHooks,
  ) {
    const opened = NodeStorage.open(config.dataDir, nodeFs, { myid: config.id })
    this.storage = opened.storage
    const rec = opened.recovery
    if (rec.truncatedBytes > 0) config.log(`recovery cut a torn tail of ${rec.truncatedBytes} bytes from ${rec.truncatedSegment}`)
    for (const s of rec.skippedSnapshots) config.log(`recovery skipped snapshot ${s.name}: ${s.why}`)
    this.current = opened.snapshot ? DataTree.deserialize(opened.snapshot.bytes) : DataTree.empty()
    if (opened.snapshot) this.lastSnapshot = { zxid: opened.snapshot.zxid, bytes: opened.snapshot.bytes }
    const consensusConfig = makeConfig(config.id, config.voters, config.observers)
    const self = config.peers.find((p) => p.id === config.id)
    if (self === undefined) throw new Error(`peer list has no address for this node (id ${config.id})`)
    this.transport = new PeerTransport({
      id: config.id,
      host: self.host,
      port: self.port,
      peers: config.peers,
      onFrame: (from, payload) => this.onPeerFrame(from, payload),
      log: config.log,
    })
    const r = start(consensusConfig, opened.durable)
    this.core = r.state
    this.held = new HeldOutputs<CoreStatus>(this.storage, {
      act: (o) => this.act(o),
      settled: (status) => this.updateServing(status),
      fatal: (e) => {
        // The page cache state is unknown after a failed fsync: never go on as if durable.
        config.log(`fsync of the transaction log failed (${e.message}); exiting, recovery will run at restart`)
        throw e
      },
    })
    this.carryOut(r)
  }

  async start(): Promise<void> {
    await this.transport.start()
    this.ticker = setInterval(() => this.onTick(), this.config.tickMs)
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.held.stop()
    if (this.ticker) clearInterval(this.ticker)
    await this.transport.close()
    this.storage.close()
  }

  get tree(): DataTree {
    return this.current
  }

  get serving(): boolean {
    return this.servingNow
  }
  get isLeader(): boolean {
    return this.servingNow && this.core.role === "leading"
  }
  get leader(): number {
    return this.leaderNow
  }
  get role(): string {
    return this.core.role
  }

  /**
   * Submit a client's write (or a session event) for ordering. Returns false when it cannot be
   * submitted right now (not serving, or the leader is unreachable): the caller fails the request
   * the ZooKeeper way, by dropping the connection so the client retries elsewhere.
   */
  submit(txn: CoordTxn): boolean {
    if (!this.servingNow) return false
    const bytes = encodeTxn(txn)
    if (this.isLeader) {
      this.toPropose.push(bytes)
      this.scheduleDrain()
      return true
    }
    return this.sendPeer(this.leaderNow, { _tag: "Forward", txn: bytes })
  }

  /** A client of this server was heard from: its session lives on. */
  touch(session: SessionId): void {
    if (this.tracker) this.tracker.touch(session, Date.now())
    else this.pendingTouches.add(session)
  }

  private onPeerFrame(from: number, payload: Buffer): void {
    const m = decodePeerMessage(payload)
    if (m instanceof Error) return this.config.log(`dropping a bad frame from peer ${from}: ${m.message}`)
    switch (m._tag) {
      case "Zab":
        this.feed({ _tag: "Receive", from, message: m.message })
        break
      case "Forward":
        // Only the established leader proposes; a stale forward is dropped and its origin's
        // client sees a lost connection when that server notices the leader change.
        if (this.isLeader) {
          // Never propose what no replica could apply: a bad txn would be committed forever.
          if (!decodesAsTxn(m.txn)) return this.config.log(`dropping an undecodable forwarded write from peer ${from}`)
          this.toPropose.push(m.txn)
          this.scheduleDrain()
        }
        break
      case "Touch":
        if (this.tracker) for (const s of m.sessions) this.tracker.touch(s, Date.now())
        break
    }
  }

  private onTick(): void {
    this.feed({ _tag: "Tick" })
    const now = Date.now()
    if (this.tracker) {
      for (const session of this.tracker.expired(now)) {
        if (this.expiring.has(session)) continue
        this.expiring.add(session)
        this.config.log(`session 0x${session.toString(16)} expired`)
        this.submit({ session, cxid: 0, origin: 0, time: now, auth: [], op: { type: "closeSession", expired: true } })
      }
      for (const path of containersToDelete(this.tree, now)) {
        this.submit({ session: 0n, cxid: 0, origin: 0, time: now, auth: [], op: { type: "deleteContainer", path } })
      }
    } else if (this.servingNow && this.pendingTouches.size > 0) {
      this.sendPeer(this.leaderNow, { _tag: "Touch", sessions: [...this.pendingTouches] })
      this.pendingTouches.clear()
    }
  }

  private feed(input: Input): void {
    this.inbox.push(input)
    this.scheduleDrain()
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.stopped) return
    this.drainScheduled = true
    setImmediate(() => {
      this.drainScheduled = false
      this.drain()
    })
  }

  /**
   * Step through everything queued and write its `Persist` records; the other outputs wait in
   * `held` for the fsync that covers those writes.
   */
  private drain(): void {
    if (this.stopped) return
    const outputs: Output[] = []
    let newBase = false
    const take = (r: StepResult): void => {
      this.core = r.state
      for (const o of r.outputs) {
        if (o._tag === "Persist") {
          this.storage.persist(o)
          newBase ||= o.base !== undefined
        } else outputs.push(o)
      }
    }
    while (this.inbox.length > 0 || this.toPropose.length > 0) {
      for (const input of this.inbox.splice(0)) take(step(this.core, input))
      if (this.toPropose.length > 0) take(step(this.core, { _tag: "Propose", data: this.toPropose.splice(0) }))
    }
    if (newBase) {
      // The log's prefix now lives in a snapshot: drop old snapshots (never a base's) and
      // rewrite the log without the prefix (synchronous, once per snapshot interval).
      this.storage.purgeSnapshots(3)
      this.storage.compact()
    }
    const c = this.core
    this.held.push(this.storage.write(), outputs, { phase: c.phase, role: c.role, leader: c.leader, currentEpoch: c.currentEpoch })
  }

  private carryOut(r: StepResult): void {
    for (const o of r.outputs) if (o._tag === "Persist") this.storage.persist(o)
    this.storage.flush()
    for (const o of r.outputs) if (o._tag !== "Persist") this.act(o)
    this.updateServing(this.core)
  }

  private act(o: Output): void {
    switch (o._tag) {
      case "Send":
        this.sendPeer(o.to, { _tag: "Zab", message: o.message })
        break
      case "Deliver":
        if (o.snapshot !== undefined) this.install(o.snapshot.zxid, o.snapshot.data)
        for (const t of o.txns) this.apply(t.zxid, t.data)
        break
      case "ProposeRejected":
        // Only happens when leadership was lost between submit and drain; the role change that
        // follows drops the clients whose writes these were.
        this.config.log(`proposal rejected: ${o.reason}`)
        break
      case "Proposed":
      case "RoleChanged":
      case "Persist":
        break
    }
  }

  private apply(zxid: number, data: Uint8Array): void {
    // A snapshot already holds everything up to its zxid; the core re-delivers from the start.
    if (zxid <= this.tree.lastZxid) return
    let txn: CoordTxn
    try {
      txn = decodeTxn(data)
    } catch (e) {
      // Only a bug or a foreign writer can commit bytes that do not decode. Every replica decodes
      // the same bytes the same way, so skipping them keeps the replicas identical.
      this.config.log(`committed transaction 0x${zxid.toString(16)} does not decode (${(e as Error).message}); skipped`)
      return
    }
    const { result, events } = this.tree.apply(txn, zxid)
    if (this.tracker) {
      if (result.type === "createSession") this.tracker.add(result.sessionId, result.timeoutMs, Date.now())
      if (txn.op.type === "closeSession") {
        this.tracker.remove(txn.session)
        this.expiring.delete(txn.session)
      }
    }
    this.hooks.onApplied({ zxid, txn, result, events })
    if (++this.appliedSinceSnapshot >= this.config.snapshotEvery) this.snapshot()
  }

  /**
   * The history up to `zxid` reached us as a snapshot (a restart from a compacted log, or a SNAP
   * from a leader whose log no longer reaches back to ours). Not serving meanwhile, so no client
   * sees the jump.
   */
  private install(zxid: number, data: Uint8Array): void {
    if (zxid <= this.tree.lastZxid) return // we already hold that state (or a later one)
    this.current = DataTree.deserialize(data)
    if (this.tree.lastZxid !== zxid) throw new Error(`snapshot for zxid 0x${zxid.toString(16)} holds a tree at 0x${this.tree.lastZxid.toString(16)}`)
    if (this.tracker) this.tracker = SessionTracker.from(this.tree.sessions(), Date.now())
    this.config.log(`installed a snapshot at zxid 0x${zxid.toString(16)} (${data.length} bytes)`)
  }

  /**
   * Saves a tree snapshot, then compacts the consensus log up to the previous one, not this one:
   * a learner up to one snapshot interval behind still catches up by DIFF rather than SNAP.
   * The log files shrink once the compaction's record is written (see `drain`).
   */
  private snapshot(): void {
    this.appliedSinceSnapshot = 0
    const zxid = this.tree.lastZxid
    const bytes = this.tree.serialize()
    this.storage.saveSnapshot(zxid, bytes)
    const prev = this.lastSnapshot
    this.lastSnapshot = { zxid, bytes }
    if (prev !== undefined) this.feed({ _tag: "Compact", zxid: prev.zxid, data: prev.bytes })
  }

  /** `c`: the core's status as of the last outputs carried out (it may be ahead of them). */
  private updateServing(c: CoreStatus): void {
    const serving = c.phase === "broadcast" && c.role !== "looking"
    // An observer never adopts an epoch of its own; the leader's id still tells a new regime.
    const epoch = c.currentEpoch
    const leader = serving ? c.leader : 0
    if (serving === this.servingNow && leader === this.leaderNow && epoch === this.epochNow) return
    const wasServing = this.servingNow
    this.servingNow = serving
    this.leaderNow = leader
    this.epochNow = epoch
    if (serving || wasServing) this.config.log(serving ? `serving as ${c.role}, leader ${c.leader}, epoch ${epoch}` : `stopped serving (${c.role}, ${c.phase})`)
    if (serving && c.role === "leading") {
      // A new leader restarts every session's clock (ZooKeeper does the same): it cannot know
      // how long ago the old leader last heard from each client.
      this.tracker = SessionTracker.from(this.tree.sessions(), Date.now())
      this.expiring.clear()
    } else this.tracker = undefined
    // Any change of leader or epoch drops our clients, as ZooKeeper's learners do: their pending
    // writes may be lost, and they must reconnect (here or elsewhere) to find out.
    if (wasServing) this.hooks.onServingChanged(false)
    if (serving) this.hooks.onServingChanged(true)
  }

  private sendPeer(to: number, m: PeerMessage): boolean {
    return this.transport.send(to, encodePeerMessage(m))
  }

  /** Sixteen random bytes for a new session's password (randomness stays out of the core). */
  static newPassword(): Uint8Array {
    return new Uint8Array(randomBytes(16))
  }
}

/** What `updateServing` reads of the core's state. */
interface CoreStatus {
  readonly phase: NodeState["phase"]
  readonly role: NodeState["role"]
  readonly leader: number
  readonly currentEpoch: number
}

/** The durability side of `NodeStorage` that `HeldOutputs` needs. */
export interface AsyncDurability {
  /** Records fsynced so far (a position comparable with `NodeStorage.write`'s result). */
  readonly durableUpTo: number
  /** fsync; on `done(null)`, `durableUpTo` covers every record written before the call. */
  syncAsync(done: (err: Error | null) => void): void
}

/**
 * The outputs of each drain, held until the records that drain (and every earlier one) wrote
 * are durable, then carried out in their original order. One fsync is under way at a time:
 * when it completes, every batch whose writes it covers is released, and if batches remain
 * (their writes came after it started) the next fsync starts. A snapshot's synchronous flush
 * advances `durableUpTo` too, so the release loop re-reads it after every output.
 *
 * Early proposals. A `Send` of a `Proposal` goes out at once, before the leader's own fsync.
 * This is ZooKeeper's pipeline (its leader sends PROPOSAL to followers while logging it) and is
 * safe here because everything that could tell anyone the transaction is committed is still
 * held: the leader counts itself toward the ACK quorum when it steps, but the `Commit` sends
 * and the `Deliver` (the reply to the client) of the drain that reached the quorum come after
 * the proposal's drain, so they wait for an fsync that covers the leader's copy as well; and
 * each follower's `Ack` is held the same way until the follower's own fsync. So a client only
 * hears of a write that is durable on the leader and on enough followers for a quorum. If the
 * leader crashes before its fsync, followers may hold a proposal the leader lost: like any
 * uncommitted proposal, the next epoch's sync either commits it or truncates it, and no one was
 * told of it. Proposals keep their order among themselves; they may overtake held messages to
 * the same peer (a `Commit`, a `NewLeader`), a reordering the core tolerates (a follower drops
 * a proposal it cannot place, and the leader's heartbeat resends from its last ACK). Nothing
 * else (Commit, Ack, NewLeader, AckEpoch, Deliver, ...) is ever released early.
 */
export class HeldOutputs<S> {
  private readonly batches: { upTo: number; outputs: readonly Output[]; status: S }[] = []
  private syncing = false
  private stopped = false

  constructor(
    private readonly disk: AsyncDurability,
    private readonly hooks: {
      /** Carry out one output. */
      readonly act: (o: Output) => void
      /** Batches were carried out; `status` came with the last of them. */
      readonly settled: (status: S) => void
      /** An fsync failed. Must not return normally (throw or exit). */
      readonly fatal: (e: Error) => void
    },
    private readonly earlyProposals = true,
  ) {}

  /**
   * One drain's non-`Persist` outputs, in order, after its records were written: `upTo` is the
   * write position after them (the storage's `write()` result).
   */
  push(upTo: number, outputs: readonly Output[], status: S): void {
    if (this.stopped) return
    let rest = outputs
    if (this.earlyProposals && outputs.some(isProposalSend)) {
      for (const o of outputs) if (isProposalSend(o)) this.hooks.act(o)
      rest = outputs.filter((o) => !isProposalSend(o))
    }
    this.batches.push({ upTo, outputs: rest, status })
    this.release()
    this.syncIfNeeded()
  }

  /** Batches waiting for an fsync. */
  get waiting(): number {
    return this.batches.length
  }

  /** Drops whatever is held (the process is stopping) and ignores later completions. */
  stop(): void {
    this.stopped = true
    this.batches.length = 0
  }

  private release(): void {
    let last: { status: S } | undefined
    while (!this.stopped && this.batches.length > 0 && this.batches[0]!.upTo <= this.disk.durableUpTo) {
      const b = this.batches.shift()!
      for (const o of b.outputs) this.hooks.act(o)
      last = b
    }
    if (last !== undefined && !this.stopped) this.hooks.settled(last.status)
  }

  private syncIfNeeded(): void {
    if (this.syncing || this.stopped || this.batches.length === 0) return
    this.syncing = true
    this.disk.syncAsync((err) => {
      this.syncing = false
      if (this.stopped) return
      if (err !== null) return this.hooks.fatal(err)
      this.release()
      this.syncIfNeeded()
    })
  }
}

function isProposalSend(o: Output): boolean {
  return o._tag === "Send" && o.message._tag === "Proposal"
}

function decodesAsTxn(bytes: Uint8Array): boolean {
  try {
    decodeTxn(bytes)
    return true
  } catch {
    return false
  }
}
