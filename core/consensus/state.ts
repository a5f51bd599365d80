/**
 * The state of one node. Persisted fields survive a crash (the embedder folds `Persist` outputs
 * into a `Durable`); everything else is volatile and rebuilt by `start`.
 */
import type { Config } from "./config.ts"
import { Log } from "./log.ts"
import type { NodeId, Phase, Vote } from "./types.ts"
import type { Zxid } from "./zxid.ts"

/** What a leader knows about one learner (follower or observer) connected to it. */
export interface LearnerTrack {
  readonly observer: boolean
  /** Leader tick when this learner was last heard from. */
  readonly lastHeard: number
  /** `info`: sent LEADERINFO; `syncing`: NEWLEADER sent, not acknowledged; `synced`: acked. */
  readonly stage: "info" | "syncing" | "synced"
  /** Last zxid the learner reported (ACKEPOCH, OBSERVERINFO, ACK), used to choose DIFF/TRUNC/SNAP. */
  readonly lastZxid: Zxid
  /** NEWLEADERs sent since its last ACKEPOCH: a second attempt falls back to SNAP. */
  readonly syncAttempts: number
}

export interface LeaderState {
  readonly epoch: number
  /** Tick the leadership started, for initLimit. */
  readonly startedAt: number
  /** Voters whose ACKEPOCH arrived, ascending. */
  readonly ackeRecv: readonly NodeId[]
  /** Per voter: longest history prefix acknowledged in this epoch, -1 for none. */
  readonly ackIndex: Readonly<Record<NodeId, number>>
  readonly learners: Readonly<Record<NodeId, LearnerTrack>>
}

export interface ElectionState {
  readonly round: number
  readonly vote: Vote
  /** Votes of looking voters in this round, including our own. */
  readonly votes: Readonly<Record<NodeId, Vote>>
  /** Leaders reported by voters that are not looking (they answered our notification). */
  readonly outside: Readonly<Record<NodeId, NodeId>>
  /** Tick at which our vote first had a quorum; we wait one tick for a better vote (finalizeWait). */
  readonly quorumSince: number | null
}

export interface NodeState {
  readonly config: Config
  // persisted
  readonly currentEpoch: number
  readonly acceptedEpoch: number
  readonly log: Log
  readonly commitIndex: number
  // volatile
  readonly role: "looking" | "following" | "leading" | "observing"
  readonly phase: Phase
  /** Whom we follow or observe (ourselves when leading), 0 when none. */
  readonly leader: NodeId
  readonly tick: number
  /** Tick of the last message from our leader (followers and observers). */
  readonly lastLeaderContact: number
  /** Entries handed to the application in this incarnation. */
  readonly delivered: number
  /** Highest epoch heard of; a new leader picks an epoch above it. */
  readonly epochHint: number
  /** Election round (ZooKeeper's logical clock). */
  readonly round: number
  readonly election: ElectionState | undefined
  readonly lead: LeaderState | undefined
}

export const isObserverNode = (s: NodeState): boolean => s.config.observers.includes(s.config.id)

export const baseState = (
  config: Config,
  durable: { currentEpoch: number; acceptedEpoch: number; log: Log; commitIndex: number },
): NodeState => ({
  config,
  currentEpoch: durable.currentEpoch,
  acceptedEpoch: durable.acceptedEpoch,
  log: durable.log,
  commitIndex: durable.commitIndex,
  role: "looking",
  phase: "election",
  leader: 0,
  tick: 0,
  lastLeaderContact: 0,
  delivered: 0,
  epochHint: durable.acceptedEpoch,
  round: 0,
  election: undefined,
  lead: undefined,
})

export const emptyLog = Log.empty
