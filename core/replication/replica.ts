/**
 * One replica of a partition, as a pure state machine (PROTOCOL.md): the leader's appends, the
 * high watermark over the maximal ISR, acks, ISR shrink/expand proposals; the follower's fetches
 * with divergence truncation. `step(state, input)` returns the new state and outputs as data; the
 * embedder carries out `Persist` (and confirms with `Persisted`), `Send`, `ProduceResult`.
 *
 * Persist-before-send: a follower's `Fetch` claims every record below `fetchOffset`, so it is sent
 * only once the log is durable (`durable === log.length`); a leader counts its own records for the
 * high watermark only up to `durable`, and answers acks=1 only for durable records. `leaderEpoch`
 * in a `Persist` must be durable before the step's other outputs go out.
 */
import { assignEpoch, endOffsetFor, truncateEpochsFromEnd, type EpochEntry } from "../log/epoch-cache.ts"
import { EntryLog } from "./entry-log.ts"
import { CONTROLLER, NONE, type Acks, type Durable, type Entry, type Input, type Message, type Output, type PartitionState, type ProduceError, type ReplicaId } from "./types.ts"

export interface ReplicaConfig {
  readonly id: ReplicaId
  readonly replicas: readonly ReplicaId[]
  /** min.insync.replicas: acks=all needs an ISR at least this large. */
  readonly minIsr: number
  /** replica.lag.time.max.ms: a follower not caught up for this long leaves the ISR. */
  readonly lagTimeMaxMs: number
  /** A follower's pause after a fetch that brought nothing (Kafka's leader holds it instead). */
  readonly fetchBackoffMs: number
  /** A fetch unanswered this long is sent again (its response may be lost). */
  readonly fetchTimeoutMs: number
  /** An AlterPartition unanswered this long is sent again. */
  readonly alterResendMs: number
  /** Most records one fetch response carries. */
  readonly maxFetchRecords: number
  /** Seeded historical bugs, for the bug zoo only. */
  readonly bugs?: ReplicationBugs
}

/**
 * Kafka's replication bugs, seeded on purpose so the checks can show they catch them:
 * - `truncateToHwOnRestart`: pre-KIP-101, a restarted replica cut its log to its high watermark;
 * - `noKip279Min`: pre-KIP-279, a follower truncated to the leader's end offset for the epoch
 *   without bounding it by its own, keeping a divergent tail after quick leader changes. As
 *   before KIP-320, it then fetches without its last epoch (truncation was a one-off step), so
 *   the leader does not catch the divergence again;
 * - `undersizedIsrAck`: acks=all answered success with an ISR below min.insync.replicas.
 */
export interface ReplicationBugs {
  readonly truncateToHwOnRestart?: boolean
  readonly noKip279Min?: boolean
  readonly undersizedIsrAck?: boolean
}

export const defaultReplicaTimings = { lagTimeMaxMs: 3000, fetchBackoffMs: 50, fetchTimeoutMs: 500, alterResendMs: 500, maxFetchRecords: 100 } as const

export type Role = "Leader" | "Follower" | "Offline"

interface Waiting {
  readonly requestId: number
  readonly offset: number
  readonly acks: Acks
}

export interface ReplicaState {
  readonly config: ReplicaConfig
  readonly role: Role
  readonly leader: ReplicaId
  readonly leaderEpoch: number
  readonly isr: readonly ReplicaId[]
  readonly partitionEpoch: number
  readonly log: EntryLog
  /** Derived from `log` (first offset of each epoch), kept in step with it. */
  readonly epochs: readonly EpochEntry[]
  readonly durable: number
  readonly hw: number
  readonly now: number
  // Leader only
  readonly leaderStart: number
  readonly pendingIsr: readonly ReplicaId[] | undefined
  readonly alterSentAt: number
  readonly followerEnd: ReadonlyMap<ReplicaId, number>
  readonly caughtUpAt: ReadonlyMap<ReplicaId, number>
  /** Each follower's previous fetch: when, and the log end then (Kafka's catch-up rule). */
  readonly lastFetch: ReadonlyMap<ReplicaId, { readonly at: number; readonly logEnd: number }>
  readonly waiting: readonly Waiting[]
  // Follower only
  readonly fetchInFlight: boolean
  /** Bug zoo (`noKip279Min`): after its one truncation, fetches carry no last epoch. */
  readonly truncatedOnce: boolean
  readonly fetchSentAt: number
  readonly nextFetchAt: number
}

export interface StepResult {
  readonly state: ReplicaState
  readonly outputs: readonly Output[]
}

function deriveEpochs(log: readonly Entry[]): readonly EpochEntry[] {
  let epochs: readonly EpochEntry[] = []
  log.forEach((e, i) => (epochs = assignEpoch(epochs, e.epoch, i)))
  return epochs
}

