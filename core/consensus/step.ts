/**
 * The Zab state machine: `start` and `step`. Pure and deterministic: no I/O, no clock, no
 * randomness. The protocol, the spec actions each branch implements, and the persistence rule
 * are in PROTOCOL.md; comments here name the spec action a branch corresponds to.
 *
 * Reading order: `start`, `step`, then the handlers by phase (election, discovery, sync,
 * broadcast), then the step context that assembles outputs.
 */
import { assert } from "./assert.ts"
import { epochOwner, isQuorum, isVoter, nextOwnedEpoch, quorumSize, type Config } from "./config.ts"
import { Log } from "./log.ts"
import { baseState, isObserverNode, type LearnerTrack, type LeaderState, type NodeState } from "./state.ts"
import type { Durable, Input, Message, NodeId, Output, Persist, Snapshot, Sync, Txn, Vote } from "./types.ts"
import { MAX_EPOCH, counterOf, epochOf, makeZxid, type Zxid } from "./zxid.ts"

export interface StepResult {
  readonly state: NodeState
  readonly outputs: readonly Output[]
}

/** A node (re)starting from its durable state: it delivers what it knows is committed and looks for a leader. */
export function start(config: Config, durable: Durable): StepResult {
  const log = Log.of(durable.log, durable.base)
  assert(durable.commitIndex <= log.length, "durable commit index beyond the log")
  const ctx = new StepContext(baseState(config, { ...durable, log }))
  becomeLooking(ctx)
  return ctx.finish()
}

export function step(state: NodeState, input: Input): StepResult {
  const ctx = new StepContext(state)
  switch (input._tag) {
    case "Tick":
      onTick(ctx)
      break
    case "Propose":
      onPropose(ctx, input.data)
      break
    case "Receive":
      onReceive(ctx, input.from, input.message)
      break
    case "Compact":
      onCompact(ctx, input.zxid, input.data)
      break
  }
  return ctx.finish()
}

function onReceive(ctx: StepContext, from: NodeId, m: Message): void {
  const c = ctx.s.config
  // Untrusted input: messages from outside the ensemble or from ourselves are dropped.
  if (from === c.id || !(c.voters.includes(from) || c.observers.includes(from))) return
  if ("epoch" in m) ctx.s.epochHint = Math.max(ctx.s.epochHint, m.epoch)
  switch (m._tag) {
    case "Vote":
      return onVote(ctx, from, m)
    case "FollowerInfo":
      return onFollowerInfo(ctx, from, m)
    case "LeaderInfo":
      return onLeaderInfo(ctx, from, m)
    case "AckEpoch":
      return onAckEpoch(ctx, from, m)
    case "NewLeader":
      return onNewLeader(ctx, from, m)
    case "Ack":
      return onAck(ctx, from, m)
    case "Proposal":
      return onProposal(ctx, from, m)
    case "Commit":
      return onCommit(ctx, from, m.epoch, m.zxid)
    case "Ping":
      return onPing(ctx, from, m)
    case "Inform":
      return onInform(ctx, from, m)
  }
}

// ---------------------------------------------------------------------------------------------
// Election (not in the spec: it only decides who tries to lead; safety never depends on it)

const voteGreater = (a: Vote, b: Vote): boolean =>
  a.epoch !== b.epoch ? a.epoch > b.epoch : a.zxid !== b.zxid ? a.zxid > b.zxid : a.id > b.id
const voteEquals = (a: Vote, b: Vote): boolean => a.id === b.id && a.epoch === b.epoch && a.zxid === b.zxid
const selfVote = (s: NodeState): Vote => ({ id: s.config.id, epoch: s.currentEpoch, zxid: s.log.lastZxid })

/** Spec: Restart (a timeout or a crash both end here: volatile state resets). */
function becomeLooking(ctx: StepContext): void {
  const s = ctx.s
  s.role = "looking"
  s.phase = "election"
  s.leader = 0
  s.lead = undefined
  s.lastLeaderContact = s.tick
  s.round += 1
  const vote = isObserverNode(s) ? { id: 0, epoch: s.currentEpoch, zxid: s.log.lastZxid } : selfVote(s)
  s.election = {
    round: s.round,
    vote,
    votes: isObserverNode(s) ? {} : { [s.config.id]: vote },
    outside: {},
    quorumSince: null,
  }
  broadcastVote(ctx)
  checkElection(ctx)
}

