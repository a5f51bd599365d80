/**
 * The bug zoo: seeded protocol bugs, each off by default. `test/zoo` turns each on and shows which
 * check catches it. A check that cannot fail is worth nothing; these prove ours can.
 */
export interface BugFlags {
  /** Follower acknowledges a new epoch without persisting it, so a restart forgets the promise. */
  readonly forgetAcceptedEpoch?: boolean
  /** Quorum is floor(n/2) instead of floor(n/2)+1: the leader commits alone in a 3-node ensemble. */
  readonly smallQuorum?: boolean
  /** Observers get proposals and their ACKs count toward the commit quorum. */
  readonly observerAckCounts?: boolean
  /** Synchronization never truncates: a follower keeps its divergent uncommitted suffix. */
  readonly skipTrunc?: boolean
  /** A follower applies a stale (duplicated, delayed) NEWLEADER of its own epoch, shortening its history. */
  readonly shortenOnStaleNewLeader?: boolean
  /** A leader whose log is compacted sends a SNAP without its base snapshot: the follower's history loses its prefix. */
  readonly snapDropsBase?: boolean
}

export const bugNames = [
  "forgetAcceptedEpoch",
  "smallQuorum",
  "observerAckCounts",
  "skipTrunc",
  "shortenOnStaleNewLeader",
  "snapDropsBase",
] as const satisfies readonly (keyof BugFlags)[]
export type BugName = (typeof bugNames)[number]