/** A replica after (re)start: offline, with what its disk holds, until the controller speaks. */
export function start(config: ReplicaConfig, durable: Durable, now = 0): StepResult {
  const state = initial(config, durable, now)
  if (config.bugs?.truncateToHwOnRestart && state.hw < state.log.length) {
    const d: Draft = { ...state }
    const out: Output[] = []
    truncate(d, out, state.hw)
    return { state: d, outputs: out }
  }
  return { state, outputs: [] }
}

function initial(config: ReplicaConfig, durable: Durable, now: number): ReplicaState {
  return {
    config,
    role: "Offline",
    leader: NONE,
    leaderEpoch: durable.leaderEpoch,
    isr: [],
    partitionEpoch: -1,
    log: EntryLog.of(durable.log),
    epochs: deriveEpochs(durable.log),
    durable: durable.log.length,
    hw: Math.min(durable.hw, durable.log.length),
    now,
    leaderStart: 0,
    pendingIsr: undefined,
    alterSentAt: 0,
    followerEnd: new Map(),
    caughtUpAt: new Map(),
    lastFetch: new Map(),
    waiting: [],
    fetchInFlight: false,
    truncatedOnce: false,
    fetchSentAt: 0,
    nextFetchAt: 0,
  }
}

type Draft = { -readonly [K in keyof ReplicaState]: ReplicaState[K] }

export const lastEpoch = (s: Pick<ReplicaState, "log">): number => s.log.last?.epoch ?? -1
const union = (a: readonly ReplicaId[], b: readonly ReplicaId[] = []): ReplicaId[] => [...new Set([...a, ...b])].sort((x, y) => x - y)

export function step(s: ReplicaState, input: Input): StepResult {
  const d: Draft = { ...s }
  const out: Output[] = []
  switch (input._tag) {
    case "Tick":
      d.now = Math.max(d.now, input.now)
      onTick(d, out)
      break
    case "Produce":
      onProduce(d, out, input.requestId, input.data, input.acks)
      break
    case "Persisted":
      d.durable = Math.max(d.durable, Math.min(input.upTo, d.log.length))
      advanceHw(d, out)
      completeWaiting(d, out)
      maybeFetch(d, out)
      break
    case "Receive":
      onMessage(d, out, input.from, input.message)
      break
  }
  return { state: d, outputs: out }
}

function onMessage(d: Draft, out: Output[], from: ReplicaId, m: Message): void {
  switch (m._tag) {
    case "LeaderAndIsr":
      return onLeaderAndIsr(d, out, m.state)
    case "Fetch":
      return onFetch(d, out, from, m)
    case "FetchResponse":
      return onFetchResponse(d, out, from, m)
    case "AlterPartition":
      return // for the controller
  }
}

// ---------------------------------------------------------------------------------------------
// Role changes

function onLeaderAndIsr(d: Draft, out: Output[], st: PartitionState): void {
  const id = d.config.id
  // A restarted replica rejoins its epoch as a follower, never as its leader (see Persist).
  const accept = st.leaderEpoch > d.leaderEpoch || (st.leaderEpoch === d.leaderEpoch && d.role === "Offline" && st.leader !== id)
  if (!accept) {
    if (st.leaderEpoch === d.leaderEpoch && d.role !== "Offline" && st.partitionEpoch > d.partitionEpoch) {
      // The controller decided an ISR change (ours or not): adopt it.
      d.isr = st.isr
      d.partitionEpoch = st.partitionEpoch
      d.pendingIsr = undefined
      advanceHw(d, out)
      completeWaiting(d, out)
    }
    return
  }
  failWaiting(d, out, "NOT_LEADER_OR_FOLLOWER")
  d.leaderEpoch = st.leaderEpoch
  d.leader = st.leader
  d.isr = st.isr
  d.partitionEpoch = st.partitionEpoch
  d.pendingIsr = undefined
  d.fetchInFlight = false
  out.push({ _tag: "Persist", leaderEpoch: st.leaderEpoch })
  if (st.leader === id) {
    d.role = "Leader"
    d.leaderStart = d.log.length
    const others = d.config.replicas.filter((r) => r !== id)
    d.followerEnd = new Map(others.map((r) => [r, 0]))
    d.caughtUpAt = new Map(others.map((r) => [r, d.now]))
    d.lastFetch = new Map()
    out.push({ _tag: "RoleChanged", role: "Leader", leader: id, leaderEpoch: st.leaderEpoch })
    advanceHw(d, out)
  } else {
    d.role = "Follower"
    d.nextFetchAt = d.now
    d.truncatedOnce = false
    out.push({ _tag: "RoleChanged", role: "Follower", leader: st.leader, leaderEpoch: st.leaderEpoch })
    maybeFetch(d, out)
  }
}

// ---------------------------------------------------------------------------------------------
// Leader