function broadcastVote(ctx: StepContext): void {
  const e = ctx.s.election!
  for (const v of ctx.s.config.voters) {
    if (v !== ctx.s.config.id) ctx.send(v, { _tag: "Vote", round: e.round, vote: e.vote, state: "looking" })
  }
}

function onVote(ctx: StepContext, from: NodeId, m: Extract<Message, { _tag: "Vote" }>): void {
  const s = ctx.s
  if (s.role !== "looking") {
    // Tell a looking peer whom we follow, so it can join an established ensemble.
    if (m.state === "looking" && s.leader !== 0) {
      const epoch = s.lead?.epoch ?? s.acceptedEpoch
      ctx.send(from, { _tag: "Vote", round: m.round, vote: { id: s.leader, epoch, zxid: s.log.lastZxid }, state: s.role })
    }
    return
  }
  if (!isVoter(s.config, from)) return // observers' notifications carry no vote
  let e = s.election!
  if (m.state !== "looking") {
    // A voter outside the election reports its leader. Join it if the leader itself says so or a
    // quorum reports it; if it turns out stale, discovery fails and we look again.
    const outside = { ...e.outside, [from]: m.vote.id }
    s.election = e = { ...e, outside }
    const reporters = Object.keys(outside).map(Number).filter((k) => outside[k] === m.vote.id)
    const leaderSaysSo = m.state === "leading" && m.vote.id === from
    if (isVoter(s.config, m.vote.id) && (leaderSaysSo || isQuorum(s.config, reporters))) joinLeader(ctx, m.vote.id)
    return
  }
  if (isObserverNode(s)) return
  if (m.round > e.round) {
    const mine = selfVote(s)
    const vote = voteGreater(m.vote, mine) ? m.vote : mine
    e = { round: m.round, vote, votes: {}, outside: e.outside, quorumSince: null }
    s.round = m.round
    s.election = e
    broadcastVote(ctx)
  } else if (m.round < e.round) {
    ctx.send(from, { _tag: "Vote", round: e.round, vote: e.vote, state: "looking" })
    return
  } else if (voteGreater(m.vote, e.vote)) {
    e = { ...e, vote: m.vote, quorumSince: null }
    s.election = e
    broadcastVote(ctx)
  }
  s.election = { ...e, votes: { ...e.votes, [from]: m.vote, [s.config.id]: e.vote } }
  checkElection(ctx)
}

/** Decide when a quorum agrees with our vote: at once if every voter does, else one tick later. */
function checkElection(ctx: StepContext): void {
  const s = ctx.s
  const e = s.election
  if (s.role !== "looking" || e === undefined || isObserverNode(s)) return
  const agreeing = s.config.voters.filter((v) => {
    const w = e.votes[v]
    return w !== undefined && voteEquals(w, e.vote)
  })
  if (!isQuorum(s.config, agreeing)) {
    if (e.quorumSince !== null) s.election = { ...e, quorumSince: null }
    return
  }
  if (agreeing.length === s.config.voters.length || (e.quorumSince !== null && s.tick > e.quorumSince)) {
    joinLeader(ctx, e.vote.id)
  } else if (e.quorumSince === null) {
    s.election = { ...e, quorumSince: s.tick }
  }
}

/** Spec: Elect(s, l). */
function joinLeader(ctx: StepContext, l: NodeId): void {
  const s = ctx.s
  s.election = undefined
  s.lastLeaderContact = s.tick
  if (isObserverNode(s)) {
    s.role = "observing"
    s.phase = "discovery"
    s.leader = l
    ctx.send(l, { _tag: "FollowerInfo", acceptedEpoch: s.acceptedEpoch, lastZxid: s.log.lastZxid, observer: true })
  } else if (l === s.config.id) {
    becomeLeader(ctx)
  } else {
    s.role = "following"
    s.phase = "discovery"
    s.leader = l
    ctx.send(l, { _tag: "FollowerInfo", acceptedEpoch: s.acceptedEpoch, lastZxid: s.log.lastZxid, observer: false })
  }
}

// ---------------------------------------------------------------------------------------------
// Discovery

