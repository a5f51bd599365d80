/**
 * The protocol invariants, with the same names and meanings as in spec/Zab.tla. They read the
 * spec-level view of a whole cluster (spec-view.ts) plus two ghost variables the checker keeps:
 * every transaction ever proposed, and the history each epoch was established with.
 * Each returns undefined when it holds, or a description of the violation.
 */
import type { NodeId } from "./types.ts"
import type { SpecNode, SpecTxn } from "./spec-view.ts"

export interface ClusterView {
  readonly nodes: ReadonlyMap<NodeId, SpecNode>
  /** Ghost: zxid key -> value of every transaction a leader created. */
  readonly proposed: ReadonlyMap<string, string>
  /** Ghost: epoch -> the history it was established with. */
  readonly initHist: ReadonlyMap<number, readonly SpecTxn[]>
  /** Ghost: the history of every INFORM ever sent (what an observer could deliver). */
  readonly informs?: readonly (readonly SpecTxn[])[]
}

export type Invariant = (v: ClusterView) => string | undefined

export const zxidKey = (t: SpecTxn): string => `${t.zxid[0]}.${t.zxid[1]}`
const sameTxn = (a: SpecTxn, b: SpecTxn) => a.zxid[0] === b.zxid[0] && a.zxid[1] === b.zxid[1] && a.value === b.value
const zxidLess = (a: SpecTxn, b: SpecTxn) => a.zxid[0] < b.zxid[0] || (a.zxid[0] === b.zxid[0] && a.zxid[1] < b.zxid[1])
const committed = (n: SpecNode): readonly SpecTxn[] => n.history.slice(0, n.lastCommitted)
const show = (t: SpecTxn) => `<<${zxidKey(t)}:${t.value}>>`

function isPrefix(a: readonly SpecTxn[], b: readonly SpecTxn[]): boolean {
  if (a.length > b.length) return false
  for (let i = 0; i < a.length; i++) if (!sameTxn(a[i]!, b[i]!)) return false
  return true
}

/** Every delivered transaction was proposed by a leader. */
export const Integrity: Invariant = (v) => {
  for (const [id, n] of v.nodes) {
    for (const t of committed(n)) {
      if (v.proposed.get(zxidKey(t)) !== t.value) return `node ${id} delivered ${show(t)}, which no leader proposed`
    }
  }
  return undefined
}

/** Any two delivered sequences are prefixes of one another. */
export const Agreement: Invariant = (v) => {
  const all = [...v.nodes]
  for (const [a, na] of all) {
    for (const [b, nb] of all) {
      if (a >= b) continue
      const ca = committed(na)
      const cb = committed(nb)
      if (!isPrefix(ca, cb) && !isPrefix(cb, ca)) {
        let i = 0
        while (i < Math.min(ca.length, cb.length) && sameTxn(ca[i]!, cb[i]!)) i++
        return `nodes ${a} and ${b} disagree at position ${i + 1}: ${ca[i] ? show(ca[i]!) : "-"} vs ${cb[i] ? show(cb[i]!) : "-"}`
      }
    }
  }
  return undefined
}

/** If a node delivered x before y, every node that delivered y delivered x before y. */
export const TotalOrder: Invariant = (v) => {
  for (const [a, na] of v.nodes) {
    for (const [b, nb] of v.nodes) {
      if (a === b) continue
      const posB = new Map(committed(nb).map((t, i) => [zxidKey(t) + t.value, i]))
      // The entries of a that b delivered must be a prefix of a, in the same order in b.
      let missingSeen: SpecTxn | undefined
      let lastPos = -1
      for (const t of committed(na)) {
        const p = posB.get(zxidKey(t) + t.value)
        if (p === undefined) {
          missingSeen ??= t
          continue
        }
        if (missingSeen !== undefined) return `node ${b} delivered ${show(t)} but not ${show(missingSeen)}, which node ${a} delivered before it`
        if (p <= lastPos) return `nodes ${a} and ${b} delivered ${show(t)} in different orders`
        lastPos = p
      }
    }
  }
  return undefined
}

