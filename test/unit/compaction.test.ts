/**
 * Log compaction at the level of one node's `step`: the cases the simulator and the compaction
 * story reach only by chance. A follower is driven by hand through election, discovery and sync.
 */
import { describe, expect, it } from "vitest"
import { Log, makeConfig, makeZxid, recoverDurable, start, step, type Durable, type Message, type NodeState, type Output, type Snapshot, type Txn } from "../../core/consensus/index.ts"

const enc = new TextEncoder()
const txn = (epoch: number, counter: number): Txn => ({ zxid: makeZxid(epoch, counter), data: enc.encode(`${epoch}.${counter}`) })
const history = [txn(1, 1), txn(1, 2), txn(1, 3), txn(1, 4)]
const base: Snapshot = { index: 2, zxid: history[1]!.zxid, data: enc.encode("state after 1.2") }
const config = makeConfig(1, [1, 2, 3])

/** Node 1 restarted holding `base` + entry 3 (all committed), followed to node 3's NEWLEADER of epoch 3. */
function followerInSync(durable: Durable): { state: NodeState; outputs: Output[] } {
  let r = start(config, durable)
  const outputs: Output[] = [...r.outputs]
  const feed = (from: number, message: Message): void => {
    r = step(r.state, { _tag: "Receive", from, message })
    outputs.push(...r.outputs)
  }
  feed(3, { _tag: "Vote", round: 1, vote: { id: 3, epoch: 1, zxid: history[3]!.zxid }, state: "leading" })
  expect(r.state.role).toBe("following")
  feed(3, { _tag: "LeaderInfo", epoch: 3 })
  expect(r.state.phase).toBe("sync")
  return { state: r.state, outputs }
}

const durable: Durable = { currentEpoch: 1, acceptedEpoch: 1, base, log: [history[2]!], commitIndex: 3 }

describe("log compaction (one node)", () => {
  it("restarts from a compacted log: the application gets the snapshot, then the entries after it", () => {
    const { outputs } = followerInSync(durable)
    const deliver = outputs.find((o) => o._tag === "Deliver")
    expect(deliver).toEqual({ _tag: "Deliver", snapshot: base, txns: [history[2]] })
  })

  it("a SNAP without a snapshot (from a leader that never compacted) keeps the follower's base", () => {
    const { state } = followerInSync(durable)
    const r = step(state, { _tag: "Receive", from: 3, message: { _tag: "NewLeader", epoch: 3, sync: { _tag: "SNAP", txns: history }, leaderLastZxid: history[3]!.zxid } })
    expect(r.state.phase).toBe("broadcast")
    expect(r.state.log.base).toBe(base)
    expect(r.state.log.toArray()).toEqual(history.slice(2))
    const persist = r.outputs.find((o) => o._tag === "Persist")!
    // Only the new entry is written: the base and entry 3 are already durable.
    expect(persist).toMatchObject({ append: [history[3]] })
    expect(persist).not.toHaveProperty("base")
    expect(persist).not.toHaveProperty("truncateTo")
    expect(recoverDurable([persist], durable)).toEqual({ ...durable, currentEpoch: 3, log: history.slice(2) }) // acceptedEpoch was persisted by the LEADERINFO step
  })

  it("refuses a SNAP whose history does not hold the follower's base (and waits for the resend)", () => {
    const { state } = followerInSync(durable)
    const other = [txn(1, 1), txn(2, 1)]
    const r = step(state, { _tag: "Receive", from: 3, message: { _tag: "NewLeader", epoch: 3, sync: { _tag: "SNAP", txns: other }, leaderLastZxid: other[1]!.zxid } })
    expect(r.state.phase).toBe("sync")
    expect(r.state.log).toBe(state.log)
  })

  it("a SNAP with an older snapshot rewrites everything after it, durably", () => {
    const { state } = followerInSync(durable)
    const older: Snapshot = { index: 1, zxid: history[0]!.zxid, data: enc.encode("state after 1.1") }
    const r = step(state, { _tag: "Receive", from: 3, message: { _tag: "NewLeader", epoch: 3, sync: { _tag: "SNAP", snapshot: older, txns: history.slice(1) }, leaderLastZxid: history[3]!.zxid } })
    expect(r.state.log.base).toBe(older)
    const persist = r.outputs.find((o) => o._tag === "Persist")!
    expect(persist).toMatchObject({ base: older, truncateTo: 1, append: history.slice(1) })
    expect(recoverDurable([persist], durable)).toEqual({ currentEpoch: 3, acceptedEpoch: 1, base: older, log: history.slice(1), commitIndex: 3 })
  })

  it("a TRUNC below the follower's base is refused", () => {
    const { state } = followerInSync(durable)
    const r = step(state, { _tag: "Receive", from: 3, message: { _tag: "NewLeader", epoch: 3, sync: { _tag: "TRUNC", truncZxid: history[0]!.zxid, txns: history.slice(1) }, leaderLastZxid: history[3]!.zxid } })
    expect(r.state.phase).toBe("sync")
  })

  it("Compact is ignored for undelivered, unknown or already compacted entries", () => {
    const r = start(config, { currentEpoch: 1, acceptedEpoch: 1, log: history, commitIndex: 2 })
    const compact = (s: NodeState, t: Txn) => step(s, { _tag: "Compact", zxid: t.zxid, data: enc.encode("x") }).state
    expect(compact(r.state, history[2]!).log.base).toBeUndefined() // committed? no: not delivered
    const c = compact(r.state, history[1]!)
    expect(c.log.base).toMatchObject({ index: 2, zxid: history[1]!.zxid })
    expect(compact(c, history[0]!).log).toBe(c.log)
    expect(compact(c, txn(2, 9)).log).toBe(c.log)
  })

  it("Log keeps absolute positions across compaction", () => {
    const log = Log.of(history).compact(base)
    expect(log.length).toBe(4)
    expect(log.baseIndex).toBe(2)
    expect(log.zxidAt(2)).toBe(base.zxid)
    expect(log.positionOf(history[3]!.zxid)).toBe(4)
    expect(log.positionOf(history[0]!.zxid)).toBe(-1) // compacted
    expect(log.compacted(history[0]!.zxid)).toBe(true)
    expect(() => log.at(2)).toThrow()
    expect(() => log.truncate(1)).toThrow()
    expect(log.truncate(2).lastZxid).toBe(base.zxid)
  })
})