function becomeLeader(ctx: StepContext): void {
  const s = ctx.s
  const c = s.config
  const epoch = nextOwnedEpoch(c, c.id, Math.max(s.acceptedEpoch, s.epochHint))
  assert(epoch < MAX_EPOCH, "epoch space exhausted")
  assert(epochOwner(c, epoch) === c.id, "a leader only picks epochs it owns")
  s.acceptedEpoch = epoch
  s.epochHint = Math.max(s.epochHint, epoch)
  s.role = "leading"
  s.phase = "discovery"
  s.leader = c.id
  const ackIndex: Record<NodeId, number> = {}
  for (const v of c.voters) if (v !== c.id) ackIndex[v] = -1
  if (c.bugs?.observerAckCounts) for (const o of c.observers) ackIndex[o] = -1
  s.lead = { epoch, startedAt: s.tick, ackeRecv: [], ackIndex, learners: {} }
  for (const v of c.voters) if (v !== c.id) ctx.send(v, { _tag: "LeaderInfo", epoch })
  // A one-voter ensemble is its own quorum: it synchronizes and establishes at once.
  maybeStartSync(ctx)
}

function onFollowerInfo(ctx: StepContext, from: NodeId, m: Extract<Message, { _tag: "FollowerInfo" }>): void {
  const s = ctx.s
  if (s.role !== "leading") return
  const lead = s.lead!
  const observer = s.config.observers.includes(from)
  if (m.observer !== observer) return
  if (!observer && m.acceptedEpoch > lead.epoch) {
    // A voter promised a newer epoch: this leadership cannot be established. Step down and
    // pick a higher epoch next time (epochHint already moved).
    ctx.s.epochHint = Math.max(ctx.s.epochHint, m.acceptedEpoch)
    return becomeLooking(ctx)
  }
  // A FOLLOWERINFO may be a late duplicate from a follower that is already synchronized: keep
  // what we know of it (a restarted follower proves it by sending ACKEPOCH again, which re-syncs
  // it). Downgrading it to "info" would stop its heartbeats while its LEADERINFO duplicates
  // keep it from timing out: a livelock found by the simulator (seed 1282).
  const prev = lead.learners[from]
  const track: LearnerTrack =
    prev === undefined || prev.observer !== observer
      ? { observer, lastHeard: s.tick, stage: "info", lastZxid: m.lastZxid, syncAttempts: 0 }
      : { ...prev, lastHeard: s.tick, lastZxid: observer ? m.lastZxid : prev.lastZxid }
  setLearner(ctx, from, track)
  if (observer) {
    if (s.phase === "broadcast") sendInform(ctx, from)
  } else {
    ctx.send(from, { _tag: "LeaderInfo", epoch: lead.epoch })
  }
}

/** Spec: FollowerAcceptEpoch. */
function onLeaderInfo(ctx: StepContext, from: NodeId, m: Extract<Message, { _tag: "LeaderInfo" }>): void {
  const s = ctx.s
  if (s.role !== "following" || s.leader !== from) return
  s.lastLeaderContact = s.tick
  if (s.phase === "sync" && m.epoch === s.acceptedEpoch) {
    return sendAckEpoch(ctx) // a duplicate: our ACKEPOCH may have been lost
  }
  if (s.phase !== "discovery") return
  if (m.epoch < s.acceptedEpoch) {
    // We promised a newer epoch; telling the leader makes it step down.
    ctx.send(from, { _tag: "FollowerInfo", acceptedEpoch: s.acceptedEpoch, lastZxid: s.log.lastZxid, observer: false })
    return
  }
  s.acceptedEpoch = m.epoch
  if (s.config.bugs?.forgetAcceptedEpoch) ctx.skipAcceptedEpochPersist = true
  s.phase = "sync"
  sendAckEpoch(ctx)
}

function sendAckEpoch(ctx: StepContext): void {
  const s = ctx.s
  ctx.send(s.leader, { _tag: "AckEpoch", epoch: s.acceptedEpoch, currentEpoch: s.currentEpoch, lastZxid: s.log.lastZxid })
}

/** Spec: LeaderRecvAckEpoch. */
function onAckEpoch(ctx: StepContext, from: NodeId, m: Extract<Message, { _tag: "AckEpoch" }>): void {
  const s = ctx.s
  const lead = s.lead
  if (s.role !== "leading" || lead === undefined || m.epoch !== lead.epoch || !isVoter(s.config, from)) return
  if (s.phase === "discovery") {
    const newer = m.currentEpoch > s.currentEpoch || (m.currentEpoch === s.currentEpoch && m.lastZxid > s.log.lastZxid)
    if (newer) {
      // A voter holds a newer history than ours; it may hold committed transactions we lack,
      // so it, not us, must lead.
      return becomeLooking(ctx)
    }
  }
  const prev = lead.learners[from]
  setLearner(ctx, from, {
    observer: false,
    lastHeard: s.tick,
    stage: prev?.stage === "synced" ? "synced" : "syncing",
    lastZxid: m.lastZxid,
    syncAttempts: 0,
  })
  const ackeRecv = lead.ackeRecv.includes(from) ? lead.ackeRecv : [...lead.ackeRecv, from].sort((a, b) => a - b)
  s.lead = { ...s.lead!, ackeRecv }
  if (s.phase === "discovery") maybeStartSync(ctx)
  else sendNewLeader(ctx, from)
}