/** A node that delivered <<e, c>> delivered every proposed <<e, c'>>, c' < c, before it. */
export const LocalPrimaryOrder: Invariant = (v) => {
  for (const [id, n] of v.nodes) {
    const c = committed(n)
    const pos = new Map(c.map((t, i) => [zxidKey(t), i]))
    for (let i = 0; i < c.length; i++) {
      const t = c[i]!
      for (let k = 1; k < t.zxid[1]; k++) {
        const key = `${t.zxid[0]}.${k}`
        if (!v.proposed.has(key)) continue
        const p = pos.get(key)
        if (p === undefined || p >= i) return `node ${id} delivered ${show(t)} without first delivering proposal ${key}`
      }
    }
  }
  return undefined
}

/** Delivered zxids strictly increase, so epochs are delivered in order. */
export const GlobalPrimaryOrder: Invariant = (v) => {
  for (const [id, n] of v.nodes) {
    const c = committed(n)
    for (let i = 1; i < c.length; i++) {
      if (!zxidLess(c[i - 1]!, c[i]!)) return `node ${id} delivered ${show(c[i]!)} after ${show(c[i - 1]!)}`
    }
  }
  return undefined
}

/** An established epoch's initial history holds every delivered transaction of earlier epochs. */
export const PrimaryIntegrity: Invariant = (v) => {
  for (const [e, init] of v.initHist) {
    const keys = new Set(init.map((t) => zxidKey(t) + t.value))
    for (const [id, n] of v.nodes) {
      for (const t of committed(n)) {
        if (t.zxid[0] < e && !keys.has(zxidKey(t) + t.value)) {
          return `epoch ${e} was established without ${show(t)}, which node ${id} delivered`
        }
      }
    }
  }
  return undefined
}

/** Two distinct nodes are never both established leaders of the same epoch. */
export const OneLeaderPerEpoch: Invariant = (v) => {
  const byEpoch = new Map<number, NodeId>()
  for (const [id, n] of v.nodes) {
    if (n.role !== "leading" || n.phase !== "broadcast") continue
    const other = byEpoch.get(n.currentEpoch)
    if (other !== undefined) return `nodes ${other} and ${id} both lead epoch ${n.currentEpoch}`
    byEpoch.set(n.currentEpoch, id)
  }
  return undefined
}

export const CommittedWithinHistory: Invariant = (v) => {
  for (const [id, n] of v.nodes) {
    if (n.lastCommitted > n.history.length) return `node ${id} committed ${n.lastCommitted} of ${n.history.length} entries`
  }
  return undefined
}

export const HistoryZxidsIncrease: Invariant = (v) => {
  for (const [id, n] of v.nodes) {
    for (let i = 1; i < n.history.length; i++) {
      if (!zxidLess(n.history[i - 1]!, n.history[i]!)) return `node ${id} history out of order at ${i + 1}`
    }
  }
  return undefined
}

/**
 * Whatever an observer could deliver (the history of any INFORM ever sent, even one no observer
 * received yet) passes the delivery invariants together with what the nodes delivered.
 */
export const InformsDeliverable: Invariant = (v) => {
  if (v.informs === undefined || v.informs.length === 0) return undefined
  const nodes = new Map(v.nodes)
  v.informs.forEach((hist, i) => {
    const pseudo: SpecNode = { role: "observing", phase: "broadcast", leader: 0, currentEpoch: 0, acceptedEpoch: 0, history: hist, lastCommitted: hist.length, ackeRecv: [], ackIndex: {} }
    nodes.set(-(i + 1), pseudo)
  })
  const w: ClusterView = { ...v, nodes }
  for (const inv of [Integrity, Agreement, TotalOrder, LocalPrimaryOrder, GlobalPrimaryOrder]) {
    const bad = inv(w)
    if (bad !== undefined) return `an INFORM is not deliverable: ${bad} (negative node ids are INFORMs)`
  }
  return undefined
}

export const invariants = {
  Integrity,
  Agreement,
  TotalOrder,
  LocalPrimaryOrder,
  GlobalPrimaryOrder,
  PrimaryIntegrity,
  OneLeaderPerEpoch,
  CommittedWithinHistory,
  HistoryZxidsIncrease,
  InformsDeliverable,
} as const satisfies Record<string, Invariant>
export type InvariantName = keyof typeof invariants

/** The first violated invariant, if any. */
export function checkInvariants(v: ClusterView): { name: InvariantName; message: string } | undefined {
  for (const [name, inv] of Object.entries(invariants) as [InvariantName, Invariant][]) {
    const message = inv(v)
    if (message !== undefined) return { name, message }
  }
  return undefined
}
