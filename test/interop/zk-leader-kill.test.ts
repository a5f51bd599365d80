/**
 * Kill -9 the leader of a real 3-node Sequent ensemble in the middle of a write load from real
 * ZooKeeper clients (node-zookeeper-client over TCP). Afterwards:
 * - a new leader serves, and the clients (reconnecting on their own) keep writing;
 * - every write any client saw acknowledged is in the tree, exactly once;
 * - the killed node comes back on its data directory and catches up to the same tree.
 */
import { afterAll, beforeAll, expect, test } from "vitest"
import zookeeper from "node-zookeeper-client"
import { call, connect, type Client } from "./zk/connect.ts"
import { startSequentEnsemble, type SequentEnsemble } from "./zk/sequent.ts"

let ens: SequentEnsemble
beforeAll(async () => {
  ens = await startSequentEnsemble({ voters: 3 })
}, 60_000)
afterAll(async () => ens?.stop())

async function childrenOnceAtLeast(c: Client, n: number): Promise<string[]> {
  const deadline = Date.now() + 15_000
  for (;;) {
    const children = await call<string[]>((cb) => c.getChildren("/load", (e, ch) => cb(e, ch)))
    if (children.length >= n || Date.now() > deadline) return children
    await new Promise((r) => setTimeout(r, 100))
  }
}

test("leader killed mid-write-load: no acknowledged write lost, clients continue", async () => {
  const setup = await connect(ens.connectString)
  await call<string>((cb) => setup.create("/load", cb))

  const acked = new Set<string>()
  let ackedAfterKill = 0
  let failures = 0
  let killed = false
  let running = true
  const writers = await Promise.all([0, 1, 2, 3].map(() => connect(ens.connectString)))
  const loops = writers.map(async (c, w) => {
    for (let i = 0; running; i++) {
      const id = `w${w}-${i}`
      try {
        await call<string>((cb) => c.create("/load/n-", Buffer.from(id), zookeeper.CreateMode.PERSISTENT_SEQUENTIAL, cb))
        acked.add(id)
        if (killed) ackedAfterKill++
      } catch {
        failures++ // connection loss: unknown outcome, the client retries with a new value
        await new Promise((r) => setTimeout(r, 50))
      }
    }
  })

  await new Promise((r) => setTimeout(r, 1500))
  const leader = await ens.leaderIndex()
  expect(leader).toBeGreaterThanOrEqual(0)
  const ackedBeforeKill = acked.size
  await ens.kill(leader)
  killed = true
  await new Promise((r) => setTimeout(r, 6000))
  running = false
  await Promise.all(loops)

  const newLeader = await ens.leaderIndex()
  expect(newLeader).toBeGreaterThanOrEqual(0)
  expect(newLeader).not.toBe(leader)
  expect(ackedBeforeKill).toBeGreaterThan(20)
  expect(ackedAfterKill).toBeGreaterThan(20)

  // Read everything back from a fresh client on a surviving node.
  const survivor = ens.servers[(leader + 1) % 3]!
  const reader = await connect(survivor)
  // A follower's reads may trail the commit point by a moment; wait until it holds at least as
  // many children as there were acknowledgements (a lost write would never arrive).
  const children = await childrenOnceAtLeast(reader, acked.size)
  const stored = new Map<string, number>()
  for (const name of children) {
    const [data] = await call<[Buffer, unknown]>((cb) => reader.getData(`/load/${name}`, (e, d, st) => cb(e, [d, st])))
    const id = data.toString()
    stored.set(id, (stored.get(id) ?? 0) + 1)
  }
  const lost = [...acked].filter((id) => !stored.has(id))
  expect(lost, `acknowledged but missing: ${lost.slice(0, 10).join(", ")}`).toEqual([])
  const dup = [...stored].filter(([, n]) => n > 1)
  expect(dup).toEqual([])

  // The killed node restarts on its data directory and converges on the same tree.
  await ens.restart(leader)
  await ens.waitServing()
  const back = await connect(ens.servers[leader]!)
  const again = await childrenOnceAtLeast(back, children.length)
  expect(new Set(again)).toEqual(new Set(children))

  for (const c of [setup, reader, back, ...writers]) c.close()
  console.log(`leader-kill: ${acked.size} acknowledged (${ackedBeforeKill} before the kill, ${ackedAfterKill} after), ${failures} connection losses`)
}, 90_000)