/** With a quorum of epoch acknowledgements, the leader adopts the epoch and synchronizes. */
function maybeStartSync(ctx: StepContext): void {
  const s = ctx.s
  const lead = s.lead!
  if (s.phase !== "discovery" || !isQuorum(s.config, [s.config.id, ...lead.ackeRecv])) return
  s.currentEpoch = lead.epoch
  s.phase = "sync"
  for (const f of lead.ackeRecv) sendNewLeader(ctx, f)
  maybeEstablish(ctx)
}

// ---------------------------------------------------------------------------------------------
// Synchronization

/** Spec: the NEWLEADER of LeaderRecvAckEpoch / LeaderResendNewLeader. */
function sendNewLeader(ctx: StepContext, f: NodeId): void {
  const s = ctx.s
  const lead = s.lead!
  const track = lead.learners[f]
  assert(track !== undefined, "NEWLEADER to an unknown learner")
  const log = s.log
  const z = track.lastZxid
  let sync: Sync
  const pos = log.positionOf(z)
  if (track.syncAttempts >= 1 || log.compacted(z)) {
    // A second attempt, or a learner behind our compacted log: send the whole history.
    sync = log.base === undefined || s.config.bugs?.snapDropsBase ? { _tag: "SNAP", txns: log.toArray() } : { _tag: "SNAP", snapshot: log.base, txns: log.toArray() }
  } else if (pos >= 0) {
    sync = { _tag: "DIFF", prevZxid: z, txns: log.slice(pos) }
  } else {
    // The follower's last zxid is not ours: it holds an uncommitted suffix from a failed epoch.
    // Cut it back to the last zxid we hold below it (the follower checks it holds that zxid).
    const keep = log.countUpTo(z)
    sync = { _tag: "TRUNC", truncZxid: log.zxidAt(keep), txns: log.slice(keep) }
  }
  ctx.send(f, { _tag: "NewLeader", epoch: lead.epoch, sync, leaderLastZxid: log.lastZxid })
  setLearner(ctx, f, { ...track, syncAttempts: track.syncAttempts + 1 })
}

/** Spec: FollowerSync. */
function onNewLeader(ctx: StepContext, from: NodeId, m: Extract<Message, { _tag: "NewLeader" }>): void {
  const s = ctx.s
  if (s.role !== "following" || s.leader !== from || s.phase !== "sync" || m.epoch !== s.acceptedEpoch) return
  s.lastLeaderContact = s.tick
  let log = s.log
  // A stale NEWLEADER of the epoch we already follow must never shorten our history: it may
  // hold acknowledged (even committed) proposals of this epoch.
  const alreadyHave = s.currentEpoch === m.epoch && log.lastZxid >= m.leaderLastZxid && !s.config.bugs?.shortenOnStaleNewLeader
  if (!alreadyHave) {
    const next = applySync(s, m.sync)
    if (next === undefined) return // sync computed from a stale report: wait for the resend
    log = next
  }
  s.currentEpoch = m.epoch
  s.log = log
  // The commit point stays where it was, even below a SNAP's base (the spec's FollowerSync
  // leaves it alone too): the leader's COMMIT moves it past the base, and only then is the
  // snapshot delivered.
  s.phase = "broadcast"
  ctx.send(from, { _tag: "Ack", epoch: m.epoch, zxid: log.lastZxid })
}

function applySync(s: NodeState, sync: Sync): Log | undefined {
  switch (sync._tag) {
    case "DIFF":
      return s.log.lastZxid === sync.prevZxid ? s.log.append(sync.txns) : undefined
    case "TRUNC": {
      const keep = s.log.positionOf(sync.truncZxid)
      // Never below our base: what it stands for is committed, so no honest leader cuts it.
      if (keep < s.log.baseIndex) return undefined
      if (s.config.bugs?.skipTrunc) return s.log.append(sync.txns.filter((t) => t.zxid > s.log.lastZxid))
      return s.log.truncate(keep).append(sync.txns)
    }
    case "SNAP": {
      const base = s.log.base
      if (sync.snapshot !== undefined || base === undefined) return Log.of(sync.txns, sync.snapshot)
      // The whole history from a leader that never compacted: it holds our (committed) base
      // entry at the base's position, so keep the base and take what follows it.
      if (sync.txns[base.index - 1]?.zxid !== base.zxid) return undefined
      return Log.of(sync.txns).compact(base)
    }
  }
}

