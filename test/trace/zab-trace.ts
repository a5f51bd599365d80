/**
 * Trace validation for the consensus core (the Microsoft CCF technique): a simulator run is
 * written as a TLA+ module `ZabTraceData` (one record of spec variables per step), and TLC checks
 * with spec/ZabTrace.tla that the recorded behaviour is a behaviour of spec/Zab.tla.
 */
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import type { SpecMessage, SpecNode } from "../../core/consensus/index.ts"
import type { TraceStep } from "../sim/zab/recorder.ts"
import { checkTrace, toTla, type TlaValue, type TraceCheck } from "../tlc/tlc.ts"

const specDir = path.resolve(import.meta.dirname, "../../spec")

const byNode = <T extends TlaValue>(views: ReadonlyMap<number, SpecNode>, f: (n: SpecNode) => T): Map<number, TlaValue> =>
  new Map([...views].map(([id, n]) => [id, f(n)]))

const history = (n: SpecNode): TlaValue => n.history.map((t) => ({ zxid: [t.zxid[0], t.zxid[1]], value: t.value }))

function message(m: SpecMessage): TlaValue {
  const hist = (h: readonly { zxid: readonly [number, number]; value: string }[]): TlaValue =>
    h.map((t) => ({ zxid: [t.zxid[0], t.zxid[1]], value: t.value }))
  switch (m.type) {
    case "LEADERINFO":
      return { type: m.type, src: m.src, epoch: m.epoch }
    case "ACKEPOCH":
      return { type: m.type, src: m.src, dst: m.dst, epoch: m.epoch, curEpoch: m.curEpoch, lastZxid: [...m.lastZxid] }
    case "NEWLEADER":
      return { type: m.type, src: m.src, dst: m.dst, epoch: m.epoch, hist: hist(m.hist) }
    case "ACK":
      return { type: m.type, src: m.src, dst: m.dst, epoch: m.epoch, len: m.len }
    case "PROPOSAL":
    case "INFORM":
      return { type: m.type, src: m.src, epoch: m.epoch, hist: hist(m.hist) }
    case "COMMIT":
      return { type: m.type, src: m.src, epoch: m.epoch, zxid: [...m.zxid] }
  }
}

function line(action: string, views: ReadonlyMap<number, SpecNode>, sent: readonly SpecMessage[]): TlaValue {
  return {
    action,
    role: byNode(views, (n) => n.role),
    phase: byNode(views, (n) => n.phase),
    leader: byNode(views, (n) => n.leader),
    currentEpoch: byNode(views, (n) => n.currentEpoch),
    acceptedEpoch: byNode(views, (n) => n.acceptedEpoch),
    history: byNode(views, history),
    lastCommitted: byNode(views, (n) => n.lastCommitted),
    ackeRecv: byNode(views, (n) => new Set(n.ackeRecv)),
    ackIndex: byNode(views, (n) => new Map(Object.entries(n.ackIndex).map(([k, v]) => [Number(k), v]))),
    sent: new Set(sent.map(message)),
  }
}

/** A recorded run: from the simulator (ZabSimResult) or a scenario. */
export interface TraceRun {
  readonly label: string
  readonly trace?: readonly TraceStep[]
  readonly initial?: ReadonlyMap<number, SpecNode>
  readonly voters: readonly number[]
  readonly observers: readonly number[]
  readonly values: readonly string[]
  readonly batches: readonly (readonly string[])[]
  readonly maxEpoch: number
  readonly maxBatch: number
}

/** The text of module ZabTraceData for a recorded run. */
export function traceModule(r: TraceRun): string {
  if (r.trace === undefined || r.initial === undefined) throw new Error("the run was not recorded (record: true)")
  const lines = [line("Init", r.initial, []), ...r.trace.map((s) => line(`${s.action}@${s.node}`, s.views, s.sent))]
  const set = (xs: readonly (number | string)[]) => `{${xs.map((x) => toTla(x)).join(", ")}}`
  return [
    "---- MODULE ZabTraceData ----",
    `\\* Generated from ${r.label}: ${lines.length} states.`,
    "EXTENDS Integers, Sequences, TLC",
    `TraceServer == ${set(r.voters)}`,
    `TraceObserver == ${set(r.observers)}`,
    `TraceValue == ${set(r.values.length > 0 ? r.values : ["none"])}`,
    `TraceMaxEpoch == ${Math.max(1, r.maxEpoch)}`,
    `TraceMaxBatch == ${Math.max(1, r.maxBatch)}`,
    "Trace == <<",
    lines.map((l) => `  ${toTla(l)}`).join(",\n"),
    ">>",
    "====",
    "",
  ].join("\n")
}

/** The TLC config for trace checks, kept next to the spec it belongs to. */
export const traceConfigFile = path.join(specDir, "ZabTrace.cfg.template")

/** Writes the run as a trace module next to copies of the specs and asks TLC whether Zab allows it. */
export async function validateTrace(r: TraceRun, opts: { timeoutSec?: number; keep?: boolean } = {}): Promise<TraceCheck & { dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "zab-trace-"))
  await copyFile(path.join(specDir, "Zab.tla"), path.join(dir, "Zab.tla"))
  await copyFile(path.join(specDir, "ZabTrace.tla"), path.join(dir, "ZabTrace.tla"))
  await writeFile(path.join(dir, "ZabTraceData.tla"), traceModule(r))
  await copyFile(traceConfigFile, path.join(dir, "ZabTrace.cfg"))
  const result = await checkTrace({ dir, traceSpec: "ZabTrace.tla", config: "ZabTrace.cfg", timeoutSec: opts.timeoutSec ?? 300, acceptInvariant: "TraceMatched", workers: 1 })
  if (!opts.keep) await rm(dir, { recursive: true, force: true })
  return { ...result, dir }
}
