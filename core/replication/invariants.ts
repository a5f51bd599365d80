/**
 * The replication invariants of PROTOCOL.md, with the names spec/Replication.tla gives them,
 * over a whole cluster (controller state, every replica, the acknowledged writes). The simulator
 * checks them after every step.
 */
import { maximalIsr, type ReplicaState } from "./replica.ts"
import { NONE, type Entry, type PartitionState, type ReplicaId } from "./types.ts"

export interface ClusterView {
  readonly controller: PartitionState
  readonly replicas: ReadonlyMap<ReplicaId, ReplicaState>
  /** Records acknowledged with acks=all: offset -> data. */
  readonly acked: ReadonlyMap<number, Uint8Array>
  readonly minIsr: number
}

export type InvariantName = "AckedWritesSurvive" | "AckedOnMinIsr" | "LogsAgreeBelowHW" | "LeaderHasCommitted" | "HwWithinIsrEnds" | "OneLeaderPerEpoch"

export interface Violation {
  readonly name: InvariantName
  readonly message: string
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])
const sameEntry = (a: Entry | undefined, b: Entry | undefined): boolean => a !== undefined && b !== undefined && a.epoch === b.epoch && sameBytes(a.data, b.data)
const show = (b: Uint8Array): string => new TextDecoder().decode(b)

/** The replica the controller names leader, if it leads in the controller's epoch. */
function currentLeader(v: ClusterView): ReplicaState | undefined {
  const r = v.controller.leader === NONE ? undefined : v.replicas.get(v.controller.leader)
  return r !== undefined && r.role === "Leader" && r.leaderEpoch === v.controller.leaderEpoch ? r : undefined
}

export function checkInvariants(v: ClusterView): Violation | undefined {
  const named = v.controller.leader === NONE ? undefined : v.replicas.get(v.controller.leader)
  for (const [offset, data] of v.acked) {
    const e = named?.log.at(offset)
    if (named !== undefined && (e === undefined || !sameBytes(e.data, data)))
      return { name: "AckedWritesSurvive", message: `acked ${show(data)} at ${offset}: leader ${v.controller.leader} holds ${e === undefined ? "nothing" : show(e.data)} there` }
    const copies = [...v.replicas.values()].filter((r) => r.durable > offset && r.log.at(offset) !== undefined && sameBytes(r.log.at(offset)!.data, data)).length
    if (copies < v.minIsr) return { name: "AckedOnMinIsr", message: `acked ${show(data)} at ${offset} is durable on ${copies} replicas, min.insync.replicas is ${v.minIsr}` }
  }
  const rs = [...v.replicas.values()]
  for (const a of rs)
    for (const b of rs) {
      if (a.config.id >= b.config.id) continue
      const upTo = Math.min(a.hw, b.hw)
      for (let i = 0; i < upTo; i++)
        if (!sameEntry(a.log.at(i), b.log.at(i))) return { name: "LogsAgreeBelowHW", message: `replicas ${a.config.id} and ${b.config.id} differ at ${i}, below their high watermarks ${a.hw} and ${b.hw}` }
    }
  const leader = currentLeader(v)
  if (leader !== undefined)
    for (const r of rs)
      for (let i = 0; i < r.hw; i++)
        if (!sameEntry(leader.log.at(i), r.log.at(i))) return { name: "LeaderHasCommitted", message: `leader ${leader.config.id} lacks replica ${r.config.id}'s record ${i} (its high watermark is ${r.hw})` }
  for (const l of rs) {
    if (l.role !== "Leader") continue
    for (const m of maximalIsr(l)) {
      const end = v.replicas.get(m)?.durable ?? 0
      if (l.hw > end) return { name: "HwWithinIsrEnds", message: `leader ${l.config.id} (epoch ${l.leaderEpoch}) has high watermark ${l.hw}, ISR member ${m} holds ${end} durable records` }
    }
  }
  const leaders = new Map<number, ReplicaId>()
  for (const r of rs) {
    if (r.role !== "Leader") continue
    const other = leaders.get(r.leaderEpoch)
    if (other !== undefined) return { name: "OneLeaderPerEpoch", message: `replicas ${other} and ${r.config.id} both lead epoch ${r.leaderEpoch}` }
    leaders.set(r.leaderEpoch, r.config.id)
  }
  return undefined
}