/** Spec: LeaderRecvAck (establishment and commit are decided in the same step). */
function onAck(ctx: StepContext, from: NodeId, m: Extract<Message, { _tag: "Ack" }>): void {
  const s = ctx.s
  const lead = s.lead
  if (s.role !== "leading" || lead === undefined || m.epoch !== lead.epoch || s.phase === "discovery") return
  const track = lead.learners[from]
  if (track === undefined) return
  if (track.observer) {
    setLearner(ctx, from, { ...track, lastHeard: s.tick, lastZxid: m.zxid })
    if (!s.config.bugs?.observerAckCounts) return // observers never count toward a quorum
  }
  const pos = s.log.positionOf(m.zxid)
  if (pos < 0) return // cannot happen for an honest learner of this epoch; ignore rather than trust
  setLearner(ctx, from, { ...track, lastHeard: s.tick, lastZxid: m.zxid, stage: "synced" })
  const prev = s.lead!.ackIndex[from] ?? -1
  if (pos > prev) s.lead = { ...s.lead!, ackIndex: { ...s.lead!.ackIndex, [from]: pos } }
  maybeEstablish(ctx)
  maybeCommit(ctx)
}

/** A quorum acknowledged NEWLEADER: the epoch is established and its initial history committed. */
function maybeEstablish(ctx: StepContext): void {
  const s = ctx.s
  const lead = s.lead!
  if (s.phase !== "sync") return
  const acked = Object.keys(lead.ackIndex)
    .map(Number)
    .filter((v) => (lead.ackIndex[v] ?? -1) >= 0)
  if (!isQuorum(s.config, [s.config.id, ...acked]) && !quorumOfBuggyObservers(s, acked)) return
  s.phase = "broadcast"
  announceCommit(ctx, Math.max(s.commitIndex, s.log.length), true)
}

const quorumOfBuggyObservers = (s: NodeState, acked: NodeId[]): boolean =>
  !!s.config.bugs?.observerAckCounts && acked.length + 1 >= quorumSize(s.config)

/** The largest prefix acknowledged by a quorum (the leader counts its whole persisted history). */
function maybeCommit(ctx: StepContext): void {
  const s = ctx.s
  if (s.phase !== "broadcast") return
  const lead = s.lead!
  const counted = Object.keys(lead.ackIndex)
    .map(Number)
    .filter((n) => isVoter(s.config, n) || s.config.bugs?.observerAckCounts)
  const acks = [s.log.length, ...counted.map((n) => lead.ackIndex[n] ?? -1)].sort((a, b) => b - a)
  const c = acks[quorumSize(s.config) - 1] ?? -1
  if (c > s.commitIndex) announceCommit(ctx, c, false)
}

function announceCommit(ctx: StepContext, c: number, always: boolean): void {
  const s = ctx.s
  if (c <= s.commitIndex && !always) return
  s.commitIndex = Math.max(s.commitIndex, c)
  const lead = s.lead!
  const zxid = s.log.zxidAt(s.commitIndex)
  for (const [id, t] of learnerEntries(lead)) {
    if (t.observer) sendInform(ctx, id)
    else if ((lead.ackIndex[id] ?? -1) >= 0) ctx.send(id, { _tag: "Commit", epoch: lead.epoch, zxid })
  }
}

// ---------------------------------------------------------------------------------------------
// Broadcast

