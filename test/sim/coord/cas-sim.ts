/**
 * Linearizability of a compare-and-set register on one znode, under simulated partitions,
 * lossy and duplicating links, and crashes (some in the middle of a write).
 *
 * Everything below the client API is the real thing: each simulated server runs the pure
 * consensus core (`core/consensus`) and the real znode tree (`core/coordination` DataTree), wired
 * the way `adapters/server/replica.ts` and `zk-server.ts` wire them:
 *   - a client's write becomes a `CoordTxn` {session, cxid, origin, time, auth, op}; a learner
 *     forwards its encoding to the leader, which proposes it; every replica applies delivered
 *     transactions in zxid order; the origin server answers its client when the transaction
 *     applies (the answer is whatever `DataTree.apply` said: new version or BADVERSION);
 *   - Persist records are synced before any later output is carried out (crashes may strike
 *     between the append and the fsync, as in the Zab simulator);
 *   - a server that stops serving, or whose leader or epoch changes, drops all its clients; a
 *     crashed server loses them too; a restarted server rebuilds its tree from nothing by
 *     re-applying what the core re-delivers from its recovered durable log;
 *   - reads are served from the local tree; a client connecting with a `lastZxidSeen` ahead of
 *     the server's tree is refused (ZooKeeper's "a client never goes back in time").
 *
 * Clients issue one operation at a time:
 *   - `set(value, expectedVersion)`: setData on /cas; `expectedVersion` is the last version the
 *     client saw, or -1 now and then. Answers ok(newVersion) or BADVERSION.
 *   - `get`: ZooKeeper's recipe for an up-to-date read, `sync` then `getData` on the same server
 *     once the sync's reply arrived. The sync is a transaction through consensus, so when it has
 *     applied on the server, that server's tree holds every write that completed before the get
 *     was called (such a write committed before the sync was even proposed, and Zab orders the
 *     sync after it), and the tree never goes back. A *plain* local getData is not linearizable
 *     in ZooKeeper, and is not what we check: a follower serves reads from whatever prefix of the
 *     log it has applied, which may lag the leader (a Commit still in flight, or a follower cut
 *     off by a partition that keeps serving until its syncLimit expires), so a read may miss a
 *     write that already returned to another client. ZooKeeper promises only sequential
 *     consistency for plain reads. The `staleReads` bug flag turns the plain read on, to show
 *     the checker notices.
 * A client whose server drops it, or that gets no answer within a timeout, records the
 * operation as pending (it may or may not take effect, at any later time), tells the server it
 * hangs up, and moves to another server. An operation the server refused before submitting
 * anything (it was sent on a connection the server no longer had open) is removed from the
 * history, since it is known not to have happened.
 *
 * The history (times are global simulated time) is checked with the Wing–Gong–Lowe checker
 * against `znodeModel`. While running, every replica's tree digest right after applying zxid z
 * is compared with every other replica's digest at z, and (optionally) the consensus invariants
 * are checked on the spec view after every step, as in the Zab simulator.
 *
 * Replay a seed: `npm run sim -- --cas --seed N` (see README.md).
 */
import {
  makeConfig,
  recoverDurable,
  specMessage,
  specNode,
  start,
  step,
  type BugFlags,
  type Input,
  type Message,
  type NodeState,
  type Persist,
  type SpecMessage,
  type SpecNode,
  type StepResult,
  type Snapshot,
  type Txn,
} from "../../../core/consensus/index.ts"
import { DataTree, Err, OPEN_ACL_UNSAFE, decodeTxn, encodeTxn, errName, type CoordTxn, type TxnOp } from "../../../core/coordination/index.ts"
import { check, HistoryRecorder, type CheckResult, type Operation } from "../../linearizability/checker.ts"
import { znodeModel, type ZnodeInput, type ZnodeOutput, type ZnodeState } from "../../linearizability/models.ts"
import { makeClocks, type SimClock } from "../clock.ts"
import { SimDisk } from "../disk.ts"
import { EventQueue } from "../events.ts"
import { applyNetworkFault, randomFaultSchedule, type FaultEvent } from "../faults.ts"
import { SimNetwork, type Delivery, type NetworkConfig } from "../network.ts"
import { Prng } from "../prng.ts"
import { SpecRecorder } from "../zab/recorder.ts"

/** Seeded bugs in this harness's server/client logic (not in the core), to show the check can fail. */
export interface CasBugs {
  /** `get` is a plain local getData on the client's server, without the sync before it. */
  readonly staleReads?: boolean
}

export interface CasSimOptions {
  readonly seed: number
  readonly voters?: number
  readonly observers?: number
  readonly clients?: number
  /** Length of the chaos phase (faults), simulated ms, counted from the end of the setup. */
  readonly chaosMs?: number
  /** Healed, calm phase after the chaos: every client must complete an operation in it. */
  readonly livenessMs?: number
  readonly tickMs?: number
  /** A client gives up on a connect or an operation after this long (the op stays pending). */
  readonly clientTimeoutMs?: number
  /** A client waits uniformly 0..thinkMs between operations. */
  readonly thinkMs?: number
  /** Probability that an operation is a get (else a set). */
  readonly getRate?: number
  /** Probability that a set is unconditional (expectedVersion -1). */
  readonly unconditionalRate?: number
  /** Peer network (Zab messages and forwarded writes). */
  readonly network?: Partial<NetworkConfig>
  /** Explicit fault schedule (times relative to the end of the setup); otherwise drawn from the seed. */
  readonly faults?: readonly FaultEvent[]
  readonly meanFaultGapMs?: number
  /**
   * Check the consensus invariants on the spec view after every step, as the Zab simulator does.
   * Off by default: some invariants are quadratic in the history length, and these runs commit
   * hundreds of transactions per epoch (a few seconds per seed instead of tens of ms).
   */
  readonly checkConsensus?: boolean
  readonly bugs?: CasBugs
  readonly consensusBugs?: BugFlags
  /**
   * Every this many applied transactions a server snapshots its tree and compacts its consensus
   * log up to its previous snapshot (as the real server does). Off when absent. Restarts and
   * SNAPs then hand trees over as snapshots, which must match the replica digests.
   */
  readonly compactEvery?: number
  /** Step budget of the linearizability check. */
  readonly maxCheckSteps?: number
}

