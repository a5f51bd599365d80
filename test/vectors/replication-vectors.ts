/**
 * Conformance vectors of the replication core: every call a simulator run made into
 * `core/replication` (replica start/step, controller start/step) with the outputs returned, as
 * JSON (format in README.md here). A port replays them in order and must match every output.
 */
import { Schema } from "effect"
import { ControllerInput, ControllerSend, Durable, Input, Output } from "../../core/replication/index.ts"

export const ReplicationVectorEvent = Schema.Union(
  Schema.Struct({ actor: Schema.Number, call: Schema.Literal("start"), durable: Durable, now: Schema.Number, outputs: Schema.Array(Output) }),
  Schema.Struct({ actor: Schema.Number, call: Schema.Literal("step"), input: Input, outputs: Schema.Array(Output) }),
  Schema.Struct({ actor: Schema.Literal(0), call: Schema.Literal("controllerStart"), outputs: Schema.Array(ControllerSend) }),
  Schema.Struct({ actor: Schema.Literal(0), call: Schema.Literal("controllerStep"), input: ControllerInput, outputs: Schema.Array(ControllerSend) }),
)

export const ReplicationVectorFile = Schema.Struct({
  format: Schema.Literal("sequent.replication.vectors/1"),
  description: Schema.String,
  seed: Schema.Number,
  replicas: Schema.Array(Schema.Number),
  unclean: Schema.Boolean,
  /** Every replica's configuration but its id. */
  config: Schema.Struct({
    minIsr: Schema.Number,
    lagTimeMaxMs: Schema.Number,
    fetchBackoffMs: Schema.Number,
    fetchTimeoutMs: Schema.Number,
    alterResendMs: Schema.Number,
    maxFetchRecords: Schema.Number,
  }),
  events: Schema.Array(ReplicationVectorEvent),
})
export type ReplicationVectorFile = typeof ReplicationVectorFile.Type

export const encodeReplicationVectors = Schema.encodeSync(ReplicationVectorFile)
export const decodeReplicationVectors = Schema.decodeUnknownSync(ReplicationVectorFile)