/** Spec: LeaderPropose. */
function onPropose(ctx: StepContext, data: readonly Uint8Array[]): void {
  const s = ctx.s
  if (s.role !== "leading" || s.phase !== "broadcast") {
    ctx.emit({
      _tag: "ProposeRejected",
      reason: s.role === "leading" ? "leader not yet established" : "not the leader",
      leaderHint: s.leader,
    })
    return
  }
  if (data.length === 0) return ctx.emit({ _tag: "Proposed", zxids: [] })
  const lead = s.lead!
  const prevZxid = s.log.lastZxid
  const counter = epochOf(prevZxid) === lead.epoch ? counterOf(prevZxid) : 0
  const txns: Txn[] = data.map((d, i) => ({ zxid: makeZxid(lead.epoch, counter + 1 + i), data: d }))
  s.log = s.log.append(txns)
  for (const [id, t] of learnerEntries(lead)) {
    if ((!t.observer || s.config.bugs?.observerAckCounts) && t.stage !== "info") {
      ctx.send(id, { _tag: "Proposal", epoch: lead.epoch, prevZxid, txns })
    }
  }
  ctx.emit({ _tag: "Proposed", zxids: txns.map((t) => t.zxid) })
  maybeCommit(ctx)
}

/** Spec: FollowerAccept. */
function onProposal(ctx: StepContext, from: NodeId, m: Extract<Message, { _tag: "Proposal" }>): void {
  const s = ctx.s
  if (s.leader !== from || s.phase !== "broadcast" || m.txns.length === 0) return
  if (s.role === "observing") {
    // Only reachable with the observerAckCounts bug: the observer acks without storing.
    if (s.config.bugs?.observerAckCounts) ctx.send(from, { _tag: "Ack", epoch: m.epoch, zxid: m.txns[m.txns.length - 1]!.zxid })
    return
  }
  if (s.role !== "following" || m.epoch !== s.currentEpoch) return
  s.lastLeaderContact = s.tick
  const last = s.log.lastZxid
  const end = m.txns[m.txns.length - 1]!.zxid
  if (last < end) {
    const fresh = freshSuffix(last, m.prevZxid, m.txns)
    if (fresh === undefined) return // a gap: the leader's heartbeat will resend from our ACK
    s.log = s.log.append(fresh)
  }
  ctx.send(from, { _tag: "Ack", epoch: m.epoch, zxid: s.log.lastZxid })
}

/**
 * The part of a batch (which follows `prevZxid`) that extends a history ending at `last`, or
 * undefined when the batch does not connect to it (a gap, or a stale batch).
 */
function freshSuffix(last: Zxid, prevZxid: Zxid, txns: readonly Txn[]): readonly Txn[] | undefined {
  if (last === prevZxid) return txns
  const i = txns.findIndex((t) => t.zxid === last)
  return i >= 0 ? txns.slice(i + 1) : undefined
}

/** Spec: FollowerCommit. Our history is a prefix of the leader's, so all we hold up to zxid is committed. */
function onCommit(ctx: StepContext, from: NodeId, epoch: number, zxid: Zxid): void {
  const s = ctx.s
  if (s.role !== "following" || s.leader !== from || s.phase !== "broadcast" || epoch !== s.currentEpoch) return
  s.lastLeaderContact = s.tick
  if (s.log.compacted(zxid)) return // we compacted past it: committed here long ago
  const n = s.log.countUpTo(zxid)
  if (n > s.commitIndex) s.commitIndex = n
}

function onPing(ctx: StepContext, from: NodeId, m: Extract<Message, { _tag: "Ping" }>): void {
  const s = ctx.s
  if (s.leader !== from) return
  // An observer already holding everything committed has nothing to be informed of (a fresh
  // ensemble, say): its leader's Ping is then what tells it the leader is in broadcast. Without
  // this it would wait in discovery for the first commit. (The spec does not model an observer's
  // phase, so this is invisible to it.)
  if (s.role === "observing" && s.phase === "discovery" && m.commitZxid <= s.log.lastZxid) s.phase = "broadcast"
  if (s.phase !== "broadcast") return
  if (s.role === "following") {
    if (m.epoch !== s.currentEpoch) return
    onCommit(ctx, from, m.epoch, m.commitZxid)
  } else if (s.role === "observing") {
    s.lastLeaderContact = s.tick
  } else return
  ctx.send(from, { _tag: "Ack", epoch: m.epoch, zxid: s.log.lastZxid })
}

function sendInform(ctx: StepContext, o: NodeId): void {
  const s = ctx.s
  const lead = s.lead!
  const track = lead.learners[o]!
  const known = s.log.positionOf(track.lastZxid)
  // Unknown to us (or compacted away): start from our base, and send the base with it.
  const from = known >= s.log.baseIndex && known <= s.commitIndex ? known : s.log.baseIndex
  if (from >= s.commitIndex) return
  const commitZxid = s.log.zxidAt(s.commitIndex)
  const txns = s.log.slice(from, s.commitIndex)
  const prevZxid = s.log.zxidAt(from)
  const base = from === s.log.baseIndex && known !== from ? s.log.base : undefined
  ctx.send(o, base === undefined ? { _tag: "Inform", epoch: lead.epoch, prevZxid, txns, commitZxid } : { _tag: "Inform", epoch: lead.epoch, prevZxid, txns, commitZxid, snapshot: base })
  setLearner(ctx, o, { ...track, lastZxid: commitZxid })
}

