/**
 * Folding `Persist` records into the durable state: what an embedder's storage does, and what a
 * restart recovers. Kept in the core so every adapter (disk, simulator, tests) agrees on it.
 */
import { assert } from "./assert.ts"
import type { Durable, Persist, Txn } from "./types.ts"

/** Replays persisted records in order (linear time: the log array is built once). */
export function recoverDurable(records: Iterable<Persist>, from: Durable = emptyState): Durable {
  const log: Txn[] = [...from.log]
  let { currentEpoch, acceptedEpoch, commitIndex } = from
  for (const p of records) {
    if (p.truncateTo !== undefined) {
      assert(p.truncateTo <= log.length, "truncate beyond the durable log")
      log.length = p.truncateTo
    }
    for (const t of p.append ?? []) {
      assert(log.length === 0 || t.zxid > log[log.length - 1]!.zxid, "append out of order")
      log.push(t)
    }
    currentEpoch = p.currentEpoch ?? currentEpoch
    acceptedEpoch = p.acceptedEpoch ?? acceptedEpoch
    commitIndex = Math.min(p.commitIndex ?? commitIndex, log.length)
  }
  return { currentEpoch, acceptedEpoch, log, commitIndex }
}

export const applyPersist = (d: Durable, p: Persist): Durable => recoverDurable([p], d)

const emptyState: Durable = { currentEpoch: 0, acceptedEpoch: 0, log: [], commitIndex: 0 }
