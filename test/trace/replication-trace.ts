/**
 * Trace validation of the replication core: a recorded run of test/sim/replication is written as
 * the TLA+ module ReplicationTraceData (one record of spec variables per implementation step),
 * and TLC checks with spec/ReplicationTrace.tla that it is a behaviour of spec/Replication.tla.
 *
 * The spec numbers leader and partition epochs from 1 where Kafka (and the code) start at 0, with
 * 0 for "none yet" where the code has -1: every epoch is written plus one, which keeps every
 * comparison. Kafka's UNDEFINED end offset (-1) is the spec's 0 (see EndOffsetFor there).
 */
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { NONE, type ControllerInput, type Input, type Message, type PartitionState, type ReplicaState } from "../../core/replication/index.ts"
import type { ReplicationSimResult, ReplicationTraceStep } from "../sim/replication/cluster.ts"
import { checkTrace, toTla, type TlaValue, type TraceCheck } from "../tlc/tlc.ts"

const specDir = path.resolve(import.meta.dirname, "../../spec")
const dec = new TextDecoder()
const ep = (e: number): number => (e < 0 ? 0 : e + 1)
/** A record's epoch or a last-fetched epoch: -1 stays "none". */
const recEp = (e: number): number => (e < 0 ? -1 : e + 1)
const leaderId = (l: number): number => (l === NONE ? -1 : l)

function partition(p: PartitionState): TlaValue {
  return { leader: leaderId(p.leader), leaderEpoch: ep(p.leaderEpoch), isr: new Set(p.isr), partitionEpoch: ep(p.partitionEpoch) }
}

/** A message as the spec writes it, or undefined for what the spec does not model (errors). */
function message(from: number, to: number, m: Message): TlaValue | undefined {
  switch (m._tag) {
    case "LeaderAndIsr":
      return { type: "LeaderAndIsr", dst: to, leader: leaderId(m.state.leader), leaderEpoch: ep(m.state.leaderEpoch), isr: new Set(m.state.isr), partitionEpoch: ep(m.state.partitionEpoch) }
    case "Fetch":
      return { type: "Fetch", src: from, dst: to, fetchOffset: m.fetchOffset, lastFetchedEpoch: recEp(m.lastFetchedEpoch), epoch: ep(m.leaderEpoch) }
    case "FetchResponse": {
      if (m.error !== undefined) return undefined
      const d = m.diverging
      return {
        type: "FetchResponse",
        src: from,
        dst: to,
        epoch: ep(m.leaderEpoch),
        fetchOffset: m.fetchOffset,
        lastFetchedEpoch: recEp(m.lastFetchedEpoch),
        diverging: d !== undefined,
        divEpoch: d === undefined ? -1 : recEp(d.epoch),
        divEnd: d === undefined ? -1 : d.epoch < 0 ? 0 : d.endOffset,
        records: m.records.map((e) => ({ epoch: recEp(e.epoch), value: dec.decode(e.data) })),
        hw: m.hw,
      }
    }
    case "AlterPartition":
      return { type: "AlterPartition", src: from, leaderEpoch: ep(m.leaderEpoch), isr: new Set(m.isr), partitionEpoch: ep(m.partitionEpoch) }
  }
}

const byReplica = (rs: ReadonlyMap<number, ReplicaState>, f: (r: ReplicaState) => TlaValue): Map<number, TlaValue> => new Map([...rs].map(([id, r]) => [id, f(r)]))

