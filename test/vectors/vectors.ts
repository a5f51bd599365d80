/**
 * Conformance vectors: every call a simulator run made into the consensus core, with the
 * outputs the core returned, as JSON. A port of the core to another language replays the calls
 * in order and must produce identical outputs (README.md here documents the format).
 */
import { Schema } from "effect"
import { Durable, Input, Output } from "../../core/consensus/index.ts"

export const VectorEvent = Schema.Union(
  Schema.Struct({ node: Schema.Number, call: Schema.Literal("start"), durable: Durable, outputs: Schema.Array(Output) }),
  Schema.Struct({ node: Schema.Number, call: Schema.Literal("step"), input: Input, outputs: Schema.Array(Output) }),
)

export const VectorFile = Schema.Struct({
  format: Schema.Literal("sequent.zab.vectors/1"),
  description: Schema.String,
  seed: Schema.Number,
  voters: Schema.Array(Schema.Number),
  observers: Schema.Array(Schema.Number),
  timing: Schema.Struct({ heartbeatTicks: Schema.Number, syncLimitTicks: Schema.Number, initLimitTicks: Schema.Number }),
  events: Schema.Array(VectorEvent),
})
export type VectorFile = typeof VectorFile.Type

export const encodeVectors = Schema.encodeSync(VectorFile)
export const decodeVectors = Schema.decodeUnknownSync(VectorFile)