export type CasInput = ZnodeInput<string>
export type CasOutput = ZnodeOutput<string>
export type CasOperation = Operation<CasInput, CasOutput>

export interface CasSimStats {
  readonly setsOk: number
  readonly badVersions: number
  readonly setsPending: number
  readonly getsOk: number
  /** Gets that never returned (the checker drops them: a read that returned nothing shows nothing). */
  readonly getsPending: number
  /** Operations removed from the history because the server refused them before submitting. */
  readonly refused: number
  readonly timeouts: number
  /** Times a server dropped a client (stopped serving, leader or epoch change, crash). */
  readonly drops: number
  readonly crashes: number
  /** Crashes that struck between a Persist's append and its fsync. */
  readonly crashesMidPersist: number
  /** Sets that never returned but that the linearization shows took effect. */
  readonly pendingApplied: number
  /** Distinct zxids applied somewhere. */
  readonly txns: number
  /** Replica digests compared against the first replica to reach the same zxid. */
  readonly digestChecks: number
  /** Log compactions (with `compactEvery`). */
  readonly compactions: number
  /** Snapshots a server installed (a restart from a compacted log, or a SNAP). */
  readonly installs: number
  readonly checkerSteps: number
  /** From healing until every client had completed an operation (-1: never). */
  readonly recoveryMs: number
  readonly setupMs: number
  readonly simulatedMs: number
  readonly events: number
}

export interface CasSimResult {
  readonly seed: number
  readonly label: string
  readonly ok: boolean
  readonly violation?: { readonly check: string; readonly message: string; readonly time: number }
  readonly history: readonly CasOperation[]
  readonly initial: ZnodeState<string>
  readonly check?: CheckResult<ZnodeState<string>, CasInput, CasOutput>
  readonly stats: CasSimStats
  readonly faults: readonly FaultEvent[]
  readonly replay: string
}

// ---------------------------------------------------------------------------------------------
// Messages

/** Server-to-server: consensus messages. Forwarded writes travel on a second network (below). */
type PeerMsg = Message

/** What a client asks its server. */
type ReqOp =
  | { readonly type: "set"; readonly value: string; readonly version: number }
  | { readonly type: "sync" }
  | { readonly type: "read" }
  | { readonly type: "create" }

type Reply =
  | { readonly type: "setOk"; readonly version: number }
  | { readonly type: "badVersion" }
  | { readonly type: "synced" }
  | { readonly type: "data"; readonly value: string; readonly version: number }
  | { readonly type: "created" }

type ClientMsg =
  // client -> server
  | { readonly t: "connect"; readonly conn: number; readonly session: bigint; readonly lastZxid: number }
  | { readonly t: "req"; readonly conn: number; readonly cxid: number; readonly op: ReqOp }
  | { readonly t: "hangup"; readonly conn: number }
  // server -> client
  | { readonly t: "connected"; readonly conn: number; readonly session: bigint; readonly zxid: number }
  /** The connect was refused, or a request came on a connection that is not open: nothing was submitted. */
  | { readonly t: "refused"; readonly conn: number; readonly why: string }
  /** The server dropped the connection; whatever was in flight may or may not happen. */
  | { readonly t: "closed"; readonly conn: number; readonly why: string }
  | { readonly t: "reply"; readonly conn: number; readonly cxid: number; readonly zxid: number; readonly reply: Reply }

type Ev =
  | { readonly kind: "peer"; readonly d: Delivery<PeerMsg> }
  | { readonly kind: "forward"; readonly d: Delivery<Uint8Array> }
  | { readonly kind: "client"; readonly d: Delivery<ClientMsg> }
  | { readonly kind: "tick"; readonly node: number; readonly incarnation: number }
  | { readonly kind: "fault"; readonly f: FaultEvent }
  | { readonly kind: "phase"; readonly to: "liveness" | "quiet" | "end" }
  | { readonly kind: "wake"; readonly client: number; readonly gen: number }
  | { readonly kind: "timeout"; readonly client: number; readonly gen: number }
  | { readonly kind: "setupDeadline" }
  | { readonly kind: "compact"; readonly node: number; readonly incarnation: number; readonly zxid: number; readonly data: Uint8Array }

// ---------------------------------------------------------------------------------------------
// State

interface Conn {
  readonly client: number
  readonly session: bigint
}

interface Server {
  readonly id: number
  state: NodeState | undefined // undefined while crashed
  incarnation: number
  view: SpecNode
  crashMidPersist: boolean
  tree: DataTree
  /** Applied since the last snapshot, and that snapshot (the next one compacts the log to it). */
  sinceSnapshot: number
  lastSnapshot: { zxid: number; data: Uint8Array } | undefined
  /** Position (from the first transaction ever) of the last transaction the tree holds. */
  position: number
  serving: boolean
  leader: number
  epoch: number
  /** Open client connections, by connection id. */
  readonly conns: Map<number, Conn>
  /** Connects waiting for their createSession to apply: the txn's cxid is the connection id. */
  readonly connecting: Map<number, number>
  /** Writes (and syncs) of this server's clients awaiting their apply, by `${session}:${cxid}`. */
  readonly pending: Map<string, { readonly conn: number; readonly cxid: number }>
}

type ClientOp =
  | { readonly kind: "set"; readonly handle: number; readonly cxid: number; readonly input: CasInput }
  | { readonly kind: "get-sync"; readonly handle: number; readonly cxid: number }
  | { readonly kind: "get-read"; readonly handle: number; readonly cxid: number }
  | { readonly kind: "create"; readonly cxid: number }

