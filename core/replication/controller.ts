/**
 * The controller's part of replication (PROTOCOL.md), as a pure state machine: it owns the
 * partition state (leader, leader epoch, ISR, partition epoch), which in a Sequent cluster lives
 * in the coordination service and changes only by compare-and-set; it elects leaders from the ISR
 * when brokers go, applies the leader's AlterPartition requests, and announces every state.
 */
import { NONE, type ControllerInput, type ControllerSend, type PartitionState, type ReplicaId } from "./types.ts"

export interface ControllerConfig {
  readonly replicas: readonly ReplicaId[]
  /** unclean.leader.election.enable: elect a replica outside the ISR rather than stay offline. */
  readonly unclean: boolean
}

export interface ControllerState {
  readonly config: ControllerConfig
  readonly partition: PartitionState
  /** Brokers with a live session. */
  readonly live: readonly ReplicaId[]
}

export interface ControllerStep {
  readonly state: ControllerState
  readonly outputs: readonly ControllerSend[]
}

/** A new partition: the first replica leads in epoch 0 with every replica in the ISR. */
export function startController(config: ControllerConfig): ControllerStep {
  const partition: PartitionState = { leader: config.replicas[0]!, leaderEpoch: 0, isr: [...config.replicas], partitionEpoch: 0 }
  const state: ControllerState = { config, partition, live: [...config.replicas] }
  return { state, outputs: announce(state, config.replicas) }
}

const announce = (s: ControllerState, to: readonly ReplicaId[]): ControllerSend[] =>
  to.map((r) => ({ _tag: "Send", to: r, message: { _tag: "LeaderAndIsr", state: s.partition } }))

/**
 * The leader among `isr` after `gone` left: the first live ISR member in replica order, or with
 * unclean election any live replica (the ISR becomes just it), or none (offline, ISR kept).
 */
function elect(s: ControllerState, live: readonly ReplicaId[]): PartitionState {
  const p = s.partition
  const inIsr = s.config.replicas.filter((r) => p.isr.includes(r) && live.includes(r))
  const next = { leaderEpoch: p.leaderEpoch + 1, partitionEpoch: p.partitionEpoch + 1 }
  if (inIsr.length > 0) return { ...next, leader: inIsr[0]!, isr: inIsr }
  const anyLive = s.config.replicas.find((r) => live.includes(r))
  if (s.config.unclean && anyLive !== undefined) return { ...next, leader: anyLive, isr: [anyLive] }
  return { ...next, leader: NONE, isr: p.isr }
}

export function controllerStep(s: ControllerState, input: ControllerInput): ControllerStep {
  const p = s.partition
  switch (input._tag) {
    case "BrokerDown": {
      if (!s.live.includes(input.id)) return { state: s, outputs: [] }
      const live = s.live.filter((r) => r !== input.id)
      let partition = p
      if (p.leader === input.id) partition = elect(s, live)
      else if (p.isr.includes(input.id) && p.isr.length > 1) partition = { ...p, isr: p.isr.filter((r) => r !== input.id), partitionEpoch: p.partitionEpoch + 1 }
      const state = { ...s, live, partition }
      return { state, outputs: partition === p ? [] : announce(state, live) }
    }
    case "BrokerUp": {
      if (s.live.includes(input.id)) return { state: s, outputs: [] }
      const live = [...s.live, input.id].sort((a, b) => a - b)
      // An offline partition takes back its last ISR member; a leader that restarted before its
      // session expired leads again only in a new epoch (it may have lost unsynced records).
      const partition = p.leader === NONE || p.leader === input.id ? elect(s, live) : p
      const state = { ...s, live, partition }
      return { state, outputs: announce(state, partition === p ? [input.id] : live) }
    }
    case "Resend":
      return { state: s, outputs: announce(s, s.live) }
    case "Receive": {
      const m = input.message
      if (m._tag !== "AlterPartition") return { state: s, outputs: [] }
      const ok = input.from === p.leader && m.leaderEpoch === p.leaderEpoch && m.partitionEpoch === p.partitionEpoch && m.isr.includes(p.leader)
      if (!ok) return { state: s, outputs: announce(s, [input.from]) }
      const state = { ...s, partition: { ...p, isr: [...m.isr], partitionEpoch: p.partitionEpoch + 1 } }
      return { state, outputs: announce(state, state.live) }
    }
  }
}
