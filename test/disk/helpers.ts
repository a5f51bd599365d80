/** Shared helpers of the disk tests: a deterministic PRNG, a valid Persist stream, comparisons. */
import { recoverDurable } from "../../core/consensus/durable.ts"
import type { Durable, Persist, Snapshot, Txn } from "../../core/consensus/types.ts"
import { makeZxid } from "../../core/consensus/zxid.ts"
import { mulberry32 } from "../../adapters/disk/fs.ts"

/** The deterministic PRNG of FaultyFs's crash model. */
export const rng = mulberry32

export function bytes(r: () => number, n: number): Uint8Array {
  const b = new Uint8Array(n)
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256)
  return b
}

/**
 * The state a base at `zxid` stands for: a pure function of the zxid, as the application's
 * state after a given transaction is, so two bases (or a base and a saved snapshot) with the
 * same zxid have the same data.
 */
export function baseData(zxid: number): Uint8Array {
  return bytes(rng(zxid % 4294967291), 10 + (zxid % 40))
}

/**
 * A stream of `n` Persist records of the shapes the core emits (epoch changes, appends,
 * truncations above the commit point, commit advances, combinations), valid to fold in order.
 * With `bases`, also compactions (a base at a committed entry past the current base) and SNAPs
 * (a base at any committed entry, possibly older than the current one, with a truncation to it
 * and the rest of the history re-sent). Without it the stream is as it always was for a seed.
 */
export function persistStream(seed: number, n: number, options: { bases?: boolean } = {}): Persist[] {
  const r = rng(seed)
  const int = (k: number): number => Math.floor(r() * k)
  const log: number[] = []
  let epoch = 1
  let counter = 0
  let commit = 0
  let baseIndex = 0
  const base = (index: number): Snapshot => ({ index, zxid: log[index - 1]!, data: baseData(log[index - 1]!) })
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
    if (options.bases) {
      const y = r()
      if (y < 0.07 && commit > baseIndex) {
        baseIndex += 1 + int(commit - baseIndex)
        out.push({ _tag: "Persist", base: base(baseIndex) })
        continue
      }
      if (y < 0.1 && commit > 0) {
        baseIndex = 1 + int(commit)
        const resent = log.slice(baseIndex, commit).map((zxid) => ({ zxid, data: bytes(r, int(20)) }))
        log.length = commit
        out.push({ _tag: "Persist", base: base(baseIndex), truncateTo: baseIndex, append: [...resent, ...txns(int(3))] })
        continue
      }
    }
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
  if ((a.base === undefined) !== (b.base === undefined)) return false
  if (a.base !== undefined && b.base !== undefined)
    if (a.base.index !== b.base.index || a.base.zxid !== b.base.zxid || !sameBytes(a.base.data, b.base.data)) return false
  if (a.log.length !== b.log.length) return false
  for (let i = 0; i < a.log.length; i++) {
    const x = a.log[i]!
    const y = b.log[i]!
    if (x.zxid !== y.zxid || !sameBytes(x.data, y.data)) return false
  }
  return true
}

export function describeDurable(d: Durable): string {
  const base = d.base === undefined ? "" : `base ${d.base.index}@${d.base.zxid} (${d.base.data.length} bytes), `
  return `epochs ${d.currentEpoch}/${d.acceptedEpoch}, ${base}${d.log.length} txns (last ${d.log[d.log.length - 1]?.zxid ?? "-"}), commit ${d.commitIndex}`
}
