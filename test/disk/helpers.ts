/** Shared helpers of the disk tests: a deterministic PRNG, a valid Persist stream, comparisons. */
import { recoverDurable } from "../../core/consensus/durable.ts"
import type { Durable, Persist, Txn } from "../../core/consensus/types.ts"
import { makeZxid } from "../../core/consensus/zxid.ts"

export function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export function bytes(r: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256)
  return b
}

/**
 * A stream of `n` Persist records of the shapes the core emits (epoch changes, appends,
 * truncations above the commit point, commit advances, combinations), valid to fold in order.
 */
export function persistStream(seed: number, n: number): Persist[] {
  const r = rng(seed)
  const int = (k: number): number => Math.floor(r() * k)
  const log: number[] = []
  let epoch = 1
  let counter = 0
  let commit = 0
  const txns = (k: number): Txn[] => {
    const out: Txn[] = []
    for (let i = 0; i < k; i++) {
      const t = { zxid: makeZxid(epoch, ++counter), data: bytes(r, int(4) === 0 ? 0 : int(48)) }
      out.push(t)
      log.push(t.zxid)
    }
    return out
  }
  const out: Persist[] = [{ _tag: "Persist", acceptedEpoch: 1, currentEpoch: 1 }]
  while (out.length < n) {
    const x = r()
    if (x < 0.08) {
      epoch++
      counter = 0
      out.push({ _tag: "Persist", acceptedEpoch: epoch })
    } else if (x < 0.16) {
      out.push({ _tag: "Persist", currentEpoch: epoch })
    } else if (x < 0.26 && log.length > commit) {
      const to = commit + int(log.length - commit)
      log.length = to
      out.push({ _tag: "Persist", truncateTo: to, append: txns(int(3)) })
    } else if (x < 0.4) {
      commit = Math.min(log.length, commit + 1 + int(3))
      out.push({ _tag: "Persist", commitIndex: commit })
    } else {
      const append = txns(1 + int(3))
      if (r() < 0.3) {
        commit = Math.min(log.length, commit + int(3))
        out.push({ _tag: "Persist", append, commitIndex: commit })
      } else out.push({ _tag: "Persist", append })
    }
  }
  return out
}

/** folds[j] = recoverDurable(records[0..j)). */
export function prefixFolds(records: readonly Persist[]): Durable[] {
  const out: Durable[] = [recoverDurable([])]
  for (const p of records) out.push(recoverDurable([p], out[out.length - 1]!))
  return out
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0
}

export function sameDurable(a: Durable, b: Durable): boolean {
  if (a.currentEpoch !== b.currentEpoch || a.acceptedEpoch !== b.acceptedEpoch || a.commitIndex !== b.commitIndex) return false
  if (a.log.length !== b.log.length) return false
  for (let i = 0; i < a.log.length; i++) {
    const x = a.log[i]!
    const y = b.log[i]!
    if (x.zxid !== y.zxid || !sameBytes(x.data, y.data)) return false
  }
  return true
}

export function describeDurable(d: Durable): string {
  return `epochs ${d.currentEpoch}/${d.acceptedEpoch}, ${d.log.length} txns (last ${d.log[d.log.length - 1]?.zxid ?? "-"}), commit ${d.commitIndex}`
}
