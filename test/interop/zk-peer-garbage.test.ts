/**
 * The peer port is not a trust boundary we can rely on: a confused or hostile process may connect
 * to it and claim to be a member. Garbage frames, garbage consensus messages and a forwarded
 * write that does not decode must all be dropped, and every node must go on serving.
 */
import net from "node:net"
import fc from "fast-check"
import { afterAll, beforeAll, expect, test } from "vitest"
import zookeeper from "node-zookeeper-client"
import { encodePeerMessage } from "../../adapters/server/peer-messages.ts"
import { fourLetterWord } from "../support/net.ts"
import { startSequentEnsemble, type SequentEnsemble } from "./zk/sequent.ts"

let ens: SequentEnsemble
beforeAll(async () => {
  ens = await startSequentEnsemble({ voters: 3 })
}, 60_000)
afterAll(async () => ens?.stop())

const frame = (payload: Uint8Array): Buffer => {
  const b = Buffer.alloc(4 + payload.length)
  b.writeUInt32BE(payload.length, 0)
  b.set(payload, 4)
  return b
}

/** Connects to `member`'s peer port claiming to be `claimedId`, sends the frames, hangs up. */
async function impersonate(member: number, claimedId: number, frames: Uint8Array[]): Promise<void> {
  const m = ens.members[member]!
  const hello = Buffer.alloc(8)
  hello.writeUInt32BE(0x53514e54, 0)
  hello.writeUInt32BE(claimedId, 4)
  await new Promise<void>((resolve) => {
    const s = net.connect({ host: m.host, port: m.peerPort }, () => {
      s.write(frame(hello))
      for (const f of frames) s.write(frame(f))
      setTimeout(() => {
        s.destroy()
        resolve()
      }, 100)
    })
    s.on("error", () => resolve())
  })
}

test("garbage on the peer port is dropped and the ensemble keeps serving", async () => {
  const leader = await ens.leaderIndex()
  expect(leader).toBeGreaterThanOrEqual(0)
  const other = ens.members[(leader + 1) % 3]!.id
  // a forwarded write whose transaction does not decode: proposing it would poison every replica
  await impersonate(leader, other, [encodePeerMessage({ _tag: "Forward", txn: new Uint8Array([1, 2, 3, 255, 255]) })])
  // random frames, to every node
  await fc.assert(
    fc.asyncProperty(fc.array(fc.uint8Array({ maxLength: 80 }), { minLength: 1, maxLength: 4 }), fc.nat(2), async (frames, i) => {
      await impersonate(i, ens.members[(i + 1) % 3]!.id, frames)
    }),
    { numRuns: 30, seed: 7 },
  )

  for (const s of ens.servers) {
    const [host, port] = s.split(":")
    expect(await fourLetterWord(host!, Number(port), "srvr")).toMatch(/Mode: (leader|follower)/)
  }
  const c = zookeeper.createClient(ens.connectString, { sessionTimeout: 10_000 })
  await new Promise<void>((resolve) => {
    c.once("connected", () => resolve())
    c.connect()
  })
  const path = await new Promise<string>((resolve, reject) => c.create("/after-garbage", Buffer.from("ok"), (e, p) => (e ? reject(e) : resolve(p))))
  expect(path).toBe("/after-garbage")
  c.close()
}, 60_000)