/** Spec: ObserverLearn. Inform carries committed entries only. */
function onInform(ctx: StepContext, from: NodeId, m: Extract<Message, { _tag: "Inform" }>): void {
  const s = ctx.s
  if (s.role !== "observing" || s.leader !== from || m.txns.length === 0) return
  s.lastLeaderContact = s.tick
  s.phase = "broadcast"
  const last = s.log.lastZxid
  const end = m.txns[m.txns.length - 1]!.zxid
  if (last >= end) return
  const fresh = freshSuffix(last, m.prevZxid, m.txns)
  if (fresh !== undefined) s.log = s.log.append(fresh)
  else if (m.snapshot !== undefined && last < m.snapshot.zxid) s.log = Log.of(m.txns, m.snapshot)
  else return
  s.commitIndex = s.log.length
}

// ---------------------------------------------------------------------------------------------
// Compaction (not in the spec: the spec's histories are never compacted; the refinement mapping
// expands a base back into the entries it stands for)

function onCompact(ctx: StepContext, zxid: Zxid, data: Uint8Array): void {
  const s = ctx.s
  if (zxid <= s.log.baseZxid) return // already compacted that far
  const index = s.log.positionOf(zxid)
  // After a restart the application may hold a state the core has not delivered again yet.
  if (index < 0 || index > s.delivered) return
  assert(index <= s.commitIndex, "delivered entries are committed")
  const snapshot: Snapshot = { index, zxid, data }
  s.log = s.log.compact(snapshot)
}

// ---------------------------------------------------------------------------------------------
// Time

function onTick(ctx: StepContext): void {
  const s = ctx.s
  const c = s.config
  s.tick += 1
  const beat = s.tick % c.heartbeatTicks === 0
  switch (s.role) {
    case "looking":
      if (beat) broadcastVote(ctx)
      checkElection(ctx)
      return
    case "following":
    case "observing": {
      const limit = s.phase === "broadcast" ? c.syncLimitTicks : c.initLimitTicks
      if (s.tick - s.lastLeaderContact > limit) return becomeLooking(ctx)
      if (!beat) return
      if (s.phase === "discovery") {
        ctx.send(s.leader, {
          _tag: "FollowerInfo",
          acceptedEpoch: s.acceptedEpoch,
          lastZxid: s.log.lastZxid,
          observer: s.role === "observing",
        })
      } else if (s.phase === "sync") sendAckEpoch(ctx)
      return
    }
    case "leading":
      return leaderTick(ctx, beat)
  }
}

