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
 * SNAP: replace the whole history by `txns`.
 */
export const Sync = Schema.Union(
  Schema.TaggedStruct("DIFF", { prevZxid: Zxid, txns: Schema.Array(Txn) }),
  Schema.TaggedStruct("TRUNC", { truncZxid: Zxid, txns: Schema.Array(Txn) }),
  Schema.TaggedStruct("SNAP", { txns: Schema.Array(Txn) }),
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
  /** To observers: committed entries only. */
  Schema.TaggedStruct("Inform", { epoch: Epoch, prevZxid: Zxid, txns: Schema.Array(Txn), commitZxid: Zxid }),
)
export type Message = typeof Message.Type

/**
 * One atomic durable record per step. Fields present are changed; the embedder applies them in
 * the order truncate, append, then the scalar fields (see `applyPersist`).
 */
export const Persist = Schema.TaggedStruct("Persist", {
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
)
export type Input = typeof Input.Type

export const Output = Schema.Union(
  Persist,
  Schema.TaggedStruct("Send", { to: Id, message: Message }),
  /** Newly committed transactions, in zxid order, exactly once per incarnation. */
  Schema.TaggedStruct("Deliver", { txns: Schema.Array(Txn) }),
  Schema.TaggedStruct("Proposed", { zxids: Schema.Array(Zxid) }),
  Schema.TaggedStruct("ProposeRejected", { reason: Schema.String, leaderHint: Schema.Number }),
  Schema.TaggedStruct("RoleChanged", { role: Role, leader: Schema.Number, epoch: Epoch }),
)
export type Output = typeof Output.Type
export type Send = Extract<Output, { _tag: "Send" }>

/** What survives a crash: the embedder rebuilds it by folding `Persist` records. */
export const Durable = Schema.Struct({
  currentEpoch: Epoch,
  acceptedEpoch: Epoch,
  log: Schema.Array(Txn),
  commitIndex: Schema.Number,
})
export type Durable = typeof Durable.Type

export const emptyDurable: Durable = { currentEpoch: 0, acceptedEpoch: 0, log: [], commitIndex: 0 }