function line(s: ReplicationTraceStep, ids: readonly number[]): TlaValue {
  const rs = s.replicas
  const out: Record<string, TlaValue> = {
    actor: s.actor,
    kind: s.action,
    ctrl: partition(s.controller.partition),
    live: new Set(s.controller.live),
    log: byReplica(rs, (r) => r.log.toArray().map((e) => ({ epoch: recEp(e.epoch), value: dec.decode(e.data) }))),
    durable: byReplica(rs, (r) => r.durable),
    hw: byReplica(rs, (r) => r.hw),
    role: byReplica(rs, (r) => r.role),
    repEpoch: byReplica(rs, (r) => ep(r.leaderEpoch)),
    repLeader: byReplica(rs, (r) => leaderId(r.leader)),
    repIsr: byReplica(rs, (r) => new Set(r.isr)),
    repPartitionEpoch: byReplica(rs, (r) => ep(r.partitionEpoch)),
    pendingIsr: byReplica(rs, (r) => new Set(r.pendingIsr ?? [])),
    leaderStart: byReplica(rs, (r) => r.leaderStart),
    followerEnd: byReplica(rs, (r) => new Map(ids.map((f) => [f, r.followerEnd.get(f) ?? 0]))),
    fetching: byReplica(rs, (r) => r.fetchInFlight),
    acked: new Set([...s.acked].map(([offset, value]) => ({ offset, value }))),
    sent: new Set(s.sent.flatMap((x) => message(x.from, x.to, x.message) ?? [])),
  }
  // Every record has msg and arg (placeholders when the step has none): TLC evaluates the
  // actions that read them, which test the message type first.
  const input = s.input as Input | ControllerInput | undefined
  out.msg = (input?._tag === "Receive" ? message(input.from, s.actor, input.message) : undefined) ?? { type: "none" }
  out.arg = input?._tag === "Produce" ? dec.decode(input.data) : input?._tag === "BrokerDown" || input?._tag === "BrokerUp" ? input.id : 0
  return out
}

/** The text of module ReplicationTraceData for a recorded run. */
export function replicationTraceModule(r: ReplicationSimResult, ids: readonly number[], minIsr: number): string {
  if (r.trace === undefined || r.initial === undefined) throw new Error("the run was not recorded (record: true)")
  const lines = [line(r.initial, ids), ...r.trace.map((s) => line(s, ids))]
  const values = new Set<string>()
  for (const s of r.trace)
    for (const rep of s.replicas.values()) for (const e of rep.log.toArray()) values.add(dec.decode(e.data))
  return [
    "---- MODULE ReplicationTraceData ----",
    `\\* Generated from replication simulator seed ${r.seed}: ${lines.length} states.`,
    "EXTENDS Integers, Sequences, TLC",
    `TraceReplica == ${toTla(new Set(ids))}`,
    `TraceValue == ${toTla(new Set(values.size > 0 ? values : ["none"]))}`,
    "TraceNone == -1",
    `TraceMinIsr == ${minIsr}`,
    "Trace == <<",
    lines.map((x) => `  ${toTla(x)}`).join(",\n"),
    ">>",
    "====",
    "",
  ].join("\n")
}

const CONFIG = `CONSTANTS
    Replica <- TraceReplica
    Value <- TraceValue
    None <- TraceNone
    MinIsr <- TraceMinIsr
    MaxEpoch = 1000
    Unclean = FALSE
INIT TraceInit
NEXT TraceNext
VIEW TraceView
INVARIANT TraceMatched
CHECK_DEADLOCK FALSE
`

/** Writes the run as a trace module next to copies of the specs and asks TLC whether Replication allows it. */
export async function validateReplicationTrace(r: ReplicationSimResult, opts: { ids?: readonly number[]; minIsr?: number; timeoutSec?: number; keep?: boolean } = {}): Promise<TraceCheck & { dir: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), "replication-trace-"))
  await copyFile(path.join(specDir, "Replication.tla"), path.join(dir, "Replication.tla"))
  await copyFile(path.join(specDir, "ReplicationTrace.tla"), path.join(dir, "ReplicationTrace.tla"))
  await writeFile(path.join(dir, "ReplicationTraceData.tla"), replicationTraceModule(r, opts.ids ?? [1, 2, 3], opts.minIsr ?? 2))
  await writeFile(path.join(dir, "ReplicationTrace.cfg"), CONFIG)
  const result = await checkTrace({ dir, traceSpec: "ReplicationTrace.tla", config: "ReplicationTrace.cfg", timeoutSec: opts.timeoutSec ?? 300, acceptInvariant: "TraceMatched", workers: 1 })
  if (!opts.keep) await rm(dir, { recursive: true, force: true })
  return { ...result, dir }
}
