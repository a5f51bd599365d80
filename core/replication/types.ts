/**
 * Data types of the replication core (PROTOCOL.md): records, messages between replicas and the
 * controller, inputs and outputs. Declared with effect's `Schema` so adapters decode untrusted
 * bytes into them and traces serialize losslessly; inside the core, plain readonly objects.
 */
import { Schema } from "effect"

export type ReplicaId = number
/** The controller's address in `Send` outputs and `Receive` inputs. */
export const CONTROLLER = 0
/** No leader (an offline partition) or an unknown one. */
export const NONE = -1

const Offset = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
const Epoch = Schema.Number.pipe(Schema.int(), Schema.greaterThanOrEqualTo(-1))
const Id = Schema.Number.pipe(Schema.int())

/** One record: the leader epoch that wrote it and its opaque data. Its offset is its position. */
export const Entry = Schema.Struct({ epoch: Epoch, data: Schema.Uint8ArrayFromBase64 })
export type Entry = typeof Entry.Type

/** The partition state the controller keeps (in the coordination service) and announces. */
export const PartitionState = Schema.Struct({
  leader: Id,
  leaderEpoch: Epoch,
  isr: Schema.Array(Id),
  partitionEpoch: Epoch,
})
export type PartitionState = typeof PartitionState.Type

export const Message = Schema.Union(
  /** Controller -> replica: the current partition state. */
  Schema.TaggedStruct("LeaderAndIsr", { state: PartitionState }),
  /** Follower -> leader: "I hold everything below fetchOffset; my last record is of lastFetchedEpoch". */
  Schema.TaggedStruct("Fetch", { fetchOffset: Offset, lastFetchedEpoch: Epoch, leaderEpoch: Epoch }),
  /**
   * Echoes the fetch it answers (leaderEpoch, fetchOffset, lastFetchedEpoch): a follower takes only
   * the answer to the fetch it would send now (TLC found why the last epoch matters too: a delayed
   * or duplicated Diverging answer to an earlier fetch from the same offset, when the follower's
   * log still diverged, would truncate the log it has since caught up, under records the leader
   * already counts it for).
   */
  Schema.TaggedStruct("FetchResponse", {
    leaderEpoch: Epoch,
    fetchOffset: Offset,
    lastFetchedEpoch: Epoch,
    error: Schema.optional(Schema.Literal("FENCED_LEADER_EPOCH", "UNKNOWN_LEADER_EPOCH")),
    /** KIP-320: the follower's log diverges; it truncates as PROTOCOL.md says, then fetches again. */
    diverging: Schema.optional(Schema.Struct({ epoch: Epoch, endOffset: Schema.Number })),
    records: Schema.Array(Entry),
    hw: Offset,
  }),
  /** Leader -> controller: a compare-and-set of the ISR. */
  Schema.TaggedStruct("AlterPartition", { leaderEpoch: Epoch, isr: Schema.Array(Id), partitionEpoch: Epoch }),
)
export type Message = typeof Message.Type

export const Acks = Schema.Literal(0, 1, -1)
export type Acks = typeof Acks.Type

export const ProduceError = Schema.Literal("NOT_LEADER_OR_FOLLOWER", "NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND")
export type ProduceError = typeof ProduceError.Type

export const Input = Schema.Union(
  Schema.TaggedStruct("Receive", { from: Id, message: Message }),
  /** The local clock: lag checks, fetch pacing and resends. */
  Schema.TaggedStruct("Tick", { now: Schema.Number }),
  /** A client's produce of one record; `acks` -1 is "all". */
  Schema.TaggedStruct("Produce", { requestId: Schema.Number, data: Schema.Uint8ArrayFromBase64, acks: Acks }),
  /** The embedder made the first `upTo` records durable (after a `Persist`). */
  Schema.TaggedStruct("Persisted", { upTo: Offset }),
)
export type Input = typeof Input.Type

export const Output = Schema.Union(
  Schema.TaggedStruct("Send", { to: Id, message: Message }),
  /**
   * Durable log changes, applied in order: truncate to `truncateTo` records, then append
   * `append`. Confirmed by a `Persisted` input. `leaderEpoch` must be durable before the step's
   * other outputs are carried out (a restarted replica must never lead again in an epoch it led
   * before its crash: records it lost could still sit on followers under the same epoch).
   */
  Schema.TaggedStruct("Persist", {
    truncateTo: Schema.optional(Offset),
    append: Schema.optional(Schema.Array(Entry)),
    leaderEpoch: Schema.optional(Epoch),
    hw: Schema.optional(Offset),
  }),
  Schema.TaggedStruct("ProduceResult", { requestId: Schema.Number, offset: Schema.optional(Offset), error: Schema.optional(ProduceError) }),
  Schema.TaggedStruct("RoleChanged", { role: Schema.Literal("Leader", "Follower"), leader: Id, leaderEpoch: Epoch }),
)
export type Output = typeof Output.Type

export const ControllerInput = Schema.Union(
  /** A broker's session expired (it crashed, or was cut off long enough). */
  Schema.TaggedStruct("BrokerDown", { id: Id }),
  Schema.TaggedStruct("BrokerUp", { id: Id }),
  Schema.TaggedStruct("Receive", { from: Id, message: Message }),
  /** Announce the state again to every live replica (announcements can be lost). */
  Schema.TaggedStruct("Resend", {}),
)
export type ControllerInput = typeof ControllerInput.Type

export const ControllerSend = Schema.TaggedStruct("Send", { to: Id, message: Message })
export type ControllerSend = typeof ControllerSend.Type

/** What a replica finds on disk after a restart. */
export const Durable = Schema.Struct({ log: Schema.Array(Entry), leaderEpoch: Epoch, hw: Offset })
export type Durable = typeof Durable.Type
export const emptyDurable: Durable = { log: [], leaderEpoch: -1, hw: 0 }