interface Client {
  /** 0 is the setup client (not recorded); workers are 1..clients. */
  readonly id: number
  readonly addr: number
  readonly prng: Prng
  session: bigint
  server: number
  conn: number // 0: none
  connected: boolean
  lastZxid: number
  /** Last version of /cas this client saw (the expected version of its next conditional set). */
  lastVersion: number
  nextCxid: number
  nextValue: number
  op: ClientOp | undefined
  /** Bumped whenever a wake-up or timeout becomes obsolete. */
  gen: number
  done: boolean
  completedInLiveness: number
}

class Violation extends Error {
  constructor(
    readonly check: string,
    message: string,
  ) {
    super(message)
  }
}

const CLIENT_ADDR = 1000
const PATH = "/cas"
const INITIAL: ZnodeState<string> = { value: "0", version: 0 }
const EPOCH_MS = 1_700_000_000_000
const enc = new TextEncoder()
const dec = new TextDecoder()

export function runCasSim(o: CasSimOptions): CasSimResult {
  const nVoters = o.voters ?? 3
  const nObservers = o.observers ?? 0
  const nClients = o.clients ?? 4
  const chaosMs = o.chaosMs ?? 3_000
  const livenessMs = o.livenessMs ?? 2_500
  const tickMs = o.tickMs ?? 10
  const clientTimeoutMs = o.clientTimeoutMs ?? 500
  const thinkMs = o.thinkMs ?? 20
  const getRate = o.getRate ?? 0.5
  const unconditionalRate = o.unconditionalRate ?? 0.1
  const quietMs = 300
  const bugs = o.bugs ?? {}
  const voters = Array.from({ length: nVoters }, (_, i) => i + 1)
  const observers = Array.from({ length: nObservers }, (_, i) => nVoters + i + 1)
  const all = [...voters, ...observers]

  const root = new Prng(o.seed)
  const peerConfig: NetworkConfig = { minDelay: 1, maxDelay: 20, lossRate: 0.02, dupRate: 0.02, ...o.network }
  const net = new SimNetwork<PeerMsg>(peerConfig, root.fork())
  // Forwarded writes ride the same links (same partitions, same loss) but are never duplicated:
  // peers talk over TCP, and a duplicated forward would be proposed twice, which no real
  // transport does (Zab messages tolerate duplicates; client writes are not idempotent).
  const fwdNet = new SimNetwork<Uint8Array>({ ...peerConfig, dupRate: 0 }, root.fork())
  // Client connections: TCP, so lossless and FIFO per direction (enforced in clientSend).
  const clientNet = new SimNetwork<ClientMsg>({ minDelay: 1, maxDelay: 5, lossRate: 0, dupRate: 0 }, root.fork())
  const clocks: Map<number, SimClock> = makeClocks(root.fork(), all, { maxSkew: 0.05, maxOffset: 1_000 })
  const crashPrng = root.fork()
  const faultPrng = root.fork()
  const serverPrng = root.fork()
  const clientPrngs = Array.from({ length: nClients + 1 }, () => root.fork())
  const disks = new Map(all.map((n) => [n, new SimDisk<Persist>()]))
  const faults = o.faults ?? randomFaultSchedule(faultPrng, { nodes: all, duration: chaosMs, meanGap: o.meanFaultGapMs ?? 400 })
  const config = (id: number) => makeConfig(id, voters, observers, {}, o.consensusBugs)
  const checkConsensus = o.checkConsensus ?? false

  const q = new EventQueue<Ev>()
  const servers = new Map<number, Server>()
  const clients: Client[] = []
  const recorder = new SpecRecorder(false)
  const history = new HistoryRecorder<CasInput, CasOutput>()
  const digests = new Map<number, { digest: string; node: number }>()
  const fifo = new Map<string, number>()
  let now = 0
  let events = 0
  let crashes = 0
  let crashesMidPersist = 0
  let drops = 0
  let timeouts = 0
  let refused = 0
  let digestChecks = 0
  let compactions = 0
  let installs = 0
  /**
   * Every committed transaction by position, as first delivered anywhere (committed prefixes
   * agree, which the digests and the invariants check). The spec view expands a compacted log's
   * base from it: the tree snapshot itself cannot be turned back into transactions.
   */
  const committedLog: Txn[] = []
  const expand = (b: Snapshot): readonly Txn[] => committedLog.slice(0, b.index)
  let nextConn = 1
  let setupAt: number | undefined
  let phase: "setup" | "chaos" | "liveness" | "quiet" = "setup"
  let livenessAt = Infinity
  let recoveredAt: number | undefined

  // -------------------------------------------------------------------------------------------
  // Consensus side (as test/sim/zab/cluster.ts)

  function observe(id: number, action: string, sent: SpecMessage[]): void {
    if (!checkConsensus) return
    const bad = recorder.step(id, servers.get(id)!.view, action, sent, now)
    if (bad !== undefined) throw new Violation(`Consensus:${bad.name}`, bad.message)
  }

  /** Carries out a step's outputs in order: Persist is synced before anything after it. */
  function execute(id: number, r: StepResult, action: string): void {
    const n = servers.get(id)!
    const disk = disks.get(id)!
    const sent: SpecMessage[] = []
    for (const out of r.outputs) {
      switch (out._tag) {
        case "Persist":
          disk.append(out)
          if (n.crashMidPersist) {
            // Crash before the fsync: the record is lost, survives, or is torn; nothing after it
            // in this step happens (no delivery, no reply, no send).
            n.crashMidPersist = false
            crashesMidPersist++
            const survived = disk.crashBeforeSync(crashPrng)
            if (survived && checkConsensus) {
              n.view = specNode(r.state, expand)
              observe(id, action, [])
            }
            crash(id)
            return
          }
          disk.sync()
          break
        case "Send":
          if (checkConsensus) {
            const m = specMessage(r.state, out.to, out.message, expand)
            if (m !== undefined) sent.push(m)
          }
          for (const d of net.send(now, id, out.to, out.message)) q.push(d.at, { kind: "peer", d })
          break
        case "Deliver":
          if (out.snapshot !== undefined) install(n, out.snapshot)
          for (const t of out.txns) apply(n, t.zxid, t.data)
          break
        case "Proposed":
        case "ProposeRejected":
        case "RoleChanged":
          break
      }
    }
    n.state = r.state
    if (checkConsensus) {
      n.view = specNode(r.state, expand)
      observe(id, action, sent)
    }
    updateServing(n)
  }

  function feed(id: number, input: Input, action: string): void {
    const n = servers.get(id)!
    if (n.state === undefined) return
    execute(id, step(n.state, input), action)
  }

  function scheduleTick(id: number): void {
    const n = servers.get(id)!
    q.push(clocks.get(id)!.globalAfter(now, tickMs), { kind: "tick", node: id, incarnation: n.incarnation })
  }

  function boot(id: number, restart: boolean): void {
    const disk = disks.get(id)!
    const n = servers.get(id)!
    n.incarnation++
    // The tree is rebuilt from nothing: `start` re-delivers every transaction the recovered
    // durable log knows to be committed.
    n.tree = DataTree.empty()
    n.position = 0
    n.sinceSnapshot = 0
    n.lastSnapshot = undefined
    n.serving = false
    n.leader = 0
    n.epoch = -1
    const r = start(config(id), recoverDurable(restart ? disk.recover() : []))
    n.state = r.state // a live server from here on (crash() and updateServing() look at it)
    execute(id, r, restart ? "Restart" : "Start")
    if (n.state !== undefined) scheduleTick(id)
  }

  function crash(id: number): void {
    const n = servers.get(id)!
    if (n.state === undefined) return
    crashes++
    const disk = disks.get(id)!
    if (disk.unsynced > 0 || !disk.isCrashed) disk.crash(crashPrng)
    n.state = undefined
    n.incarnation++ // orphan pending ticks
    // The process is gone: its clients see their connections reset.
    dropClients(n, "server crashed")
    n.serving = false
  }

  // -------------------------------------------------------------------------------------------
  // Server side (as adapters/server/replica.ts and zk-server.ts)

  function updateServing(n: Server): void {
    const c = n.state
    if (c === undefined) return
    const serving = c.phase === "broadcast" && c.role !== "looking"
    const leader = serving ? c.leader : 0
    const epoch = c.currentEpoch
    if (serving === n.serving && leader === n.leader && epoch === n.epoch) return
    // Any change of leader or epoch drops the clients, as ZooKeeper's learners do: their
    // pending writes may be lost, and they must reconnect to find out.
    if (n.serving) dropClients(n, serving ? `new leader ${leader} / epoch ${epoch}` : "stopped serving")
    n.serving = serving
    n.leader = leader
    n.epoch = epoch
  }

  function dropClients(n: Server, why: string): void {
    for (const conn of [...n.conns.keys(), ...n.connecting.keys()]) {
      const client = n.conns.get(conn)?.client ?? n.connecting.get(conn)!
      drops++
      clientSend(n.id, clients[client]!.addr, { t: "closed", conn, why })
    }
    n.conns.clear()
    n.connecting.clear()
    n.pending.clear()
  }

  function isLeader(n: Server): boolean {
    return n.serving && n.state?.role === "leading"
  }

  /** Hands a client's transaction to the leader: proposed here, or forwarded. */
  function submit(n: Server, txn: CoordTxn): void {
    const bytes = encodeTxn(txn)
    if (isLeader(n)) feed(n.id, { _tag: "Propose", data: [bytes] }, "LeaderPropose")
    else for (const d of fwdNet.send(now, n.id, n.leader, bytes)) q.push(d.at, { kind: "forward", d })
  }

  function onForward(n: Server, bytes: Uint8Array): void {
    // Only the established leader proposes; a stale forward is dropped and its origin's client
    // times out or is dropped when its server notices the leader change.
    if (isLeader(n)) feed(n.id, { _tag: "Propose", data: [bytes] }, "LeaderPropose")
  }

  function txnOf(n: Server, session: bigint, cxid: number, op: TxnOp): CoordTxn {
    const time = EPOCH_MS + Math.floor(clocks.get(n.id)!.local(now))
    return { session, cxid, origin: n.id, time, auth: [], op }
  }

  /** A snapshot handed over by the core: the tree must be the one every replica had at its zxid. */
  function install(n: Server, b: Snapshot): void {
    if (b.zxid <= n.tree.lastZxid) throw new Violation("DeliverOrder", `node ${n.id} was handed a snapshot at ${b.zxid} after ${n.tree.lastZxid}`)
    n.tree = DataTree.deserialize(b.data)
    n.position = b.index
    installs++
    const seen = digests.get(b.zxid)
    if (n.tree.lastZxid !== b.zxid || (seen !== undefined && seen.digest !== n.tree.digest())) {
      throw new Violation("ReplicaDigest", `node ${n.id}'s installed snapshot at zxid ${b.zxid} differs from node ${seen?.node}'s tree`)
    }
    if (seen !== undefined) digestChecks++
  }

  function apply(n: Server, zxid: number, data: Uint8Array): void {
    // The core delivers each committed transaction exactly once per incarnation, in zxid order,
    // and every incarnation starts from an empty tree (or a snapshot the core hands over).
    if (zxid <= n.tree.lastZxid) throw new Violation("DeliverOrder", `node ${n.id} was handed zxid ${zxid} after ${n.tree.lastZxid}`)
    n.position++
    const known = committedLog[n.position - 1]
    if (known === undefined) committedLog[n.position - 1] = { zxid, data }
    else if (known.zxid !== zxid) throw new Violation("DeliverOrder", `node ${n.id} delivered zxid ${zxid} at position ${n.position}, elsewhere ${known.zxid}`)
    const txn = decodeTxn(data)
    const { result } = n.tree.apply(txn, zxid)
    if (o.compactEvery !== undefined && ++n.sinceSnapshot >= o.compactEvery) {
      // Snapshot now; compact to the previous one (the core is stepped from the event loop,
      // never from inside the step whose outputs are being carried out).
      n.sinceSnapshot = 0
      const prev = n.lastSnapshot
      n.lastSnapshot = { zxid, data: n.tree.serialize() }
      if (prev !== undefined) q.push(now, { kind: "compact", node: n.id, incarnation: n.incarnation, ...prev })
    }
    // Every replica must hold the same tree after the same zxid.
    const digest = n.tree.digest()
    const seen = digests.get(zxid)
    if (seen === undefined) digests.set(zxid, { digest, node: n.id })
    else {
      digestChecks++
      if (seen.digest !== digest) {
        throw new Violation("ReplicaDigest", `node ${n.id}'s tree after zxid ${zxid} differs from node ${seen.node}'s`)
      }
    }
    if (txn.origin !== n.id) return
    if (txn.op.type === "createSession") {
      const client = n.connecting.get(txn.cxid)
      if (client === undefined) return
      n.connecting.delete(txn.cxid)
      if (result.type !== "createSession") throw new Violation("Assertion", `createSession failed: ${errName(result.err)}`)
      n.conns.set(txn.cxid, { client, session: result.sessionId })
      clientSend(n.id, clients[client]!.addr, { t: "connected", conn: txn.cxid, session: result.sessionId, zxid: n.tree.lastZxid })
      return
    }
    const key = `${txn.session}:${txn.cxid}`
    const p = n.pending.get(key)
    if (p === undefined) return
    n.pending.delete(key)
    const conn = n.conns.get(p.conn)
    if (conn === undefined) return
    let reply: Reply
    if (txn.op.type === "setData") {
      if (result.type === "setData") reply = { type: "setOk", version: result.stat.version }
      else if (result.err === Err.BADVERSION) reply = { type: "badVersion" }
      else throw new Violation("Assertion", `setData answered ${errName(result.err)}`)
    } else if (txn.op.type === "sync") {
      if (result.err !== Err.OK) throw new Violation("Assertion", `sync answered ${errName(result.err)}`)
      reply = { type: "synced" }
    } else if (txn.op.type === "create") {
      if (result.err !== Err.OK && result.err !== Err.NODEEXISTS) throw new Violation("Assertion", `create answered ${errName(result.err)}`)
      reply = { type: "created" }
    } else return
    clientSend(n.id, clients[conn.client]!.addr, { t: "reply", conn: p.conn, cxid: p.cxid, zxid: n.tree.lastZxid, reply })
  }

  function onClientMessage(n: Server, from: number, m: ClientMsg): void {
    const client = from - CLIENT_ADDR
    switch (m.t) {
      case "connect": {
        if (!n.serving) return clientSend(n.id, from, { t: "refused", conn: m.conn, why: "not serving" })
        if (m.lastZxid > n.tree.lastZxid) return clientSend(n.id, from, { t: "refused", conn: m.conn, why: "server is behind the client" })
        if (m.session === 0n) {
          n.connecting.set(m.conn, client)
          const passwd = new Uint8Array(16).map(() => serverPrng.int(256))
          submit(n, txnOf(n, 0n, m.conn, { type: "createSession", timeoutMs: 30_000, passwd }))
          return
        }
        if (n.tree.session(m.session) === undefined) return clientSend(n.id, from, { t: "refused", conn: m.conn, why: "unknown session" })
        n.conns.set(m.conn, { client, session: m.session })
        return clientSend(n.id, from, { t: "connected", conn: m.conn, session: m.session, zxid: n.tree.lastZxid })
      }
      case "req": {
        const conn = n.conns.get(m.conn)
        if (conn === undefined) return clientSend(n.id, from, { t: "refused", conn: m.conn, why: "connection not open" })
        const op = m.op
        if (op.type === "read") {
          // A local read, answered from this server's tree as it is now.
          const g = n.tree.getData(PATH, [])
          if ("err" in g) throw new Violation("Assertion", `getData ${PATH} answered ${errName(g.err)}`)
          const reply: Reply = { type: "data", value: dec.decode(g.data), version: g.stat.version }
          return clientSend(n.id, from, { t: "reply", conn: m.conn, cxid: m.cxid, zxid: n.tree.lastZxid, reply })
        }
        const txnOp: TxnOp =
          op.type === "set"
            ? { type: "setData", path: PATH, data: enc.encode(op.value), version: op.version }
            : op.type === "sync"
              ? { type: "sync", path: PATH }
              : { type: "create", path: PATH, data: enc.encode(INITIAL.value), acl: OPEN_ACL_UNSAFE, mode: 0, ttl: 0 }
        n.pending.set(`${conn.session}:${m.cxid}`, { conn: m.conn, cxid: m.cxid })
        submit(n, txnOf(n, conn.session, m.cxid, txnOp))
        return
      }
      case "hangup": {
        n.conns.delete(m.conn)
        n.connecting.delete(m.conn)
        for (const [k, p] of n.pending) if (p.conn === m.conn) n.pending.delete(k)
        return
      }
      default:
        return
    }
  }

  /** Lossless, FIFO per direction (TCP): a copy never overtakes an earlier one on its link. */
  function clientSend(from: number, to: number, m: ClientMsg): void {
    const key = `${from}>${to}`
    for (const d of clientNet.send(now, from, to, m)) {
      const at = Math.max(d.at, fifo.get(key) ?? 0)
      fifo.set(key, at)
      q.push(at, { kind: "client", d: { ...d, at } })
    }
  }

  // -------------------------------------------------------------------------------------------
  // Clients

  function wakeLater(c: Client, delay: number): void {
    c.gen++
    q.push(now + delay, { kind: "wake", client: c.id, gen: c.gen })
  }

  function armTimeout(c: Client): void {
    q.push(now + clientTimeoutMs, { kind: "timeout", client: c.id, gen: c.gen })
  }

  /** Forget the current connection and try another server a little later. */
  function abandon(c: Client, hangup: boolean): void {
    if (hangup && c.conn !== 0) clientSend(c.addr, c.server, { t: "hangup", conn: c.conn })
    c.conn = 0
    c.connected = false
    c.op = undefined
    wakeLater(c, c.prng.range(5, 30))
  }

  function connect(c: Client): void {
    const others = all.filter((s) => s !== c.server)
    c.server = c.prng.pick(others.length > 0 ? others : all)
    c.conn = nextConn++
    c.connected = false
    clientSend(c.addr, c.server, { t: "connect", conn: c.conn, session: c.session, lastZxid: c.lastZxid })
    c.gen++
    armTimeout(c)
  }

  function sendReq(c: Client, cxid: number, op: ReqOp): void {
    clientSend(c.addr, c.server, { t: "req", conn: c.conn, cxid, op })
  }

  function nextOp(c: Client): void {
    if (c.done) return
    c.gen++
    armTimeout(c)
    const cxid = c.nextCxid++
    if (c.id === 0) {
      c.op = { kind: "create", cxid }
      return sendReq(c, cxid, { type: "create" })
    }
    if (c.prng.chance(getRate)) {
      const handle = history.invoke(c.id, { type: "get" }, now)
      if (bugs.staleReads) {
        c.op = { kind: "get-read", handle, cxid }
        return sendReq(c, cxid, { type: "read" })
      }
      c.op = { kind: "get-sync", handle, cxid }
      return sendReq(c, cxid, { type: "sync" })
    }
    const value = `c${c.id}.${c.nextValue++}`
    const expectedVersion = c.prng.chance(unconditionalRate) ? -1 : c.lastVersion
    const input: CasInput = { type: "set", value, expectedVersion }
    c.op = { kind: "set", handle: history.invoke(c.id, input, now), cxid, input }
    sendReq(c, cxid, { type: "set", value, version: expectedVersion })
  }

  function wake(c: Client): void {
    if (c.done) return
    if (c.id !== 0 && (setupAt === undefined || phase === "quiet")) return
    if (c.conn === 0) return connect(c)
    if (c.connected && c.op === undefined) nextOp(c)
  }

  function completed(c: Client, handle: number, out: CasOutput): void {
    history.complete(handle, out, now)
    if (now >= livenessAt && c.completedInLiveness++ === 0) {
      if (clients.every((x) => x.id === 0 || x.completedInLiveness > 0)) recoveredAt = now
    }
    c.op = undefined
    wakeLater(c, c.prng.range(0, thinkMs))
  }

  function onServerMessage(c: Client, m: ClientMsg): void {
    if (m.conn !== c.conn || m.conn === 0) return // a stale connection's news
    switch (m.t) {
      case "connected":
        c.connected = true
        c.session = m.session
        c.lastZxid = Math.max(c.lastZxid, m.zxid)
        return wakeLater(c, 0)
      case "refused": {
        // Nothing was submitted for whatever was outstanding on this connection.
        const op = c.op
        if (op !== undefined && op.kind !== "create") {
          history.fail(op.handle)
          refused++
        }
        return abandon(c, false)
      }
      case "closed":
        // The outstanding operation, if any, stays pending: it may still take effect.
        return abandon(c, false)
      case "reply": {
        const op = c.op
        if (op === undefined || op.cxid !== m.cxid) return
        c.lastZxid = Math.max(c.lastZxid, m.zxid)
        const r = m.reply
        switch (op.kind) {
          case "create":
            c.op = undefined
            c.done = true
            setupDone()
            return
          case "get-sync": {
            // The sync applied on this server: now read its tree, on the same connection.
            c.gen++
            armTimeout(c)
            const cxid = c.nextCxid++
            c.op = { kind: "get-read", handle: op.handle, cxid }
            return sendReq(c, cxid, { type: "read" })
          }
          case "get-read":
            if (r.type !== "data") throw new Violation("Assertion", `a read answered ${r.type}`)
            c.lastVersion = r.version
            return completed(c, op.handle, { type: "value", value: r.value, version: r.version })
          case "set":
            if (r.type === "setOk") {
              c.lastVersion = r.version
              return completed(c, op.handle, { type: "ok", version: r.version })
            }
            if (r.type === "badVersion") return completed(c, op.handle, { type: "badVersion" })
            throw new Violation("Assertion", `a set answered ${r.type}`)
        }
        return
      }
      default:
        return
    }
  }

  function onTimeout(c: Client): void {
    timeouts++
    // The operation (if any) stays pending; hang up and try elsewhere.
    abandon(c, true)
  }

  function setupDone(): void {
    if (setupAt !== undefined) return
    setupAt = now
    phase = "chaos"
    for (const f of faults) q.push(now + f.at, { kind: "fault", f })
    livenessAt = now + chaosMs
    q.push(livenessAt, { kind: "phase", to: "liveness" })
    q.push(livenessAt + livenessMs - quietMs, { kind: "phase", to: "quiet" })
    q.push(livenessAt + livenessMs, { kind: "phase", to: "end" })
    for (const c of clients) if (c.id !== 0) wakeLater(c, c.prng.range(0, thinkMs))
  }

  // -------------------------------------------------------------------------------------------
  // Run

  for (const id of all) {
    const view = specNode(start(config(id), recoverDurable([])).state, expand)
    servers.set(id, {
      id,
      state: undefined,
      incarnation: 0,
      view,
      crashMidPersist: false,
      tree: DataTree.empty(),
      sinceSnapshot: 0,
      lastSnapshot: undefined,
      position: 0,
      serving: false,
      leader: 0,
      epoch: -1,
      conns: new Map(),
      connecting: new Map(),
      pending: new Map(),
    })
  }
  if (checkConsensus) recorder.start(new Map([...servers].map(([k, s]) => [k, s.view])))
  for (let i = 0; i <= nClients; i++) {
    clients.push({
      id: i,
      addr: CLIENT_ADDR + i,
      prng: clientPrngs[i]!,
      session: 0n,
      server: 0,
      conn: 0,
      connected: false,
      lastZxid: 0,
      lastVersion: INITIAL.version,
      nextCxid: 1,
      nextValue: 1,
      op: undefined,
      gen: 0,
      done: false,
      completedInLiveness: 0,
    })
  }

  let violation: CasSimResult["violation"]
  let finished = false
  try {
    for (const id of all) boot(id, false)
    q.push(5_000, { kind: "setupDeadline" })
    wakeLater(clients[0]!, 50)
    for (let x = q.pop(); x !== undefined; x = q.pop()) {
      now = x.time
      events++
      const e = x.e
      switch (e.kind) {
        case "peer": {
          const to = servers.get(e.d.to)!
          if (to.state !== undefined && net.deliver(e.d)) {
            feed(e.d.to, { _tag: "Receive", from: e.d.from, message: e.d.msg }, `Receive${e.d.msg._tag}`)
          }
          break
        }
        case "forward": {
          const to = servers.get(e.d.to)!
          if (to.state !== undefined && fwdNet.deliver(e.d)) onForward(to, e.d.msg)
          break
        }
        case "client": {
          if (!clientNet.deliver(e.d)) break
          if (e.d.to >= CLIENT_ADDR) onServerMessage(clients[e.d.to - CLIENT_ADDR]!, e.d.msg)
          else {
            const to = servers.get(e.d.to)!
            if (to.state !== undefined) onClientMessage(to, e.d.from, e.d.msg)
          }
          break
        }
        case "compact": {
          const n = servers.get(e.node)!
          if (n.state === undefined || n.incarnation !== e.incarnation) break
          if (e.zxid > n.state.log.baseZxid) compactions++
          feed(e.node, { _tag: "Compact", zxid: e.zxid, data: e.data }, "Compact")
          break
        }
        case "tick": {
          const n = servers.get(e.node)!
          if (n.state === undefined || n.incarnation !== e.incarnation) break
          feed(e.node, { _tag: "Tick" }, "Tick")
          if (n.state !== undefined && n.incarnation === e.incarnation) scheduleTick(e.node)
          break
        }
        case "wake": {
          const c = clients[e.client]!
          if (c.gen === e.gen) wake(c)
          break
        }
        case "timeout": {
          const c = clients[e.client]!
          if (c.gen === e.gen && !c.done) onTimeout(c)
          break
        }
        case "setupDeadline":
          if (setupAt === undefined) throw new Violation("Setup", `${PATH} was not created within 5000 ms`)
          break
        case "fault": {
          const f = e.f
          if (applyNetworkFault(net, f)) {
            if (f.kind === "lossy") fwdNet.setFaults({ lossRate: f.lossRate })
            else applyNetworkFault(fwdNet, f)
            break
          }
          if (f.kind === "crash") {
            // Half the crashes strike inside a persisting step rather than between steps.
            if (crashPrng.chance(0.5)) servers.get(f.node)!.crashMidPersist = true
            else crash(f.node)
          } else if (f.kind === "restart") {
            const n = servers.get(f.node)!
            if (n.state !== undefined && n.crashMidPersist) {
              n.crashMidPersist = false
              crash(f.node)
            }
            if (n.state === undefined) boot(f.node, true)
          }
          break
        }
        case "phase":
          if (e.to === "liveness") {
            phase = "liveness"
            for (const nw of [net, fwdNet] as const) {
              nw.heal()
              nw.setFaults({ lossRate: 0, dupRate: 0 })
            }
            for (const id of all) {
              const n = servers.get(id)!
              n.crashMidPersist = false
              if (n.state === undefined) boot(id, true)
            }
          } else if (e.to === "quiet") {
            phase = "quiet" // clients finish what they started and issue nothing new
          } else finished = true
          break
      }
      if (finished) break
    }
    if (!finished) throw new Violation("Assertion", "the event queue ran dry")
    // Liveness: once healed, every client got answers.
    const stuck = clients.filter((c) => c.id !== 0 && c.completedInLiveness === 0).map((c) => c.id)
    if (stuck.length > 0) throw new Violation("Liveness", `clients ${stuck.join(",")} completed nothing in the ${livenessMs} ms after healing`)
    // Convergence: after the quiet period every replica holds the same tree.
    const first = servers.get(all[0]!)!
    for (const id of all) {
      const n = servers.get(id)!
      if (n.state === undefined) throw new Violation("Convergence", `node ${id} is down at the end`)
      if (n.tree.lastZxid !== first.tree.lastZxid || n.tree.digest() !== first.tree.digest()) {
        throw new Violation(
          "Convergence",
          `node ${id} ended at zxid ${n.tree.lastZxid}, node ${first.id} at ${first.tree.lastZxid} (or their trees differ)`,
        )
      }
    }
  } catch (err) {
    if (err instanceof Violation) violation = { check: err.check, message: err.message, time: now }
    else violation = { check: "Assertion", message: err instanceof Error ? `${err.message}\n${err.stack}` : String(err), time: now }
  }

  const ops = history.history()
  let result: CheckResult<ZnodeState<string>, CasInput, CasOutput> | undefined
  if (violation === undefined) {
    result = check(znodeModel<string>(INITIAL), ops, { maxSteps: o.maxCheckSteps ?? 5_000_000 })
    if (result.verdict !== "linearizable") {
      violation = { check: "Linearizability", message: result.explanation, time: now }
    }
  }

  const pending = (op: CasOperation) => op.output === undefined || op.ret === Infinity
  const sets = ops.filter((op) => op.input.type === "set")
  const gets = ops.filter((op) => op.input.type === "get")
  const stats: CasSimStats = {
    setsOk: sets.filter((op) => op.output?.type === "ok").length,
    badVersions: sets.filter((op) => op.output?.type === "badVersion").length,
    setsPending: sets.filter(pending).length,
    getsOk: gets.filter((op) => !pending(op)).length,
    getsPending: gets.filter(pending).length,
    refused,
    timeouts,
    drops,
    crashes,
    crashesMidPersist,
    pendingApplied: result?.ok ? result.linearization.filter((x) => pending(x.op)).length : 0,
    txns: digests.size,
    digestChecks,
    compactions,
    installs,
    checkerSteps: result?.steps ?? 0,
    recoveryMs: recoveredAt === undefined ? -1 : recoveredAt - livenessAt,
    setupMs: setupAt ?? -1,
    simulatedMs: now,
    events,
  }
  const flags = [
    ...(o.voters !== undefined && o.voters !== 3 ? [`--voters ${o.voters}`] : []),
    ...(nObservers !== 0 ? [`--observers ${nObservers}`] : []),
    ...(o.clients !== undefined && o.clients !== 4 ? [`--clients ${o.clients}`] : []),
    ...(o.chaosMs !== undefined && o.chaosMs !== 3_000 ? [`--chaos ${o.chaosMs}`] : []),
    ...(o.livenessMs !== undefined && o.livenessMs !== 2_500 ? [`--liveness ${o.livenessMs}`] : []),
    ...(checkConsensus ? ["--consensus"] : []),
    ...(o.compactEvery !== undefined ? [`--compact ${o.compactEvery}`] : []),
    ...Object.entries(bugs)
      .filter(([, v]) => v)
      .map(([k]) => `--cas-bug ${k}`),
  ]
    .map((f) => ` ${f}`)
    .join("")
  const base = {
    seed: o.seed,
    label: `cas simulator seed ${o.seed}${flags}`,
    ok: violation === undefined,
    history: ops,
    initial: INITIAL,
    stats,
    faults,
    replay: `npm run sim -- --cas --seed ${o.seed}${flags}${o.faults !== undefined ? " (with the explicit fault schedule)" : ""}`,
    ...(result !== undefined ? { check: result } : {}),
  }
  return violation === undefined ? base : { ...base, violation }
}

