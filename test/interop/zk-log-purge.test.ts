/**
 * Log purge on a real Sequent ensemble (3 voters + 1 observer, a tree snapshot every 100
 * transactions): while a follower and the observer are down, the others write far more than a
 * snapshot interval. Then:
 * - the live nodes' transaction logs hold only the tail after their base snapshot, not the
 *   whole history, and old snapshot files are purged;
 * - the follower and the observer, restarted on their data directories, are behind the leader's
 *   compacted log: they catch up from its snapshot (SNAP / Inform with the snapshot) and serve
 *   the same tree;
 * - the leader, killed and restarted, recovers from its compacted log and serves the same tree.
 */
import { readdirSync, statSync } from "node:fs"
import path from "node:path"
import { afterAll, beforeAll, expect, test } from "vitest"
import { call, connect } from "./zk/connect.ts"
import { startSequentEnsemble, type SequentEnsemble } from "./zk/sequent.ts"

const WRITES = 1500
const DATA = Buffer.alloc(1024, "x")

let ens: SequentEnsemble
beforeAll(async () => {
  ens = await startSequentEnsemble({ voters: 3, observers: 1, snapshotEvery: 100 })
}, 60_000)
afterAll(async () => ens?.stop())

/** Bytes in a node's files matching `prefix` (log segments or snapshots), and how many. */
function files(node: number, prefix: string): { count: number; bytes: number } {
  const dir = path.join(ens.dataDir, `node-${node}`)
  const names = readdirSync(dir).filter((n) => n.startsWith(prefix) && !n.endsWith(".tmp"))
  return { count: names.length, bytes: names.reduce((s, n) => s + statSync(path.join(dir, n)).size, 0) }
}

/** The tree as one server sees it: the children of /purge and the data of the last one. */
async function view(server: string): Promise<{ children: number; last: string }> {
  const c = await connect(server, 20_000)
  try {
    const children = (await call<string[]>((cb) => c.getChildren("/purge", (e, ch) => cb(e, ch)))).sort()
    const last = await call<Buffer>((cb) => c.getData(`/purge/${children[children.length - 1]}`, (e, d) => cb(e, d)))
    return { children: children.length, last: last.toString() }
  } finally {
    c.close()
  }
}

test("compacted logs: bounded on disk, lagging learners catch up from the snapshot, restart recovers", async () => {
  const leader = await ens.leaderIndex()
  expect(leader).toBeGreaterThanOrEqual(0)
  const follower = [0, 1, 2].find((i) => i !== leader)!
  const other = [0, 1, 2].find((i) => i !== leader && i !== follower)!
  const observer = 3
  await ens.kill(follower)
  await ens.kill(observer)

  const writer = await connect(`${ens.servers[leader]},${ens.servers[other]}`, 20_000)
  await call<string>((cb) => writer.create("/purge", cb))
  // Eight writers in parallel; each create is acknowledged only once a quorum (2 of 3) has it.
  let next = 0
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < WRITES) {
        const i = next++
        await call<string>((cb) => writer.create(`/purge/n${String(i).padStart(5, "0")}`, Buffer.concat([Buffer.from(`${i}:`), DATA]), cb))
      }
    }),
  )
  const expected = await view(ens.servers[leader]!)
  expect(expected.children).toBe(WRITES)
  writer.close()

  // Every write is ~1 KB, so an uncompacted log would hold at least WRITES KB.
  const written = WRITES * DATA.length
  for (const i of [leader, other]) {
    const log = files(i + 1, "log.")
    const snaps = files(i + 1, "snapshot.")
    console.log(`node ${i + 1}: log ${log.count} segment(s), ${log.bytes} bytes for ${written} bytes written; ${snaps.count} snapshot file(s)`)
    expect(log.bytes).toBeLessThan(written / 2)
    expect(snaps.count).toBeLessThanOrEqual(4) // ~15 were taken; purge keeps 3 (+ the base)
  }

  // The follower and the observer come back behind the leader's compacted log.
  await ens.restart(follower)
  await ens.restart(observer)
  await ens.waitServing(60_000)
  for (const i of [follower, observer]) {
    expect(await eventuallyView(ens.servers[i]!, expected.children)).toEqual(expected)
    expect(ens.output(i)).toMatch(/installed a snapshot at zxid/)
  }

  // The leader recovers from its own compacted log (base snapshot + tail).
  await ens.restart(leader)
  await ens.waitServing(60_000)
  expect(await eventuallyView(ens.servers[leader]!, expected.children)).toEqual(expected)
}, 240_000)

/** A server that just rejoined may still be applying what it was sent: poll until it has all. */
async function eventuallyView(server: string, children: number): Promise<{ children: number; last: string }> {
  const deadline = Date.now() + 30_000
  for (;;) {
    let v: { children: number; last: string } | undefined
    try {
      v = await view(server)
    } catch {
      v = undefined // not serving yet
    }
    if ((v && v.children >= children) || Date.now() > deadline) return v ?? { children: -1, last: "" }
    await new Promise((r) => setTimeout(r, 200))
  }
}
