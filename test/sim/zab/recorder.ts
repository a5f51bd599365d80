/**
 * Watches a cluster of consensus nodes at the level of spec/Zab.tla: keeps each node's spec
 * view, the ghost variables (proposed transactions, initial history per established epoch),
 * checks the TypeScript invariants after every step, and optionally records the steps for trace
 * validation. Shared by the simulator and the scenario runner.
 */
import { checkInvariants, type ClusterView, type InvariantName, type SpecMessage, type SpecNode, type SpecTxn } from "../../../core/consensus/index.ts"
import { zxidKey } from "../../../core/consensus/invariants.ts"

/** One recorded step, at the level of spec/Zab.tla. */
export interface TraceStep {
  readonly action: string
  readonly node: number
  readonly time: number
  readonly views: ReadonlyMap<number, SpecNode>
  readonly sent: readonly SpecMessage[]
}

const sameTxn = (a: SpecTxn, b: SpecTxn) => a.value === b.value && a.zxid[0] === b.zxid[0] && a.zxid[1] === b.zxid[1]
const isPrefix = (a: readonly SpecTxn[], b: readonly SpecTxn[]) => a.length <= b.length && a.every((t, i) => sameTxn(t, b[i]!))

export class SpecRecorder {
  readonly views = new Map<number, SpecNode>()
  readonly proposed = new Map<string, string>()
  readonly initHist = new Map<number, readonly SpecTxn[]>()
  readonly trace: TraceStep[] = []
  /**
   * INFORM histories sent so far, keeping only maximal ones: an INFORM that is a prefix of a kept
   * one can violate nothing the kept one does not, so normally one history is kept.
   */
  private informs: (readonly SpecTxn[])[] = []
  initial: ReadonlyMap<number, SpecNode> = new Map()
  maxEpoch = 0
  steps = 0

  constructor(private readonly recordTrace: boolean) {}

  /** The views before the first step (the trace's initial state). */
  start(views: ReadonlyMap<number, SpecNode>): void {
    for (const [id, v] of views) this.views.set(id, v)
    this.initial = new Map(views)
  }

  clusterView(): ClusterView {
    return { nodes: this.views, proposed: this.proposed, initHist: this.initHist, informs: this.informs }
  }

  /** Node `id` took a step; returns the first violated invariant, if any. */
  step(id: number, v: SpecNode, action: string, sent: readonly SpecMessage[], time: number): { name: InvariantName; message: string } | undefined {
    this.steps++
    const before = this.views.get(id)!
    this.views.set(id, v)
    this.maxEpoch = Math.max(this.maxEpoch, v.acceptedEpoch)
    if (v.role === "leading" && v.phase === "broadcast") {
      if (before.phase === "sync") this.initHist.set(v.currentEpoch, v.history)
      for (const t of v.history) if (t.zxid[0] === v.currentEpoch && !this.proposed.has(zxidKey(t))) this.proposed.set(zxidKey(t), t.value)
    }
    let newInform = false
    for (const m of sent) {
      if (m.type !== "INFORM") continue
      if (this.informs.some((k) => isPrefix(m.hist, k))) continue
      this.informs = [...this.informs.filter((k) => !isPrefix(k, m.hist)), m.hist]
      newInform = true
    }
    if (this.recordTrace) this.trace.push({ action, node: id, time, views: new Map(this.views), sent })
    // The invariants read histories, commit points, roles and epochs only: skip the check when
    // none of those moved (most steps are ticks, votes and pings).
    const unchanged =
      v.history === before.history &&
      v.lastCommitted === before.lastCommitted &&
      v.role === before.role &&
      v.phase === before.phase &&
      v.currentEpoch === before.currentEpoch
    return unchanged && !newInform ? undefined : checkInvariants(this.clusterView())
  }
}
