/**
 * Static configuration of one node. Timeouts are counted in ticks of the node's own clock:
 * the core never reads a clock, the embedder feeds `Tick` inputs.
 */
import { assert } from "./assert.ts"
import type { BugFlags } from "./bugs.ts"
import type { NodeId } from "./types.ts"

export interface Config {
  readonly id: NodeId
  /** Voting members, sorted ascending; epoch e is owned by voters[(e - 1) mod n]. */
  readonly voters: readonly NodeId[]
  readonly observers: readonly NodeId[]
  /** Ticks between heartbeats and resends. */
  readonly heartbeatTicks: number
  /** A follower (leader) that hears nothing from its leader (a quorum) this long gives up. */
  readonly syncLimitTicks: number
  /** Discovery and synchronization must finish within this many ticks. */
  readonly initLimitTicks: number
  /** Seeded protocol bugs, for the bug zoo only. */
  readonly bugs?: BugFlags
}

export const defaultTiming = { heartbeatTicks: 2, syncLimitTicks: 10, initLimitTicks: 20 } as const

export const makeConfig = (
  id: NodeId,
  voters: readonly NodeId[],
  observers: readonly NodeId[] = [],
  timing: Partial<Pick<Config, "heartbeatTicks" | "syncLimitTicks" | "initLimitTicks">> = {},
  bugs?: BugFlags,
): Config => {
  const sorted = [...voters].sort((a, b) => a - b)
  assert(sorted.length > 0, "need at least one voter")
  assert(new Set([...sorted, ...observers]).size === sorted.length + observers.length, "duplicate node ids")
  assert([...sorted, ...observers].includes(id), `node ${id} is not in the ensemble`)
  const config: Config = { id, voters: sorted, observers: [...observers], ...defaultTiming, ...timing }
  return bugs === undefined ? config : { ...config, bugs }
}

export const isVoter = (c: Config, n: NodeId): boolean => c.voters.includes(n)
export const quorumSize = (c: Config): number =>
  c.bugs?.smallQuorum ? Math.floor(c.voters.length / 2) : Math.floor(c.voters.length / 2) + 1
export const isQuorum = (c: Config, members: Iterable<NodeId>): boolean => {
  let n = 0
  for (const m of members) if (isVoter(c, m)) n++
  return n >= quorumSize(c)
}

/** The voter that owns epoch e: two leaders can never pick the same epoch. */
export const epochOwner = (c: Config, e: number): NodeId => c.voters[(e - 1) % c.voters.length]!

/** The smallest epoch owned by `id` that is greater than `above`. */
export const nextOwnedEpoch = (c: Config, id: NodeId, above: number): number => {
  const idx = c.voters.indexOf(id)
  assert(idx >= 0, "only voters lead")
  const n = c.voters.length
  // epochs owned by idx are idx+1, idx+1+n, ...
  let e = idx + 1
  if (e <= above) e += Math.ceil((above - e + 1) / n) * n
  return e
}