function leaderTick(ctx: StepContext, beat: boolean): void {
  const s = ctx.s
  const c = s.config
  const lead = s.lead!
  if (s.phase !== "broadcast") {
    if (s.tick - lead.startedAt > c.initLimitTicks) return becomeLooking(ctx)
  } else {
    const heard = c.voters.filter((v) => {
      const t = lead.learners[v]
      return v === c.id || (t !== undefined && !t.observer && s.tick - t.lastHeard <= c.syncLimitTicks)
    })
    // A leader that cannot hear a quorum may be on the minority side of a partition: step down
    // so clients go to a leader that can commit.
    if (!isQuorum(c, heard)) return becomeLooking(ctx)
  }
  if (!beat) return
  // Read only in broadcast, where the commit point is at or past any base of ours (a node that
  // took a SNAP may lead before it learned the snapshot's entries were committed).
  const commitZxid = s.phase === "broadcast" ? s.log.zxidAt(s.commitIndex) : 0
  for (const [id, t] of learnerEntries(lead)) {
    if (t.observer) {
      if (s.phase === "broadcast") {
        ctx.send(id, { _tag: "Ping", epoch: lead.epoch, commitZxid })
        if (t.lastZxid < commitZxid) sendInform(ctx, id)
      }
      continue
    }
    const acked = lead.ackIndex[id] ?? -1
    if (t.stage === "info") ctx.send(id, { _tag: "LeaderInfo", epoch: lead.epoch })
    else if (acked < 0) {
      if (s.phase !== "discovery") sendNewLeader(ctx, id)
    } else if (s.phase === "broadcast") {
      // Behind our compacted log, no proposal can bring it up to date. Without pings it times
      // out and rejoins, and its NEWLEADER is then a SNAP.
      if (acked < s.log.baseIndex) continue
      ctx.send(id, { _tag: "Ping", epoch: lead.epoch, commitZxid })
      if (acked < s.log.length) {
        ctx.send(id, { _tag: "Proposal", epoch: lead.epoch, prevZxid: s.log.zxidAt(acked), txns: s.log.slice(acked) })
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Step context: collects outputs and emits the step's single Persist record first.

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

const learnerEntries = (lead: LeaderState): [NodeId, LearnerTrack][] =>
  Object.keys(lead.learners)
    .map(Number)
    .sort((a, b) => a - b)
    .map((id) => [id, lead.learners[id]!])

function setLearner(ctx: StepContext, id: NodeId, t: LearnerTrack): void {
  const lead = ctx.s.lead!
  ctx.s.lead = { ...lead, learners: { ...lead.learners, [id]: t } }
}

class StepContext {
  readonly s: Mutable<NodeState>
  private readonly out: Output[] = []
  /** Bug zoo only: see BugFlags.forgetAcceptedEpoch. */
  skipAcceptedEpochPersist = false

  constructor(private readonly before: NodeState) {
    this.s = { ...before }
  }

  send(to: NodeId, message: Message): void {
    this.out.push({ _tag: "Send", to, message })
  }

  emit(o: Output): void {
    this.out.push(o)
  }

  finish(): StepResult {
    const b = this.before
    const s: NodeState = this.s
    const outputs: Output[] = []
    const persist = persistRecord(b, s, this.skipAcceptedEpochPersist)
    // Persist comes first: every Send of this step may promise what it records.
    if (persist !== undefined) outputs.push(persist)
    const base = s.log.base
    // Entries compacted before we delivered them reach the application as the snapshot, once
    // we know they are committed.
    const deliverable = base === undefined || s.delivered >= base.index || s.commitIndex >= base.index
    if (s.commitIndex > s.delivered && s.commitIndex <= s.log.length && deliverable) {
      if (base !== undefined && s.delivered < base.index) {
        outputs.push({ _tag: "Deliver", snapshot: base, txns: s.log.slice(base.index, s.commitIndex) })
      } else {
        outputs.push({ _tag: "Deliver", txns: s.log.slice(s.delivered, s.commitIndex) })
      }
      this.s.delivered = s.commitIndex
    }
    if (s.role !== b.role || s.leader !== b.leader || (s.role === "leading" && s.lead?.epoch !== b.lead?.epoch)) {
      outputs.push({ _tag: "RoleChanged", role: s.role, leader: s.leader, epoch: s.lead?.epoch ?? s.acceptedEpoch })
    }
    outputs.push(...this.out)
    return { state: this.s, outputs }
  }
}

function persistRecord(b: NodeState, s: NodeState, skipAcceptedEpoch: boolean): Persist | undefined {
  const p: Mutable<Persist> = { _tag: "Persist" }
  let changed = false
  if (s.currentEpoch !== b.currentEpoch) {
    p.currentEpoch = s.currentEpoch
    changed = true
  }
  if (s.acceptedEpoch !== b.acceptedEpoch && !skipAcceptedEpoch) {
    p.acceptedEpoch = s.acceptedEpoch
    changed = true
  }
  if (s.log !== b.log) {
    const lo = s.log.baseIndex
    if (s.log.base !== b.log.base) {
      assert(s.log.base !== undefined, "a log never loses its base")
      p.base = s.log.base
    }
    // Zxids identify entries uniquely, so the common prefix is where positions hold equal zxids.
    // Under a base older than the previous one, the entries between the two are not durable:
    // everything after the new base is rewritten.
    let common = lo < b.log.baseIndex ? lo : Math.max(lo, Math.min(b.log.length, s.log.length))
    while (common > lo && b.log.zxidAt(common) !== s.log.zxidAt(common)) common--
    if (common < b.log.length) p.truncateTo = common
    if (s.log.length > common) p.append = s.log.slice(common)
    changed ||= p.base !== undefined || p.truncateTo !== undefined || p.append !== undefined
  }
  if (s.commitIndex !== b.commitIndex) {
    p.commitIndex = s.commitIndex
    changed = true
  }
  return changed ? p : undefined
}
