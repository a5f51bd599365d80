/**
 * The Kafka TCP endpoint (adapters/tcp/kafka/server.ts) with a real client and with raw bytes:
 * kafkajs negotiates versions and reads cluster metadata through it; pipelined requests are
 * answered in order even when handled out of order; an ApiVersions version it does not serve gets
 * the v0-layout UNSUPPORTED_VERSION answer; oversized, malformed and unknown requests close only
 * their own connection.
 *
 * The handler here is a test double answering Metadata with a fixed one-broker cluster: this file
 * tests the wire layer, not the broker (which answers Metadata from the cluster's state).
 */
import net from "node:net"
import { Kafka, logLevel } from "kafkajs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { APIS } from "../../adapters/tcp/kafka/apis.ts"
import { decode, decodeMessage, Reader } from "../../adapters/tcp/kafka/codec.ts"
import { encodeRequest } from "../../adapters/tcp/kafka/requests.ts"
import { startKafkaServer, type KafkaServer } from "../../adapters/tcp/kafka/server.ts"

const METADATA = 3
const LIST_OFFSETS = 2

let server: KafkaServer
const delays = new Map<number, number>() // correlation id -> ms the handler waits

beforeAll(async () => {
  server = await startKafkaServer({
    versions: new Map([
      [METADATA, { min: 0, max: 12 }],
      [LIST_OFFSETS, { min: 0, max: 9 }],
    ]),
    handler: async ({ api, header }) => {
      const wait = delays.get(header.correlationId)
      if (wait) await new Promise((r) => setTimeout(r, wait))
      if (api.key === METADATA)
        return { throttleTimeMs: 0, brokers: [{ nodeId: 1, host: "127.0.0.1", port: server.port, rack: null }], clusterId: "test-cluster", controllerId: 1, topics: [] }
      throw new Error("the test handler only answers Metadata")
    },
  })
})
afterAll(() => server.close())

/** Sends raw bytes and collects response frames until the server closes or `count` arrive. */
function exchange(bytes: Uint8Array, count: number): Promise<{ frames: Uint8Array[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const s = net.connect(server.port, "127.0.0.1")
    let buf = Buffer.alloc(0)
    const frames: Uint8Array[] = []
    const done = (closed: boolean) => {
      s.destroy()
      resolve({ frames, closed })
    }
    s.on("data", (d) => {
      buf = Buffer.concat([buf, d])
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        frames.push(buf.subarray(4, 4 + buf.readInt32BE(0)))
        buf = buf.subarray(4 + buf.readInt32BE(0))
      }
      if (frames.length >= count) done(false)
    })
    s.on("end", () => done(true))
    s.on("error", reject)
    s.write(bytes)
  })
}

describe("Kafka endpoint", () => {
  it("serves kafkajs: version negotiation and cluster metadata", async () => {
    const kafka = new Kafka({ clientId: "wire-test", brokers: [`127.0.0.1:${server.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } })
    const admin = kafka.admin()
    await admin.connect()
    try {
      const cluster = await admin.describeCluster()
      expect(cluster).toEqual({ brokers: [{ nodeId: 1, host: "127.0.0.1", port: server.port }], controller: 1, clusterId: "test-cluster" })
    } finally {
      await admin.disconnect()
    }
  })

  it("answers pipelined requests in order, however long each takes", async () => {
    const meta = APIS.get(METADATA)!
    const ids = [11, 12, 13, 14]
    delays.set(11, 150).set(13, 60)
    const bytes = Buffer.concat(ids.map((correlationId, i) => encodeRequest(meta, i % 2 ? 9 : 1, { correlationId, clientId: "pipe" }, { topics: [] })))
    const { frames } = await exchange(bytes, ids.length)
    expect(frames.map((f) => Buffer.from(f).readInt32BE(0))).toEqual(ids)
    // Each answer is at its request's version: v1 has a classic header, v9 a flexible one.
    const r = new Reader(frames[1]!, 5) // correlation id, then an empty tagged-field buffer
    expect(decodeMessage(r, meta.response, 9).clusterId).toBe("test-cluster")
  })

  it("answers an ApiVersions version it does not serve with the v0 layout and error 35", async () => {
    const av = APIS.get(18)!
    const req = Buffer.from(encodeRequest(av, 3, { correlationId: 5, clientId: "x" }, {}))
    req.writeInt16BE(99, 6) // claim ApiVersions v99
    const { frames, closed } = await exchange(req, 1)
    expect(closed).toBe(false)
    const f = frames[0]!
    expect(Buffer.from(f).readInt32BE(0)).toBe(5)
    expect(decode(av.response, 0, f.subarray(4))).toEqual({ errorCode: 35, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }], throttleTimeMs: 0, supportedFeatures: [], finalizedFeaturesEpoch: -1n, finalizedFeatures: [], zkMigrationReady: false })
  })

  it("advertises what it serves through ApiVersions", async () => {
    const av = APIS.get(18)!
    const { frames } = await exchange(encodeRequest(av, 2, { correlationId: 1, clientId: "x" }, {}), 1)
    const body = decode(av.response, 2, frames[0]!.subarray(4))
    expect(body.apiKeys).toEqual([
      { apiKey: 2, minVersion: 0, maxVersion: 9 },
      { apiKey: 3, minVersion: 0, maxVersion: 12 },
      { apiKey: 18, minVersion: 0, maxVersion: 4 },
    ])
  })

  it("closes the connection, and only it, on bad input", async () => {
    const meta = APIS.get(METADATA)!
    const good = encodeRequest(meta, 1, { correlationId: 1, clientId: "x" }, { topics: [] })
    const lying = Buffer.from(good)
    lying.writeInt32BE(0x7fffffff, 15) // size, key, version, correlation id, client id "x", then the topics count
    const cases: Array<[string, Uint8Array]> = [
      ["oversized", Buffer.from([0x7f, 0xff, 0xff, 0xff])],
      ["negative size", Buffer.from([0xff, 0xff, 0xff, 0xff])],
      ["short header", Buffer.from([0, 0, 0, 2, 0, 3])],
      ["lying array length", lying],
      ["unknown API key", Buffer.concat([Buffer.from([0, 0, 0, 8, 0x7f, 0x00, 0, 0]), Buffer.from([0, 0, 0, 1])])],
      ["unsupported Metadata version", Buffer.from(encodeRequest(meta, 12, { correlationId: 1, clientId: "x" }, { topics: [] })).fill(0x0d, 6, 7)],
      ["handler failure (ListOffsets)", encodeRequest(APIS.get(LIST_OFFSETS)!, 1, { correlationId: 1, clientId: "x" }, { replicaId: -1, topics: [] })],
    ]
    for (const [name, bytes] of cases) {
      const { frames, closed } = await exchange(bytes, 1)
      expect(closed, name).toBe(true)
      expect(frames, name).toEqual([])
    }
    // The server is still up and answering.
    const { frames } = await exchange(good, 1)
    expect(frames).toHaveLength(1)
  })
})