function onProduce(d: Draft, out: Output[], requestId: number, data: Uint8Array, acks: Acks): void {
  if (d.role !== "Leader") return void out.push({ _tag: "ProduceResult", requestId, error: "NOT_LEADER_OR_FOLLOWER" })
  if (acks === -1 && d.isr.length < d.config.minIsr && !d.config.bugs?.undersizedIsrAck) return void out.push({ _tag: "ProduceResult", requestId, error: "NOT_ENOUGH_REPLICAS" })
  const entry: Entry = { epoch: d.leaderEpoch, data }
  const offset = d.log.length
  d.log = d.log.append([entry])
  d.epochs = assignEpoch(d.epochs, entry.epoch, offset)
  out.push({ _tag: "Persist", append: [entry] })
  if (acks !== 0) d.waiting = [...d.waiting, { requestId, offset, acks }]
}

function onFetch(d: Draft, out: Output[], from: ReplicaId, m: Extract<Message, { _tag: "Fetch" }>): void {
  const reply = (r: Partial<Extract<Message, { _tag: "FetchResponse" }>>): void =>
    void out.push({ _tag: "Send", to: from, message: { _tag: "FetchResponse", leaderEpoch: d.leaderEpoch, fetchOffset: m.fetchOffset, lastFetchedEpoch: m.lastFetchedEpoch, records: [], hw: d.hw, ...r } })
  if (m.leaderEpoch < d.leaderEpoch) return reply({ error: "FENCED_LEADER_EPOCH" })
  if (m.leaderEpoch > d.leaderEpoch) return reply({ error: "UNKNOWN_LEADER_EPOCH" })
  if (d.role !== "Leader") return // restarted, not leading in its old epoch: the follower times out
  if (m.lastFetchedEpoch >= 0) {
    const e = endOffsetFor(d.epochs, m.lastFetchedEpoch, d.log.length)
    if (e.epoch !== m.lastFetchedEpoch || e.endOffset < m.fetchOffset) return reply({ diverging: { epoch: e.epoch, endOffset: e.endOffset } })
  }
  if (m.fetchOffset > d.log.length) return reply({ diverging: { epoch: lastEpoch(d), endOffset: d.log.length } })
  const records = d.log.slice(m.fetchOffset, m.fetchOffset + d.config.maxFetchRecords)
  reply({ records })
  d.followerEnd = new Map(d.followerEnd).set(from, m.fetchOffset)
  // Caught up: at the log end now, or at least at the end as of its previous fetch (then it was
  // caught up at that time). Under steady appends a follower is rarely exactly at the end.
  const prev = d.lastFetch.get(from)
  if (m.fetchOffset >= d.log.length) d.caughtUpAt = new Map(d.caughtUpAt).set(from, d.now)
  else if (prev !== undefined && m.fetchOffset >= prev.logEnd) d.caughtUpAt = new Map(d.caughtUpAt).set(from, Math.max(d.caughtUpAt.get(from) ?? 0, prev.at))
  d.lastFetch = new Map(d.lastFetch).set(from, { at: d.now, logEnd: d.log.length })
  advanceHw(d, out)
  completeWaiting(d, out)
  maybeExpandIsr(d, out, from)
}

/** The end offset of `r` as this leader knows it: its own durable end, a follower's last fetch. */
const endOf = (d: Draft, r: ReplicaId): number => (r === d.config.id ? d.durable : (d.followerEnd.get(r) ?? 0))

/** KIP-497: the maximal ISR (committed plus in flight) must all hold a record to commit it. */
export const maximalIsr = (s: Pick<ReplicaState, "isr" | "pendingIsr">): ReplicaId[] => union(s.isr, s.pendingIsr)

function advanceHw(d: Draft, out: Output[]): void {
  if (d.role !== "Leader") return
  const ends = maximalIsr(d).map((r) => endOf(d, r))
  const hw = Math.min(d.log.length, Math.max(d.hw, Math.min(...ends)))
  if (hw > d.hw) {
    d.hw = hw
    out.push({ _tag: "Persist", hw })
  }
}

function completeWaiting(d: Draft, out: Output[]): void {
  if (d.role !== "Leader" || d.waiting.length === 0) return
  const keep: Waiting[] = []
  for (const w of d.waiting) {
    if (w.acks === 1 && w.offset < d.durable) out.push({ _tag: "ProduceResult", requestId: w.requestId, offset: w.offset })
    else if (w.acks === -1 && w.offset < d.hw) {
      if (d.isr.length >= d.config.minIsr || d.config.bugs?.undersizedIsrAck) out.push({ _tag: "ProduceResult", requestId: w.requestId, offset: w.offset })
      else out.push({ _tag: "ProduceResult", requestId: w.requestId, error: "NOT_ENOUGH_REPLICAS_AFTER_APPEND" })
    } else keep.push(w)
  }
  d.waiting = keep
}

