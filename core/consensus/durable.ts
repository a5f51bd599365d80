/**
 * Folding `Persist` records into the durable state: what an embedder's storage does, and what a
 * restart recovers. Kept in the core so every adapter (disk, simulator, tests) agrees on it.
 */
import { assert } from "./assert.ts"
import type { Durable, Persist, Snapshot, Txn } from "./types.ts"

/** Replays persisted records in order (linear time: the log array is built once). */
export function recoverDurable(records: Iterable<Persist>, from: Durable = emptyState): Durable {
  let log: Txn[] = [...from.log]
  let base: Snapshot | undefined = from.base
  let { currentEpoch, acceptedEpoch, commitIndex } = from
  for (const p of records) {
    const start = base?.index ?? 0
    if (p.base !== undefined) {
      const b = p.base
      if (b.index < start) {
        // A base older than ours (a SNAP from a leader that compacted less): the entries between
        // the two are not here, so the record must drop everything after its base.
        assert(p.truncateTo === b.index, "a base older than the durable one must come with a truncation to it")
        log = []
      } else {
        const kept = log.slice(Math.min(b.index - start, log.length))
        // Entries after the base stay only if they continue it: either the history had the
        // base's zxid at its position, or the record cuts them off.
        const continues = b.index - start <= log.length && (b.index === start ? base?.zxid === b.zxid : log[b.index - start - 1]!.zxid === b.zxid)
        assert(continues || kept.length === 0 || p.truncateTo === b.index, "entries after a new base must continue it")
        log = kept
      }
      base = b
    }
    const first = base?.index ?? 0
    if (p.truncateTo !== undefined) {
      assert(p.truncateTo >= first && p.truncateTo <= first + log.length, "truncate outside the durable log")
      log.length = p.truncateTo - first
    }
    for (const t of p.append ?? []) {
      const last = log.length > 0 ? log[log.length - 1]!.zxid : (base?.zxid ?? 0)
      assert(t.zxid > last, "append out of order")
      log.push(t)
    }
    currentEpoch = p.currentEpoch ?? currentEpoch
    acceptedEpoch = p.acceptedEpoch ?? acceptedEpoch
    commitIndex = Math.min(p.commitIndex ?? commitIndex, first + log.length)
  }
  return base === undefined ? { currentEpoch, acceptedEpoch, log, commitIndex } : { currentEpoch, acceptedEpoch, base, log, commitIndex }
}

export const applyPersist = (d: Durable, p: Persist): Durable => recoverDurable([p], d)

const emptyState: Durable = { currentEpoch: 0, acceptedEpoch: 0, log: [], commitIndex: 0 }
