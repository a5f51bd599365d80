/**
 * A kafkajs producer's Produce requests (v7, its newest, with every codec kafkajs has built in)
 * decoded by the table-driven codec: the records field must hold record batches that core/log
 * decodes to exactly what was sent, and kafkajs must accept the Produce responses we encode.
 * The handler is a test double (a one-partition topic that acknowledges everything): this tests
 * the wire layer, not the broker.
 */
import kafkajs from "kafkajs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startKafkaServer, type KafkaServer } from "../../adapters/tcp/kafka/server.ts"
import { decodeRecords } from "../../core/log/record-batch.ts"
import type { KafkaValue } from "../../adapters/tcp/kafka/codec.ts"

const { CompressionTypes, Kafka, logLevel } = kafkajs

let server: KafkaServer
const produced: { version: number; body: KafkaValue }[] = []
let nextOffset = 0n

beforeAll(async () => {
  server = await startKafkaServer({
    versions: new Map([
      [0, { min: 3, max: 11 }],
      [3, { min: 0, max: 12 }],
    ]),
    handler: ({ api, header, body }) => {
      if (api.key === 3)
        return {
          throttleTimeMs: 0,
          brokers: [{ nodeId: 1, host: "127.0.0.1", port: server.port, rack: null }],
          clusterId: "produce-wire",
          controllerId: 1,
          topics: [{ errorCode: 0, name: "t", isInternal: false, partitions: [{ errorCode: 0, partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] }] }],
        }
      produced.push({ version: header.apiVersion, body })
      const topics = body.topicData as { name: string; partitionData: { index: number }[] }[]
      const baseOffset = nextOffset
      nextOffset += 1000n
      return {
        throttleTimeMs: 0,
        responses: topics.map((t) => ({ name: t.name, partitionResponses: t.partitionData.map((p) => ({ index: p.index, errorCode: 0, baseOffset, logAppendTimeMs: -1n, logStartOffset: 0n })) })),
      }
    },
  })
})
afterAll(() => server.close())

describe("kafkajs Produce through the codec", () => {
  it("decodes v7 requests with none and gzip batches, and kafkajs reads our answers", async () => {
    const kafka = new Kafka({ clientId: "produce-wire", brokers: [`127.0.0.1:${server.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } })
    const producer = kafka.producer({ allowAutoTopicCreation: false })
    await producer.connect()
    try {
      for (const [i, compression] of [CompressionTypes.None, CompressionTypes.GZIP].entries()) {
        const messages = [
          { key: `k${i}`, value: `value ${i} one`, headers: { h: "x" } },
          { key: null, value: `value ${i} two` },
        ]
        const meta = await producer.send({ topic: "t", acks: -1, compression, messages })
        expect(meta).toEqual([expect.objectContaining({ topicName: "t", partition: 0, errorCode: 0, baseOffset: String(1000 * i) })])
      }
    } finally {
      await producer.disconnect()
    }
    expect(produced.map((p) => p.version)).toEqual([7, 7])
    const { gunzipSync } = await import("node:zlib")
    produced.forEach(({ body }, i) => {
      expect(body.acks).toBe(-1)
      const [topic] = body.topicData as { name: string; partitionData: { index: number; records: Uint8Array }[] }[]
      expect(topic!.name).toBe("t")
      const { header, records } = decodeRecords(topic!.partitionData[0]!.records, { 1: { compress: () => { throw new Error("unused") }, decompress: (b: Uint8Array) => new Uint8Array(gunzipSync(b)) } })
      expect(header.compression).toBe(i === 0 ? 0 : 1)
      expect(records.map((r) => [r.key && Buffer.from(r.key).toString(), r.value && Buffer.from(r.value).toString()])).toEqual([
        [`k${i}`, `value ${i} one`],
        [null, `value ${i} two`],
      ])
      expect(records[0]!.headers.map((h) => [h.key, h.value && Buffer.from(h.value).toString()])).toEqual([["h", "x"]])
    })
  })
})
