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
 * After the leader `gone` left: the first live member of the rest of the ISR (in id order), the
 * ISR losing `gone`; or with unclean election any live replica, the ISR becoming just it; or no
 * leader, the ISR kept, so that only a replica holding every committed record may lead again.
 */
function electAfter(s: ControllerState, gone: ReplicaId, live: readonly ReplicaId[]): PartitionState {
  const p = s.partition
  const next = { leaderEpoch: p.leaderEpoch + 1, partitionEpoch: p.partitionEpoch + 1 }
  const rest = p.isr.filter((r) => r !== gone)
  const cand = rest.filter((r) => live.includes(r)).sort((a, b) => a - b)
  if (cand.length > 0) return { ...next, leader: cand[0]!, isr: rest }
  const anyLive = [...live].sort((a, b) => a - b)[0]
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
      if (p.leader === input.id) partition = electAfter(s, input.id, live)
      else if (p.isr.includes(input.id) && p.isr.length > 1) partition = { ...p, isr: p.isr.filter((r) => r !== input.id), partitionEpoch: p.partitionEpoch + 1 }
      const state = { ...s, live, partition }
      return { state, outputs: partition === p ? [] : announce(state, live) }
    }
    case "BrokerUp": {
      if (s.live.includes(input.id)) return { state: s, outputs: [] }
      const live = [...s.live, input.id].sort((a, b) => a - b)
      // An offline partition takes back a returning ISR member, in a new epoch. (A broker
      // registers only once its old session expired, so a leader that restarted has already
      // been replaced or set offline by then: it never leads again in an epoch it knew.)
      const back = p.leader === NONE && p.isr.includes(input.id)
      const partition = back ? { ...p, leader: input.id, leaderEpoch: p.leaderEpoch + 1, partitionEpoch: p.partitionEpoch + 1 } : p
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
