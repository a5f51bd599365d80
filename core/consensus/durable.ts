/**
 * Folding `Persist` records into the durable state: what an embedder's storage does, and what a
 * restart recovers. Kept in the core so every adapter (disk, simulator, tests) agrees on it:
 * `persistError` says whether a record applies, `applyPersistInPlace` applies it, both in linear
 * time over a mutable `DurableBuffer` (the log array is never copied).
 */
import { assert } from "./assert.ts"
import type { Durable, Persist, Snapshot, Txn } from "./types.ts"

/** A `Durable` being folded: mutable, so records apply in place. */
export interface DurableBuffer {
  currentEpoch: number
  acceptedEpoch: number
  base: Snapshot | undefined
  /** The entries after `base`. */
  log: Txn[]
  commitIndex: number
}

const hex = (z: number): string => `0x${z.toString(16)}`

/**
 * How `p` reshapes the log, on positions only: `drop` entries leave the front for the new base,
 * `keep` of the rest stay, then `p.append` follows. Or why it cannot apply.
 */
function plan(d: DurableBuffer, p: Persist): { drop: number; keep: number } | string {
  const start = d.base?.index ?? 0
  let drop = 0
  if (p.base !== undefined) {
    const b = p.base
    if (b.index < start) {
      // A base older than ours (a SNAP from a leader that compacted less): the entries between
      // the two are not here, so the record must cut everything after its base.
      if (p.truncateTo !== b.index) return `base at ${b.index} is older than the durable one (${start}) and the record does not truncate to it`
      drop = d.log.length
    } else {
      // Entries after the base stay only if they continue it: the history had the base's zxid
      // at its position, or the record cuts them off.
      const off = b.index - start
      drop = Math.min(off, d.log.length)
      const continues = off <= d.log.length && (off === 0 ? d.base?.zxid === b.zxid : d.log[off - 1]!.zxid === b.zxid)
      if (!continues && d.log.length > drop && p.truncateTo !== b.index) return `entries after the new base at ${b.index} (zxid ${hex(b.zxid)}) do not continue it`
    }
  }
  const first = p.base?.index ?? start
  let keep = d.log.length - drop
  if (p.truncateTo !== undefined) {
    if (p.truncateTo > first + keep) return `truncate to ${p.truncateTo} beyond the durable log (${first + keep})`
    if (p.truncateTo < first) return `truncate to ${p.truncateTo} before the base (${first})`
    keep = p.truncateTo - first
  }
  let last = keep > 0 ? d.log[drop + keep - 1]!.zxid : ((p.base ?? d.base)?.zxid ?? 0)
  for (const t of p.append ?? []) {
    if (!(t.zxid > last)) return `append out of order: zxid ${hex(t.zxid)} after ${hex(last)}`
    last = t.zxid
  }
  return { drop, keep }
}

/** Why `p` does not apply to `d`, or undefined when it does. Changes nothing. */
export function persistError(d: DurableBuffer, p: Persist): string | undefined {
  const r = plan(d, p)
  return typeof r === "string" ? r : undefined
}

/** Applies `p` to `d` in place, in the order base, truncate, append, scalars. Asserts it applies. */
export function applyPersistInPlace(d: DurableBuffer, p: Persist): void {
  const r = plan(d, p)
  assert(typeof r !== "string", `a Persist record does not apply: ${r as string}`)
  if (p.base !== undefined) {
    d.log.splice(0, r.drop)
    d.base = p.base
  }
  d.log.length = r.keep
  for (const t of p.append ?? []) d.log.push(t)
  d.currentEpoch = p.currentEpoch ?? d.currentEpoch
  d.acceptedEpoch = p.acceptedEpoch ?? d.acceptedEpoch
  d.commitIndex = Math.min(p.commitIndex ?? d.commitIndex, (d.base?.index ?? 0) + d.log.length)
}

/** A fresh buffer holding `from` (its log copied). */
export const durableBuffer = (from: Durable): DurableBuffer => ({ ...from, base: from.base, log: [...from.log] })

/** `d` as a `Durable` value (sharing its log array). */
export function durableOf(d: DurableBuffer): Durable {
  const { currentEpoch, acceptedEpoch, base, log, commitIndex } = d
  return base === undefined ? { currentEpoch, acceptedEpoch, log, commitIndex } : { currentEpoch, acceptedEpoch, base, log, commitIndex }
}

/** Replays persisted records in order (linear time: the log array is built once). */
export function recoverDurable(records: Iterable<Persist>, from: Durable = emptyState): Durable {
  const d = durableBuffer(from)
  for (const p of records) applyPersistInPlace(d, p)
  return durableOf(d)
}

export const applyPersist = (d: Durable, p: Persist): Durable => recoverDurable([p], d)

const emptyState: Durable = { currentEpoch: 0, acceptedEpoch: 0, log: [], commitIndex: 0 }
