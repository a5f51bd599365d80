/**
 * core/metadata: Kafka's replica assignment (checked against the assignment Kafka's own tests
 * expect, then by properties) and the ZooKeeper layout's znode formats.
 */
import { fc, test } from "@fast-check/vitest"
import { Either } from "effect"
import { describe, expect, it } from "vitest"
import { assignReplicas } from "../../core/metadata/assignment.ts"
import { decodeZnode, encodeZnode, PartitionStateZnode, paths, TopicAssignment, topicIdFromString, topicIdToString, topicNameError } from "../../core/metadata/layout.ts"

const assigned = (input: Parameters<typeof assignReplicas>[0]) => {
  const r = assignReplicas(input)
  if (!r.ok) throw new Error(r.error.message)
  return r.assignment
}

describe("replica assignment", () => {
  it("matches Kafka's for 10 partitions, RF 3 on brokers 0-4 from index 0", () => {
    // The expectation of Kafka's AdminTest.testReplicaAssignment (fixed start index 0).
    expect(Object.fromEntries(assigned({ partitions: 10, replicationFactor: 3, brokers: [4, 3, 2, 1, 0], startIndex: 0, replicaShift: 0 }))).toEqual({
      0: [0, 1, 2],
      1: [1, 2, 3],
      2: [2, 3, 4],
      3: [3, 4, 0],
      4: [4, 0, 1],
      5: [0, 2, 3],
      6: [1, 3, 4],
      7: [2, 4, 0],
      8: [3, 0, 1],
      9: [4, 1, 2],
    })
  })

  it("gives Kafka's errors for bad partition counts and replication factors", () => {
    const base = { brokers: [1, 2, 3], startIndex: 0, replicaShift: 0 }
    const err = (partitions: number, replicationFactor: number) => {
      const r = assignReplicas({ ...base, partitions, replicationFactor })
      return r.ok ? undefined : r.error._tag
    }
    expect(err(0, 1)).toBe("InvalidPartitions")
    expect(err(3, 0)).toBe("InvalidReplicationFactor")
    expect(err(3, 4)).toBe("InvalidReplicationFactor")
    expect(err(3, 3)).toBeUndefined()
  })

  test.prop([
    fc.integer({ min: 1, max: 8 }).chain((n) =>
      fc.record({
        brokers: fc.uniqueArray(fc.integer({ min: 0, max: 1000 }), { minLength: n, maxLength: n }),
        partitions: fc.integer({ min: 1, max: 60 }),
        replicationFactor: fc.integer({ min: 1, max: n }),
        startIndex: fc.integer({ min: 0, max: n - 1 }),
        replicaShift: fc.integer({ min: 0, max: n - 1 }),
      }),
    ),
  ])("every partition gets distinct live replicas, and leaders spread evenly", (input) => {
    const a = assigned(input)
    expect([...a.keys()]).toEqual([...Array(input.partitions).keys()])
    const leaders = new Map<number, number>()
    for (const replicas of a.values()) {
      expect(replicas).toHaveLength(input.replicationFactor)
      expect(new Set(replicas).size).toBe(input.replicationFactor)
      for (const b of replicas) expect(input.brokers).toContain(b)
      leaders.set(replicas[0]!, (leaders.get(replicas[0]!) ?? 0) + 1)
    }
    const counts = input.brokers.map((b) => leaders.get(b) ?? 0)
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1)
  })
})

describe("ZooKeeper layout", () => {
  it("reads and writes Kafka's JSON", () => {
    const state = { controller_epoch: 3, leader: 2, version: 1 as const, leader_epoch: 7, isr: [2, 3] }
    const bytes = encodeZnode(PartitionStateZnode, state)
    expect(new TextDecoder().decode(bytes)).toBe('{"controller_epoch":3,"leader":2,"version":1,"leader_epoch":7,"isr":[2,3]}')
    expect(decodeZnode(PartitionStateZnode, bytes)).toEqual(Either.right(state))
    // Kafka's own topic znode, as a 3.x broker writes it.
    const kafka = '{"partitions":{"0":[1,2],"1":[2,3]},"topic_id":"AAAAAAAAAAAAAAAAAAAAAA","adding_replicas":{},"removing_replicas":{},"version":3}'
    const t = decodeZnode(TopicAssignment, new TextEncoder().encode(kafka))
    expect(Either.getOrThrow(t).partitions["1"]).toEqual([2, 3])
    expect(paths.partitionState("orders", 4)).toBe("/brokers/topics/orders/partitions/4/state")
  })

  it("rejects malformed znodes with a readable message", () => {
    const bad = (s: string | null) => Either.getLeft(decodeZnode(PartitionStateZnode, s === null ? null : new TextEncoder().encode(s)))._tag === "Some"
    expect(bad(null)).toBe(true)
    expect(bad("{not json")).toBe(true)
    expect(bad('{"controller_epoch":1,"leader":-2,"version":1,"leader_epoch":0,"isr":[]}')).toBe(true)
    expect(bad('{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":0}')).toBe(true)
    const msg = Either.getLeft(decodeZnode(PartitionStateZnode, new TextEncoder().encode('{"controller_epoch":1,"leader":1,"version":1,"leader_epoch":"x","isr":[]}')))
    expect(msg._tag === "Some" && msg.value).toMatch(/leader_epoch/)
  })

  it("checks topic names as Kafka does", () => {
    expect(topicNameError("orders.v2_x-1")).toBeUndefined()
    for (const bad of ["", ".", "..", "a b", "a/b", "x".repeat(250)]) expect(topicNameError(bad), bad).toBeDefined()
  })

  test.prop([fc.uint8Array({ minLength: 16, maxLength: 16 })])("topic ids round-trip through Kafka's text form", (id) => {
    const s = topicIdToString(id)
    expect(s).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(topicIdFromString(s)).toEqual(id)
    expect(s).toBe(Buffer.from(id).toString("base64url"))
  })
})
