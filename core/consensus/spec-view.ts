/**
 * The refinement mapping: how a node's state and messages look at the level of spec/Zab.tla.
 * Trace validation records these views; the invariants (invariants.ts) are defined on them, so the
 * TypeScript and TLA+ invariants read the same variables.
 *
 * The spec's histories are never compacted. A compacted log's view expands its base back into the
 * entries it stands for, which only the application can do (its snapshot is opaque to the core):
 * pass `expand`. A simulator whose "application" records the history it was handed can; a log
 * with a base and no `expand` has no spec view.
 */
import type { Log } from "./log.ts"
import type { NodeState } from "./state.ts"
import { assert } from "./assert.ts"
import type { Message, NodeId, Snapshot, Txn } from "./types.ts"
import { counterOf, epochOf, type Zxid } from "./zxid.ts"

export type SpecZxid = readonly [epoch: number, counter: number]
export interface SpecTxn {
  readonly zxid: SpecZxid
  readonly value: string
}

export interface SpecNode {
  readonly role: "looking" | "following" | "leading" | "observing"
  readonly phase: "election" | "discovery" | "sync" | "broadcast"
  readonly leader: NodeId
  readonly currentEpoch: number
  readonly acceptedEpoch: number
  readonly history: readonly SpecTxn[]
  readonly lastCommitted: number
  readonly ackeRecv: readonly NodeId[]
  /** Per voter; -1 = none. */
  readonly ackIndex: Readonly<Record<NodeId, number>>
}

export type SpecMessage =
  | { readonly type: "LEADERINFO"; readonly src: NodeId; readonly epoch: number }
  | {
      readonly type: "ACKEPOCH"
      readonly src: NodeId
      readonly dst: NodeId
      readonly epoch: number
      readonly curEpoch: number
      readonly lastZxid: SpecZxid
    }
  | { readonly type: "NEWLEADER"; readonly src: NodeId; readonly dst: NodeId; readonly epoch: number; readonly hist: readonly SpecTxn[] }
  | { readonly type: "ACK"; readonly src: NodeId; readonly dst: NodeId; readonly epoch: number; readonly len: number }
  | { readonly type: "PROPOSAL"; readonly src: NodeId; readonly epoch: number; readonly hist: readonly SpecTxn[] }
  | { readonly type: "COMMIT"; readonly src: NodeId; readonly epoch: number; readonly zxid: SpecZxid }
  | { readonly type: "INFORM"; readonly src: NodeId; readonly epoch: number; readonly hist: readonly SpecTxn[] }

const decoder = new TextDecoder()
export const specZxid = (z: Zxid): SpecZxid => [epochOf(z), counterOf(z)]
/** Transaction data is shown to the spec as a UTF-8 string (the simulator proposes short strings). */
export const specTxn = (t: Txn): SpecTxn => ({ zxid: specZxid(t.zxid), value: decoder.decode(t.data) })

/** The transactions a snapshot stands for, in order (`snapshot.index` of them). */
export type ExpandSnapshot = (snapshot: Snapshot) => readonly Txn[]

/** Logs are immutable values, so each one's spec view is computed once. */
const historyViews = new WeakMap<Log, readonly SpecTxn[]>()
function specHistory(log: Log, expand: ExpandSnapshot | undefined): readonly SpecTxn[] {
  let h = historyViews.get(log)
  if (h === undefined) {
    const base = log.base
    let prefix: readonly Txn[] = []
    if (base !== undefined) {
      assert(expand !== undefined, "the spec view of a compacted log needs the entries its base stands for")
      prefix = expand(base)
      assert(prefix.length === base.index && prefix[prefix.length - 1]?.zxid === base.zxid, "a snapshot expands to the entries it stands for")
    }
    historyViews.set(log, (h = [...prefix, ...log.toArray()].map(specTxn)))
  }
  return h
}

export function specNode(s: NodeState, expand?: ExpandSnapshot): SpecNode {
  const voters = s.config.voters
  const none = Object.fromEntries(voters.map((v) => [v, -1]))
  const history = specHistory(s.log, expand)
  if (s.config.observers.includes(s.config.id)) {
    // The spec's observers only ever learn committed entries; their connection state is not modelled.
    return { role: "observing", phase: "broadcast", leader: 0, currentEpoch: 0, acceptedEpoch: 0, history, lastCommitted: s.commitIndex, ackeRecv: [], ackIndex: none }
  }
  const lead = s.lead
  return {
    role: s.role,
    phase: s.phase,
    leader: s.leader,
    currentEpoch: s.currentEpoch,
    acceptedEpoch: s.acceptedEpoch,
    history,
    lastCommitted: s.commitIndex,
    ackeRecv: lead?.ackeRecv ?? [],
    ackIndex: lead === undefined ? none : Object.fromEntries(voters.map((v) => [v, v === s.config.id ? -1 : (lead.ackIndex[v] ?? -1)])),
  }
}

/**
 * The spec message a send stands for, judged by the sender's state after the step that sent it;
 * undefined for messages the spec does not model (election, FOLLOWERINFO, observers' ACKs).
 */
export function specMessage(sender: NodeState, to: NodeId, m: Message, expand?: ExpandSnapshot): SpecMessage | undefined {
  const src = sender.config.id
  const log = sender.log
  // Inside the compacted prefix only the expanded history knows positions (rare: a linear count).
  const countUpTo = (z: Zxid): number => {
    if (!log.compacted(z)) return log.countUpTo(z)
    const [e, c] = specZxid(z)
    return specHistory(log, expand).filter((t) => t.zxid[0] < e || (t.zxid[0] === e && t.zxid[1] <= c)).length
  }
  const prefixTo = (z: Zxid) => specHistory(log, expand).slice(0, countUpTo(z))
  switch (m._tag) {
    case "LeaderInfo":
      return { type: "LEADERINFO", src, epoch: m.epoch }
    case "AckEpoch":
      return { type: "ACKEPOCH", src, dst: to, epoch: m.epoch, curEpoch: m.currentEpoch, lastZxid: specZxid(m.lastZxid) }
    case "NewLeader":
      return { type: "NEWLEADER", src, dst: to, epoch: m.epoch, hist: prefixTo(m.leaderLastZxid) }
    case "Ack":
      if (sender.config.observers.includes(src)) return undefined
      return { type: "ACK", src, dst: to, epoch: m.epoch, len: countUpTo(m.zxid) }
    case "Proposal":
      return { type: "PROPOSAL", src, epoch: m.epoch, hist: prefixTo(m.txns[m.txns.length - 1]?.zxid ?? m.prevZxid) }
    case "Commit":
      return { type: "COMMIT", src, epoch: m.epoch, zxid: specZxid(m.zxid) }
    case "Ping":
      return { type: "COMMIT", src, epoch: m.epoch, zxid: specZxid(m.commitZxid) }
    case "Inform":
      return { type: "INFORM", src, epoch: m.epoch, hist: prefixTo(m.commitZxid) }
    case "Vote":
    case "FollowerInfo":
      return undefined
  }
}
