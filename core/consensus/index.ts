/**
 * `sequent/consensus`: a Zab-style atomic broadcast as a pure state machine.
 * See README.md for embedding it with your own I/O, PROTOCOL.md for the protocol.
 */
export { start, step, type StepResult } from "./step.ts"
export { makeConfig, defaultTiming, epochOwner, isQuorum, quorumSize, type Config } from "./config.ts"
export { recoverDurable, applyPersist, applyPersistInPlace, persistError, durableBuffer, durableOf, type DurableBuffer } from "./durable.ts"
export type { NodeState, LeaderState, LearnerTrack, ElectionState } from "./state.ts"
export { Log } from "./log.ts"
export {
  Txn,
  Message,
  Input,
  Output,
  Persist,
  Durable,
  Sync,
  Snapshot,
  Vote,
  emptyDurable,
  type NodeId,
  type Send,
} from "./types.ts"
export { makeZxid, epochOf, counterOf, formatZxid, ZERO_ZXID, type Zxid } from "./zxid.ts"
export { invariants, checkInvariants, type ClusterView, type InvariantName } from "./invariants.ts"
export { specNode, specMessage, specTxn, type SpecNode, type SpecMessage, type SpecTxn, type ExpandSnapshot } from "./spec-view.ts"
export { bugNames, type BugFlags, type BugName } from "./bugs.ts"
export { AssertionError } from "./assert.ts"
