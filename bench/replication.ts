/**
 * `npm run bench:replication [-- --quick]`: the pure replication core's throughput in memory:
 * acks=all records per second through a 3-replica partition (controller, leader, two followers in
 * one synchronous loop; messages delivered FIFO at once; every Persist confirmed at once, as a
 * disk with no fsync cost would). Records come in batches of `batch` produces between delivery
 * rounds; a fetch response carries up to 100 records. Figures, not assertions.
 */
import os from "node:os"
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import {
  CONTROLLER,
  controllerStep,
  defaultReplicaTimings,
  emptyDurable,
  start,
  startController,
  step,
  type ControllerState,
  type Input,
  type Message,
  type Output,
  type ReplicaState,
} from "../core/replication/index.ts"

const { values: flags } = parseArgs({ options: { quick: { type: "boolean", default: false } } })
const RECORDS = flags.quick ? 20_000 : 200_000
const ids = [1, 2, 3]

function run(batch: number, recordBytes: number): { seconds: number; acked: number; messages: number; steps: number } {
  const replicas = new Map<number, ReplicaState>()
  const queue: { from: number; to: number; message: Message }[] = []
  let acked = 0
  let messages = 0
  let steps = 0
  let ctrl: ControllerState
  const apply = (id: number, outputs: readonly Output[]): void => {
    let persisted = false
    for (const o of outputs) {
      if (o._tag === "Send") queue.push({ from: id, to: o.to, message: o.message })
      else if (o._tag === "Persist" && (o.append !== undefined || o.truncateTo !== undefined)) persisted = true
      else if (o._tag === "ProduceResult" && o.error === undefined) acked++
    }
    if (persisted) feed(id, { _tag: "Persisted", upTo: replicas.get(id)!.log.length })
  }
  const feed = (id: number, input: Input): void => {
    steps++
    const r = step(replicas.get(id)!, input)
    replicas.set(id, r.state)
    apply(id, r.outputs)
  }
  for (const id of ids) replicas.set(id, start({ id, replicas: ids, minIsr: 2, ...defaultReplicaTimings }, emptyDurable).state)
  const c = startController({ replicas: ids, unclean: false })
  ctrl = c.state
  for (const o of c.outputs) queue.push({ from: CONTROLLER, to: o.to, message: o.message })
  const drain = (): void => {
    for (let i = 0; i < queue.length; i++) {
      const { from, to, message } = queue[i]!
      messages++
      if (to === CONTROLLER) {
        const r = controllerStep(ctrl, { _tag: "Receive", from, message })
        ctrl = r.state
        for (const o of r.outputs) queue.push({ from: CONTROLLER, to: o.to, message: o.message })
      } else feed(to, { _tag: "Receive", from, message })
    }
    queue.length = 0
  }
  drain()
  // Followers pause after an empty fetch: let the clock move so they fetch again.
  let now = 0
  const tick = (): void => {
    now += defaultReplicaTimings.fetchBackoffMs
    for (const id of ids) feed(id, { _tag: "Tick", now })
  }
  const data = new Uint8Array(recordBytes)
  const t0 = performance.now()
  let requestId = 0
  while (acked < RECORDS) {
    for (let i = 0; i < batch; i++) feed(ctrl.partition.leader, { _tag: "Produce", requestId: requestId++, data, acks: -1 })
    tick()
    drain()
  }
  return { seconds: (performance.now() - t0) / 1000, acked, messages, steps }
}

console.log(`machine: ${os.cpus()[0]?.model ?? "unknown cpu"} (${os.cpus().length} cpus), node ${process.version}${flags.quick ? " (--quick)" : ""}`)
console.log(`pure replication core, 3 replicas, min.insync.replicas 2, acks=all, ${RECORDS.toLocaleString("en-US")} records\n`)
console.log("batch  record bytes  records/s  steps/record  messages/record")
for (const [batch, bytes] of [
  [1, 100],
  [10, 100],
  [100, 100],
  [100, 1000],
] as const) {
  const r = run(batch, bytes)
  console.log(`${String(batch).padStart(5)}  ${String(bytes).padStart(12)}  ${Math.round(r.acked / r.seconds).toLocaleString("en-US").padStart(9)}  ${(r.steps / r.acked).toFixed(2).padStart(12)}  ${(r.messages / r.acked).toFixed(2).padStart(15)}`)
}
