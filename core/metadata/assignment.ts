/**
 * Where a new topic's partitions live: Kafka's rack-unaware replica assignment
 * (AdminUtils.assignReplicasToBrokersRackUnaware), so that a topic created on Sequent is laid out
 * as Kafka would lay it out on the same brokers. The first replica of partition p is broker
 * (p + startIndex) mod n; the others follow at a shift that grows by one every n partitions,
 * which spreads followers as well as leaders.
 *
 * Kafka draws startIndex and the initial shift at random; here they are inputs (the core draws
 * no random numbers), and the adapter draws them.
 */

export type AssignmentError =
  | { readonly _tag: "InvalidPartitions"; readonly message: string }
  | { readonly _tag: "InvalidReplicationFactor"; readonly message: string }

export interface AssignmentInput {
  readonly partitions: number
  readonly replicationFactor: number
  /** Live broker ids; the order does not matter (they are sorted, as Kafka sorts them). */
  readonly brokers: readonly number[]
  /** In [0, brokers.length): where partition 0's first replica starts. */
  readonly startIndex: number
  /** In [0, brokers.length): the initial shift of the other replicas. */
  readonly replicaShift: number
  /** The first partition id to assign (CreatePartitions adds ids after the existing ones). */
  readonly firstPartition?: number
}

/** Partition id -> replicas (the first is the preferred leader). */
export type Assignment = ReadonlyMap<number, readonly number[]>

export function assignReplicas(input: AssignmentInput): { readonly ok: true; readonly assignment: Assignment } | { readonly ok: false; readonly error: AssignmentError } {
  const { partitions, replicationFactor } = input
  const brokers = [...new Set(input.brokers)].sort((a, b) => a - b)
  const n = brokers.length
  if (!Number.isInteger(partitions) || partitions <= 0) return { ok: false, error: { _tag: "InvalidPartitions", message: `Number of partitions must be larger than 0 (got ${partitions}).` } }
  if (!Number.isInteger(replicationFactor) || replicationFactor <= 0)
    return { ok: false, error: { _tag: "InvalidReplicationFactor", message: `Replication factor must be larger than 0 (got ${replicationFactor}).` } }
  if (replicationFactor > n)
    return { ok: false, error: { _tag: "InvalidReplicationFactor", message: `Replication factor: ${replicationFactor} larger than available brokers: ${n}.` } }
  if (!(input.startIndex >= 0 && input.startIndex < n && input.replicaShift >= 0 && input.replicaShift < n))
    throw new RangeError(`startIndex ${input.startIndex} and replicaShift ${input.replicaShift} must be in [0, ${n})`)

  const out = new Map<number, number[]>()
  let shift = input.replicaShift
  let p = Math.max(0, input.firstPartition ?? 0)
  for (let i = 0; i < partitions; i++, p++) {
    if (p > 0 && p % n === 0) shift++
    const first = (p + input.startIndex) % n
    const replicas = [brokers[first]!]
    for (let j = 0; j < replicationFactor - 1; j++) replicas.push(brokers[(first + 1 + ((shift + j) % (n - 1))) % n]!)
    out.set(p, replicas)
  }
  return { ok: true, assignment: out }
}
