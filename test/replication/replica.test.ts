/**
 * core/replication, one rule at a time, in small hand-driven clusters: each test is a short story
 * of messages delivered by hand (no simulator), so the expected outcome can be read off the
 * protocol (PROTOCOL.md).
 */
import { describe, expect, it } from "vitest"
import { CONTROLLER, NONE, defaultReplicaTimings, start } from "../../core/replication/index.ts"
import { Cluster, config, ids, kip279Story, values } from "./harness.ts"

describe("replica: the happy path", () => {
  it("the controller's first leader takes writes; followers fetch them; acks=all completes once the HW passes", () => {
    const c = new Cluster()
    c.deliver()
    expect(c.r.get(1)!.role).toBe("Leader")
    expect(c.r.get(2)!.role).toBe("Follower")
    c.produce(1, "a")
    c.produce(1, "b")
    expect(c.results).toEqual([]) // nothing acknowledged before the followers have it
    c.settle()
    for (const id of ids) expect(values(c.r.get(id)!)).toEqual(["0:a", "0:b"])
    expect(c.r.get(1)!.hw).toBe(2)
    expect(c.results.map((o) => o._tag === "ProduceResult" && o.offset)).toEqual([0, 1])
    // Followers learn the HW on their next fetch.
    expect(c.r.get(2)!.hw).toBe(2)
  })

  it("acks=0 gets no answer, acks=1 is answered once the leader's append is durable", () => {
    const c = new Cluster()
    c.deliver()
    c.produce(1, "a", 0)
    c.produce(1, "b", 1)
    expect(c.results.map((o) => o._tag === "ProduceResult" && o.offset)).toEqual([1])
  })

  it("a follower answers produce with NOT_LEADER_OR_FOLLOWER", () => {
    const c = new Cluster()
    c.deliver()
    c.produce(2, "a")
    expect(c.results).toMatchObject([{ error: "NOT_LEADER_OR_FOLLOWER" }])
  })
})

describe("replica: the ISR and min.insync.replicas", () => {
  it("a follower that stops fetching leaves the ISR; acks=all is then refused below min.insync.replicas", () => {
    const c = new Cluster()
    c.deliver()
    c.down.add(2)
    c.down.add(3)
    c.tick(defaultReplicaTimings.lagTimeMaxMs + 1)
    c.deliver()
    expect(c.ctrl.partition.isr).toEqual([1])
    expect(c.r.get(1)!.isr).toEqual([1])
    c.produce(1, "a")
    expect(c.results).toMatchObject([{ error: "NOT_ENOUGH_REPLICAS" }])
    expect(c.r.get(1)!.log.length).toBe(0)
    c.produce(1, "b", 1) // acks=1 still works
    expect(c.results[1]).toMatchObject({ offset: 0 })
  })

  it("a write appended before the ISR shrank below min.insync.replicas gets NOT_ENOUGH_REPLICAS_AFTER_APPEND", () => {
    const c = new Cluster()
    c.deliver()
    c.down.add(3)
    c.produce(1, "a") // ISR {1,2,3}: accepted, waits for 2 and 3
    c.down.add(2)
    c.tick(defaultReplicaTimings.lagTimeMaxMs + 1)
    c.deliver() // ISR shrinks to {1}: the HW can pass "a" with the leader alone
    expect(c.results).toMatchObject([{ error: "NOT_ENOUGH_REPLICAS_AFTER_APPEND" }])
  })

  it("a lagging follower rejoins once it has caught up to the HW, by compare-and-set at the controller", () => {
    const c = new Cluster()
    c.deliver()
    c.down.add(3)
    c.elapse(defaultReplicaTimings.lagTimeMaxMs + 200)
    expect(c.ctrl.partition.isr).toEqual([1, 2])
    c.produce(1, "a")
    c.settle()
    c.down.delete(3)
    c.settle()
    expect(values(c.r.get(3)!)).toEqual(["0:a"])
    expect(c.ctrl.partition.isr).toEqual([1, 2, 3])
    expect(c.r.get(1)!.isr).toEqual([1, 2, 3])
  })

  it("the controller refuses an AlterPartition from a stale epoch and answers with the current state", () => {
    const c = new Cluster()
    c.deliver()
    const before = c.ctrl.partition
    c.control({ _tag: "Receive", from: 1, message: { _tag: "AlterPartition", leaderEpoch: 0, isr: [1], partitionEpoch: before.partitionEpoch - 1 } })
    expect(c.ctrl.partition).toEqual(before)
    expect(c.queue.at(-1)).toMatchObject({ to: 1, message: { _tag: "LeaderAndIsr", state: before } })
  })
})

