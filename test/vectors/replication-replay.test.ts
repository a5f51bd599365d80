/** Replays the committed replication conformance vectors against the core: outputs must match exactly. */
import { readdirSync, readFileSync } from "node:fs"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { controllerStep, start, startController, step, type ControllerState, type ReplicaState } from "../../core/replication/index.ts"
import { decodeReplicationVectors, encodeReplicationVectors, type ReplicationVectorFile } from "./replication-vectors.ts"

const dir = path.resolve(import.meta.dirname, "replication")
const files = readdirSync(dir).filter((f) => f.endsWith(".json"))

/** Replays a vector file; returns the index of the first call whose outputs differ, or -1. */
export function replayReplication(v: ReplicationVectorFile): number {
  const replicas = new Map<number, ReplicaState>()
  let ctrl: ControllerState | undefined
  const json = (e: ReplicationVectorFile["events"][number]): string => JSON.stringify(encodeReplicationVectors({ ...v, events: [e] }).events[0]!.outputs)
  for (let i = 0; i < v.events.length; i++) {
    const e = v.events[i]!
    let actual: ReplicationVectorFile["events"][number]
    if (e.call === "controllerStart" || e.call === "controllerStep") {
      const r = e.call === "controllerStart" ? startController({ replicas: v.replicas, unclean: v.unclean }) : controllerStep(ctrl!, e.input)
      ctrl = r.state
      actual = { ...e, outputs: r.outputs }
    } else {
      const config = { id: e.actor, replicas: v.replicas, ...v.config }
      const r = e.call === "start" ? start(config, e.durable, e.now) : step(replicas.get(e.actor)!, e.input)
      replicas.set(e.actor, r.state)
      actual = { ...e, outputs: r.outputs }
    }
    if (json(actual) !== json(e)) return i
  }
  return -1
}

describe("replication conformance vectors", () => {
  it("exist", () => expect(files.length).toBeGreaterThanOrEqual(2))
  for (const f of files)
    it(`${f} replays exactly`, () => {
      const v = decodeReplicationVectors(JSON.parse(readFileSync(path.join(dir, f), "utf8")))
      expect(v.events.length).toBeGreaterThan(100)
      expect(replayReplication(v), "first differing call").toBe(-1)
    })
  it("a tampered vector is detected", () => {
    const v = decodeReplicationVectors(JSON.parse(readFileSync(path.join(dir, files[0]!), "utf8")))
    const i = v.events.findIndex((e) => e.call === "step" && e.outputs.some((o) => o._tag === "Send"))
    const tampered = { ...v, events: v.events.map((e, k) => (k === i ? { ...e, outputs: e.outputs.slice(1) } : e)) } as ReplicationVectorFile
    expect(replayReplication(tampered)).toBe(i)
  })
})