// ---------------------------------------------------------------------------------------------
// Command line: `npm run sim -- --cas ...` (test/sim/cli.ts hands over here)

/**
 * `--seed N` replays one run; `--seeds K [--from S]` sweeps K seeds (observers alternate 0/1
 * unless `--observers` is given). Options: --voters, --observers, --clients, --chaos MS,
 * --liveness MS, --consensus (check the consensus invariants too), --cas-bug staleReads,
 * --history (print the history of a failing run), --quiet. Returns the exit code.
 */
export function casCli(args: readonly string[]): number {
  const opt = (name: string): string | undefined => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : undefined
  }
  const num = (name: string): number | undefined => {
    const v = opt(name)
    if (v === undefined) return undefined
    const n = Number(v)
    if (!Number.isInteger(n)) throw new Error(`--${name} needs an integer, got ${v}`)
    return n
  }
  const bug = opt("cas-bug")
  if (bug !== undefined && bug !== "staleReads") {
    console.error(`unknown --cas-bug ${bug}; known: staleReads`)
    return 2
  }
  const single = num("seed")
  const seeds = single !== undefined ? [single] : Array.from({ length: num("seeds") ?? 20 }, (_, i) => (num("from") ?? 1) + i)
  const t0 = performance.now()
  let failed = 0
  for (const seed of seeds) {
    const voters = num("voters")
    const clients = num("clients")
    const chaosMs = num("chaos")
    const livenessMs = num("liveness")
    const compactEvery = num("compact")
    const r = runCasSim({
      seed,
      observers: num("observers") ?? (single !== undefined ? 0 : seed % 2),
      ...(voters !== undefined ? { voters } : {}),
      ...(clients !== undefined ? { clients } : {}),
      ...(chaosMs !== undefined ? { chaosMs } : {}),
      ...(livenessMs !== undefined ? { livenessMs } : {}),
      checkConsensus: args.includes("--consensus"),
      ...(bug !== undefined ? { bugs: { [bug]: true } } : {}),
      ...(compactEvery !== undefined ? { compactEvery } : {}),
    })
    const s = r.stats
    const line =
      `seed ${seed}: ${r.ok ? "ok" : `FAIL (${r.violation!.check})`}  sets ok=${s.setsOk} badversion=${s.badVersions} ` +
      `pending=${s.setsPending} (took effect: ${s.pendingApplied})  gets=${s.getsOk}  crashes=${s.crashes} ` +
      `(mid-persist ${s.crashesMidPersist})  recovery=${s.recoveryMs}ms  txns=${s.txns} digestChecks=${s.digestChecks} checkerSteps=${s.checkerSteps}` +
      (s.compactions > 0 ? ` compactions=${s.compactions} installs=${s.installs}` : "")
    if (!r.ok) {
      failed++
      console.log(line)
      console.log(`  at t=${r.violation!.time}ms: ${r.violation!.message.split("\n").join("\n  ")}`)
      console.log(`  replay: ${r.replay}`)
      if (args.includes("--history")) for (const op of r.history) console.log(`  ${JSON.stringify(op)}`)
    } else if (!args.includes("--quiet")) console.log(line)
  }
  console.log(`${seeds.length} seeds in ${((performance.now() - t0) / 1000).toFixed(1)}s: ${seeds.length - failed} passed, ${failed} failed`)
  return failed > 0 ? 1 : 0
}
