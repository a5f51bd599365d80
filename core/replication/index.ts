/**
 * `core/replication`: Kafka's ISR replication of one partition as pure state machines (a replica
 * and the controller's partition-state decisions), with the invariants spec/Replication.tla
 * checks. See PROTOCOL.md.
 */
export * from "./types.ts"
export { EntryLog } from "./entry-log.ts"
export { start, step, lastEpoch, maximalIsr, defaultReplicaTimings, type ReplicaConfig, type ReplicaState, type ReplicationBugs, type Role, type StepResult } from "./replica.ts"
export { startController, controllerStep, type ControllerConfig, type ControllerState, type ControllerStep } from "./controller.ts"
export { checkInvariants, type ClusterView, type InvariantName, type Violation } from "./invariants.ts"