describe("replica: leader changes and truncation", () => {
  it("fences a fetch from an older leader epoch, and a leader of an older epoch learns nothing from it", () => {
    const c = new Cluster()
    c.deliver()
    const out = c.feed(1, { _tag: "Receive", from: 2, message: { _tag: "Fetch", fetchOffset: 0, lastFetchedEpoch: -1, leaderEpoch: -1 } })
    expect(out).toMatchObject([{ _tag: "Send", to: 2, message: { _tag: "FetchResponse", error: "FENCED_LEADER_EPOCH" } }])
    const ahead = c.feed(1, { _tag: "Receive", from: 2, message: { _tag: "Fetch", fetchOffset: 0, lastFetchedEpoch: -1, leaderEpoch: 5 } })
    expect(ahead).toMatchObject([{ message: { error: "UNKNOWN_LEADER_EPOCH" } }])
  })

  it("KIP-279's example: a follower with a divergent record of another epoch truncates it away, bounded by its own epoch end", () => {
    const c = kip279Story()
    // Leader 1 answers epoch 2 with "epoch 1 ends at 2": without KIP-279's bound, 2 would keep c.
    for (const id of ids) expect(values(c.r.get(id)!)).toEqual(["1:a", "1:b", "3:d"])
    expect(c.r.get(1)!.hw).toBe(3)
  })

  it("the controller elects the first live ISR member when the leader's broker goes, with a new epoch", () => {
    const c = new Cluster()
    c.deliver()
    c.produce(1, "a")
    c.settle()
    c.down.add(1)
    c.control({ _tag: "BrokerDown", id: 1 })
    expect(c.ctrl.partition).toMatchObject({ leader: 2, leaderEpoch: 1, isr: [2, 3] })
    c.settle()
    expect(c.r.get(2)!.role).toBe("Leader")
    c.produce(2, "b")
    c.settle()
    expect(values(c.r.get(3)!)).toEqual(["0:a", "1:b"])
  })

  it("with no live ISR member the partition goes offline (clean election) until its last ISR member returns", () => {
    const c = new Cluster()
    c.deliver()
    c.down.add(2)
    c.down.add(3)
    c.tick(defaultReplicaTimings.lagTimeMaxMs + 1)
    c.deliver() // ISR {1}
    c.control({ _tag: "BrokerDown", id: 1 })
    expect(c.ctrl.partition).toMatchObject({ leader: NONE, isr: [1] })
    c.control({ _tag: "BrokerUp", id: 2 })
    expect(c.ctrl.partition.leader).toBe(NONE)
    c.control({ _tag: "BrokerUp", id: 1 })
    expect(c.ctrl.partition).toMatchObject({ leader: 1, isr: [1] })
  })

  it("a restarted replica never leads again in an epoch it knew: the controller gives it a new one", () => {
    const c = new Cluster()
    c.deliver()
    // Replica 1 restarts before its session expires; a stale announcement naming it leader of
    // epoch 0 arrives: it does not take it.
    c.r.set(1, start(config(1), { log: [], leaderEpoch: 0, hw: 0 }).state)
    c.feed(1, { _tag: "Receive", from: CONTROLLER, message: { _tag: "LeaderAndIsr", state: { leader: 1, leaderEpoch: 0, isr: ids, partitionEpoch: 0 } } })
    expect(c.r.get(1)!.role).toBe("Offline")
    c.control({ _tag: "BrokerDown", id: 1 })
    c.control({ _tag: "BrokerUp", id: 1 })
    c.deliver()
    expect(c.r.get(c.ctrl.partition.leader)!.role).toBe("Leader")
    expect(c.ctrl.partition.leaderEpoch).toBeGreaterThan(0)
  })
})