function failWaiting(d: Draft, out: Output[], error: ProduceError): void {
  for (const w of d.waiting) out.push({ _tag: "ProduceResult", requestId: w.requestId, error })
  d.waiting = []
}

function proposeIsr(d: Draft, out: Output[], isr: readonly ReplicaId[]): void {
  d.pendingIsr = [...isr].sort((a, b) => a - b)
  d.alterSentAt = d.now
  out.push({ _tag: "Send", to: 0, message: { _tag: "AlterPartition", leaderEpoch: d.leaderEpoch, isr: d.pendingIsr, partitionEpoch: d.partitionEpoch } })
}

/** On a fetch from `f` (as Kafka does: a follower that stopped fetching never rejoins). */
function maybeExpandIsr(d: Draft, out: Output[], f: ReplicaId): void {
  if (d.role !== "Leader" || d.pendingIsr !== undefined || d.isr.includes(f)) return
  if (endOf(d, f) >= d.hw && endOf(d, f) >= d.leaderStart) proposeIsr(d, out, union(d.isr, [f]))
}

function onTick(d: Draft, out: Output[]): void {
  if (d.role === "Leader") {
    if (d.pendingIsr !== undefined) {
      if (d.now - d.alterSentAt >= d.config.alterResendMs) proposeIsr(d, out, d.pendingIsr)
      return
    }
    const lagging = d.isr.filter((r) => r !== d.config.id && d.now - (d.caughtUpAt.get(r) ?? d.now) > d.config.lagTimeMaxMs)
    if (lagging.length > 0) proposeIsr(d, out, d.isr.filter((r) => !lagging.includes(r)))
  } else if (d.role === "Follower") {
    if (d.fetchInFlight && d.now - d.fetchSentAt >= d.config.fetchTimeoutMs) d.fetchInFlight = false
    maybeFetch(d, out)
  }
}

// ---------------------------------------------------------------------------------------------
// Follower

/** The last epoch a fetch from here carries now. */
const fetchEpoch = (d: Draft): number => (d.config.bugs?.noKip279Min && d.truncatedOnce ? -1 : lastEpoch(d))

function maybeFetch(d: Draft, out: Output[]): void {
  if (d.role !== "Follower" || d.leader === NONE || d.fetchInFlight || d.durable !== d.log.length || d.now < d.nextFetchAt) return
  d.fetchInFlight = true
  d.fetchSentAt = d.now
  out.push({ _tag: "Send", to: d.leader, message: { _tag: "Fetch", fetchOffset: d.log.length, lastFetchedEpoch: fetchEpoch(d), leaderEpoch: d.leaderEpoch } })
}

function onFetchResponse(d: Draft, out: Output[], from: ReplicaId, m: Extract<Message, { _tag: "FetchResponse" }>): void {
  // Only the answer to the fetch in flight counts; a late or duplicated one is stale.
  if (d.role !== "Follower" || from !== d.leader || !d.fetchInFlight || m.fetchOffset !== d.log.length || m.lastFetchedEpoch !== fetchEpoch(d)) return
  d.fetchInFlight = false
  if (m.error !== undefined) {
    d.nextFetchAt = d.now + d.config.fetchBackoffMs // our epoch or theirs is stale: the controller will tell
    return
  }
  if (m.leaderEpoch !== d.leaderEpoch) return
  if (m.diverging !== undefined) {
    // KIP-279: never past where our own log's epoch ends, or a divergent record of ours could stay.
    const own = endOffsetFor(d.epochs, m.diverging.epoch, d.log.length)
    const to = d.config.bugs?.noKip279Min ? Math.max(0, m.diverging.endOffset) : Math.max(0, Math.min(m.diverging.endOffset, own.endOffset))
    truncate(d, out, to)
    d.truncatedOnce = true
    d.nextFetchAt = d.now
    return maybeFetch(d, out)
  }
  if (m.records.length > 0) {
    const from0 = d.log.length
    d.log = d.log.append(m.records)
    m.records.forEach((e, i) => (d.epochs = assignEpoch(d.epochs, e.epoch, from0 + i)))
    out.push({ _tag: "Persist", append: m.records })
    d.nextFetchAt = d.now
  } else d.nextFetchAt = d.now + d.config.fetchBackoffMs
  d.hw = Math.min(m.hw, d.log.length)
  maybeFetch(d, out)
}

function truncate(d: Draft, out: Output[], to: number): void {
  if (to >= d.log.length) return
  d.log = d.log.truncate(to)
  d.epochs = truncateEpochsFromEnd(d.epochs, to)
  d.durable = Math.min(d.durable, to)
  d.hw = Math.min(d.hw, to)
  out.push({ _tag: "Persist", truncateTo: to })
}
