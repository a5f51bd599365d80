/**
 * Data types of the consensus core: transactions, peer messages, inputs and outputs.
 *
 * Declared with effect's `Schema` so adapters decode untrusted bytes/JSON into them with typed
 * errors, and traces and conformance vectors serialize losslessly (transaction data is base64 in
 * JSON). Inside the core these are plain readonly objects.
 */
import { Schema } from "effect"

export type NodeId = number

const Zxid = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
const Epoch = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
const Id = Schema.Number.pipe(Schema.int(), Schema.positive())

export const Txn = Schema.Struct({ zxid: Zxid, data: Schema.Uint8ArrayFromBase64 })
export type Txn = typeof Txn.Type

/**
 * The application's state after the first `index` transactions of the history, the last of them
 * `zxid`; `data` is opaque to the core. A log compacted to a snapshot keeps only the entries after
 * it, and a leader hands the snapshot to a learner too far behind for a DIFF (ZooKeeper's SNAP).
 */
export const Snapshot = Schema.Struct({ index: Schema.Number.pipe(Schema.int(), Schema.positive()), zxid: Zxid, data: Schema.Uint8ArrayFromBase64 })
export type Snapshot = typeof Snapshot.Type

export const Role = Schema.Literal("looking", "following", "leading", "observing")
export type Role = typeof Role.Type
export const Phase = Schema.Literal("election", "discovery", "sync", "broadcast")
export type Phase = typeof Phase.Type

/** A vote in fast leader election: ordered by (epoch, zxid, id). */
export const Vote = Schema.Struct({ id: Schema.Number, epoch: Epoch, zxid: Zxid })
export type Vote = typeof Vote.Type

/**
 * How a leader brings a follower's history to its own (ZooKeeper's DIFF, TRUNC and SNAP).
 * DIFF: the follower holds `prevZxid` as its last entry; append `txns`.
 * TRUNC: the follower holds `truncZxid`; drop what follows it, then append `txns`.
 * SNAP: replace the whole history by `snapshot` (when the leader's log is compacted) then `txns`.
 */
export const Sync = Schema.Union(
  Schema.TaggedStruct("DIFF", { prevZxid: Zxid, txns: Schema.Array(Txn) }),
  Schema.TaggedStruct("TRUNC", { truncZxid: Zxid, txns: Schema.Array(Txn) }),
  Schema.TaggedStruct("SNAP", { snapshot: Schema.optional(Snapshot), txns: Schema.Array(Txn) }),
)
export type Sync = typeof Sync.Type

export const Message = Schema.Union(
  /** Election notification; `state` is the sender's role, `vote` its current vote or leader. */
  Schema.TaggedStruct("Vote", { round: Schema.Number, vote: Vote, state: Role }),
  /** Learner hello to its chosen leader (FOLLOWERINFO / OBSERVERINFO). */
  Schema.TaggedStruct("FollowerInfo", { acceptedEpoch: Epoch, lastZxid: Zxid, observer: Schema.Boolean }),
  Schema.TaggedStruct("LeaderInfo", { epoch: Epoch }),
  Schema.TaggedStruct("AckEpoch", { epoch: Epoch, currentEpoch: Epoch, lastZxid: Zxid }),
  Schema.TaggedStruct("NewLeader", { epoch: Epoch, sync: Sync, leaderLastZxid: Zxid }),
  /** Cumulative: the sender holds the leader's history up to `zxid`. */
  Schema.TaggedStruct("Ack", { epoch: Epoch, zxid: Zxid }),
  Schema.TaggedStruct("Proposal", { epoch: Epoch, prevZxid: Zxid, txns: Schema.Array(Txn) }),
  Schema.TaggedStruct("Commit", { epoch: Epoch, zxid: Zxid }),
  Schema.TaggedStruct("Ping", { epoch: Epoch, commitZxid: Zxid }),
  /**
   * To observers: committed entries only. With `snapshot` (the observer is behind the leader's
   * compacted log) the observer's history becomes the snapshot then `txns`; `prevZxid` is then
   * the snapshot's zxid.
   */
  Schema.TaggedStruct("Inform", {
    epoch: Epoch,
    prevZxid: Zxid,
    txns: Schema.Array(Txn),
    commitZxid: Zxid,
    snapshot: Schema.optional(Snapshot),
  }),
)
export type Message = typeof Message.Type

/**
 * One atomic durable record per step. Fields present are changed; the embedder applies them in
 * the order base, truncate, append, then the scalar fields (see `applyPersist`).
 *
 * `base`: the history's first `base.index` entries are now `base` (a snapshot); entries after it
 * stay unless `truncateTo` cuts them. Positions (`truncateTo`, `commitIndex`) always count from
 * the first transaction ever, compacted ones included. The embedder must keep `base.data`
 * durably (it is what a restart and a lagging learner need in place of the dropped entries).
 */
export const Persist = Schema.TaggedStruct("Persist", {
  base: Schema.optional(Snapshot),
  currentEpoch: Schema.optional(Epoch),
  acceptedEpoch: Schema.optional(Epoch),
  truncateTo: Schema.optional(Schema.Number),
  append: Schema.optional(Schema.Array(Txn)),
  commitIndex: Schema.optional(Schema.Number),
})
export type Persist = typeof Persist.Type

export const Input = Schema.Union(
  Schema.TaggedStruct("Receive", { from: Id, message: Message }),
  /** One tick of the node's local clock. */
  Schema.TaggedStruct("Tick", {}),
  /** A client batch; only an established leader accepts it. */
  Schema.TaggedStruct("Propose", { data: Schema.Array(Schema.Uint8ArrayFromBase64) }),
  /**
   * `data`: the application's state right after the delivered transaction `zxid`. The core drops
   * its log up to that entry and keeps `data` in its place. Ignored when the entry is already
   * compacted or not yet delivered in this incarnation.
   */
  Schema.TaggedStruct("Compact", { zxid: Zxid, data: Schema.Uint8ArrayFromBase64 }),
)
export type Input = typeof Input.Type

export const Output = Schema.Union(
  Persist,
  Schema.TaggedStruct("Send", { to: Id, message: Message }),
  /**
   * Newly committed transactions, in zxid order, exactly once per incarnation. With `snapshot`
   * the application first replaces its state by the snapshot's (the history before `txns` is
   * compacted into it), unless it already holds `snapshot.zxid`.
   */
  Schema.TaggedStruct("Deliver", { snapshot: Schema.optional(Snapshot), txns: Schema.Array(Txn) }),
  Schema.TaggedStruct("Proposed", { zxids: Schema.Array(Zxid) }),
  Schema.TaggedStruct("ProposeRejected", { reason: Schema.String, leaderHint: Schema.Number }),
  Schema.TaggedStruct("RoleChanged", { role: Role, leader: Schema.Number, epoch: Epoch }),
)
export type Output = typeof Output.Type
export type Send = Extract<Output, { _tag: "Send" }>

/**
 * What survives a crash: the embedder rebuilds it by folding `Persist` records. `log` holds the
 * entries after `base` (all of them without one); `commitIndex` counts from the first transaction.
 */
export const Durable = Schema.Struct({
  currentEpoch: Epoch,
  acceptedEpoch: Epoch,
  base: Schema.optional(Snapshot),
  log: Schema.Array(Txn),
  commitIndex: Schema.Number,
})
export type Durable = typeof Durable.Type

export const emptyDurable: Durable = { currentEpoch: 0, acceptedEpoch: 0, log: [], commitIndex: 0 }
