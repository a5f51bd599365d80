/**
 * `npm run bench:zk [-- --seconds 10 --clients 16 --servers 3]`: the same ZooKeeper workload,
 * with the same client (node-zookeeper-client), against a local Sequent ensemble and a local
 * Apache ZooKeeper ensemble (3.9, from Maven Central) on this machine, one after the other.
 * Prints writes/s, reads/s and latency percentiles for each, and Sequent's ratio to ZooKeeper.
 *
 * Workload: `clients` sessions spread over the servers; each keeps one request in flight (a
 * closed loop). Writes are setData of 100 bytes on the client's own znode; reads are getData of
 * the same znode. Figures, not assertions: the machine's other load shows up in them.
 */
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import zookeeper from "node-zookeeper-client"
import { startCluster, type ZkCluster, type ZkClusterKind } from "../test/interop/zk/cluster.ts"

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "8" },
    clients: { type: "string", default: "16" },
    servers: { type: "string", default: "3" },
    only: { type: "string" },
  },
})
const SECONDS = Number(values.seconds)
const CLIENTS = Number(values.clients)
const SERVERS = Number(values.servers)
const DATA = Buffer.alloc(100, 7)

type Client = ReturnType<typeof zookeeper.createClient>

const connect = (server: string): Promise<Client> =>
  new Promise((resolve, reject) => {
    const c = zookeeper.createClient(server, { sessionTimeout: 20_000 })
    const t = setTimeout(() => reject(new Error(`cannot connect to ${server}`)), 20_000)
    c.once("connected", () => {
      clearTimeout(t)
      resolve(c)
    })
    c.connect()
  })

const call = (f: (cb: (e: unknown) => void) => void): Promise<void> =>
  new Promise((resolve, reject) => f((e) => (e ? reject(e) : resolve())))

interface Figures {
  readonly opsPerSec: number
  readonly p50: number
  readonly p99: number
  readonly errors: number
}

async function closedLoop(clients: Client[], seconds: number, op: (c: Client, i: number) => Promise<void>): Promise<Figures> {
  const latencies: number[] = []
  let errors = 0
  const end = performance.now() + seconds * 1000
  await Promise.all(
    clients.map(async (c, i) => {
      while (performance.now() < end) {
        const t0 = performance.now()
        try {
          await op(c, i)
          latencies.push(performance.now() - t0)
        } catch {
          errors++
        }
      }
    }),
  )
  latencies.sort((a, b) => a - b)
  const pct = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN
  return { opsPerSec: latencies.length / seconds, p50: pct(0.5), p99: pct(0.99), errors }
}

async function workload(kind: ZkClusterKind): Promise<{ writes: Figures; reads: Figures }> {
  const t0 = performance.now()
  const cluster: ZkCluster = await startCluster(kind, { servers: SERVERS })
  console.log(`  ${kind}: ensemble of ${SERVERS} up in ${((performance.now() - t0) / 1000).toFixed(1)} s`)
  try {
    const clients = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => connect(cluster.servers[i % cluster.servers.length]!)))
    await call((cb) => clients[0]!.create("/bench", cb))
    await Promise.all(clients.map((c, i) => call((cb) => c.create(`/bench/c${i}`, DATA, cb))))
    // a short warm-up (JIT on both sides), then the measured runs
    await closedLoop(clients, 1, (c, i) => call((cb) => c.setData(`/bench/c${i}`, DATA, -1, cb)))
    const writes = await closedLoop(clients, SECONDS, (c, i) => call((cb) => c.setData(`/bench/c${i}`, DATA, -1, cb)))
    const reads = await closedLoop(clients, SECONDS, (c, i) => call((cb) => c.getData(`/bench/c${i}`, cb)))
    for (const c of clients) c.close()
    return { writes, reads }
  } finally {
    await cluster.stop()
  }
}

const fmt = (f: Figures): string =>
  `${f.opsPerSec.toFixed(0).padStart(7)} ops/s  p50 ${f.p50.toFixed(2)} ms  p99 ${f.p99.toFixed(2)} ms${f.errors ? `  (${f.errors} errors)` : ""}`

console.log(`ZooKeeper workload: ${CLIENTS} clients, ${SERVERS} servers on loopback, ${SECONDS} s per phase, 100-byte setData / getData`)
const kinds: ZkClusterKind[] = values.only ? [values.only as ZkClusterKind] : ["sequent", "apache"]
const results = new Map<ZkClusterKind, { writes: Figures; reads: Figures }>()
for (const kind of kinds) results.set(kind, await workload(kind))
for (const [kind, r] of results) {
  console.log(`${kind.padEnd(8)} writes ${fmt(r.writes)}`)
  console.log(`${kind.padEnd(8)} reads  ${fmt(r.reads)}`)
}
const s = results.get("sequent")
const a = results.get("apache")
if (s && a) {
  console.log(`sequent / apache: writes ${(s.writes.opsPerSec / a.writes.opsPerSec).toFixed(2)}x, reads ${(s.reads.opsPerSec / a.reads.opsPerSec).toFixed(2)}x`)
}
process.exit(0)
