/**
 * Zxids: ZooKeeper's transaction ids. The high part is the epoch of the leader that created the
 * transaction, the low part a counter that leader restarts at 1. Kept as one JS number
 * (epoch * 2^32 + counter) so comparisons are plain `<`; epochs stay below 2^20, which keeps the
 * value an exact integer (2^52 < 2^53).
 */
import { assert } from "./assert.ts"

export type Zxid = number

const COUNTER_SPAN = 2 ** 32
export const MAX_EPOCH = 2 ** 20

/** The zxid of an empty history. */
export const ZERO_ZXID: Zxid = 0

export const makeZxid = (epoch: number, counter: number): Zxid => {
  assert(Number.isInteger(epoch) && epoch >= 0 && epoch < MAX_EPOCH, `epoch out of range: ${epoch}`)
  assert(Number.isInteger(counter) && counter >= 0 && counter < COUNTER_SPAN, `counter out of range: ${counter}`)
  return epoch * COUNTER_SPAN + counter
}

export const epochOf = (z: Zxid): number => Math.floor(z / COUNTER_SPAN)
export const counterOf = (z: Zxid): number => z % COUNTER_SPAN

/** Human-readable form used in logs and test failures, like ZooKeeper's `0x100000003`. */
export const formatZxid = (z: Zxid): string => `${epochOf(z)}.${counterOf(z)}`
