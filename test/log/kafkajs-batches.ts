// Captures the record batches kafkajs 2.2 puts on the wire: a kafkajs producer sends to a tiny
// fake broker on 127.0.0.1, which answers ApiVersions, Metadata and Produce just enough and keeps
// the record set of each Produce request.
//
// The broker advertises Metadata v0 and Produce v3 only (the oldest Produce carrying record
// batch v2), so kafkajs speaks the simplest forms; the batch bytes are the same at any version.
// Codecs: gzip is kafkajs's own; snappy is kafkajs-snappy (snappyjs, raw snappy without xerial
// framing); lz4 is @2l/kafkajs-lz4 (lz4-napi's frame encoder, lz4_flex in Rust). No zstd plugin
// installs from the npm registry alone (@kafkajs/zstd's cppzst fails to compile on Node 20,
// @sensejs/kafkajs-zstd-support runs prebuild-install), so zstd is a plugin written here over
// @bokuweb/zstd-wasm: that capture checks kafkajs's batch framing, not a second zstd encoder.

import net from "node:net"
import { createRequire } from "node:module"
import { compress as zstdCompress } from "@bokuweb/zstd-wasm"
import kafkajs from "kafkajs"

import { initZstd } from "../../adapters/compression/zstd.ts"

const require = createRequire(import.meta.url)
// kafkajs is CommonJS with exports Node cannot list statically.
const { CompressionCodecs, CompressionTypes, Kafka, logLevel } = kafkajs

export type KafkajsCodec = "none" | "gzip" | "snappy" | "lz4" | "zstd"

export interface KafkajsMessage {
  readonly key: Buffer | null
  readonly value: Buffer | null
  readonly timestamp: number
  /** kafkajs's form: an array value is one header per element, in order. */
  readonly headers?: Record<string, Buffer | string | (Buffer | string)[]>
}

const COMPRESSION_TYPES = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
} as const

let codecsRegistered = false

async function registerCodecs(): Promise<void> {
  if (codecsRegistered) return
  await initZstd()
  const SnappyCodec = require("kafkajs-snappy")
  const Lz4Codec = require("@2l/kafkajs-lz4")
  CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec
  CompressionCodecs[CompressionTypes.LZ4] = new Lz4Codec().codec
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    compress: async (encoder: { buffer: Buffer }) => Buffer.from(zstdCompress(encoder.buffer, 3)),
    decompress: async () => {
      throw new Error("the capture only produces")
    },
  })
  codecsRegistered = true
}

// ---------------------------------------------------------------------------------------------
// The fake broker

const API_PRODUCE = 0
const API_METADATA = 3
const API_VERSIONS = 18

class Writer {
  private readonly parts: Buffer[] = []
  int16(v: number): this {
    const b = Buffer.alloc(2)
    b.writeInt16BE(v)
    this.parts.push(b)
    return this
  }
  int32(v: number): this {
    const b = Buffer.alloc(4)
    b.writeInt32BE(v)
    this.parts.push(b)
    return this
  }
  int64(v: bigint): this {
    const b = Buffer.alloc(8)
    b.writeBigInt64BE(v)
    this.parts.push(b)
    return this
  }
  string(s: string): this {
    const b = Buffer.from(s)
    return this.int16(b.length).raw(b)
  }
  raw(b: Buffer): this {
    this.parts.push(b)
    return this
  }
  build(): Buffer {
    return Buffer.concat(this.parts)
  }
}

class Reader {
  at = 0
  constructor(private readonly b: Buffer) {}
  int16(): number {
    this.at += 2
    return this.b.readInt16BE(this.at - 2)
  }
  int32(): number {
    this.at += 4
    return this.b.readInt32BE(this.at - 4)
  }
  string(): string | null {
    const n = this.int16()
    if (n < 0) return null
    this.at += n
    return this.b.toString("utf8", this.at - n, this.at)
  }
  bytes(): Buffer {
    const n = this.int32()
    this.at += n
    return Buffer.from(this.b.subarray(this.at - n, this.at))
  }
}

interface ProduceCapture {
  topic: string
  partition: number
  recordSet: Buffer
}

function answer(apiKey: number, apiVersion: number, body: Reader, port: number, topic: string, captured: ProduceCapture[]): Buffer {
  const w = new Writer()
  if (apiKey === API_VERSIONS) {
    const supported: [number, number, number][] = [
      [API_PRODUCE, 3, 3],
      [API_METADATA, 0, 0],
      [API_VERSIONS, 0, 2],
    ]
    w.int16(0).int32(supported.length)
    for (const [key, min, max] of supported) w.int16(key).int16(min).int16(max)
    if (apiVersion >= 1) w.int32(0) // throttle time
    return w.build()
  }
  if (apiKey === API_METADATA) {
    w.int32(1).int32(1).string("127.0.0.1").int32(port) // one broker, node 1
    w.int32(1).int16(0).string(topic) // one topic
    w.int32(1).int16(0).int32(0).int32(1).int32(1).int32(1).int32(1).int32(1) // partition 0, leader 1, replicas [1], isr [1]
    return w.build()
  }
  if (apiKey === API_PRODUCE) {
    body.string() // transactional id
    body.int16() // acks
    body.int32() // timeout
    const topics = body.int32()
    const responses = new Writer().int32(topics)
    for (let t = 0; t < topics; t++) {
      const name = body.string() ?? ""
      const partitions = body.int32()
      responses.string(name).int32(partitions)
      for (let p = 0; p < partitions; p++) {
        const partition = body.int32()
        captured.push({ topic: name, partition, recordSet: body.bytes() })
        responses.int32(partition).int16(0).int64(BigInt(captured.length)).int64(-1n)
      }
    }
    return responses.int32(0).build() // throttle time
  }
  throw new Error(`fake broker: unexpected api key ${apiKey}`)
}

async function startFakeBroker(topic: string): Promise<{ port: number; captured: ProduceCapture[]; close(): Promise<void> }> {
  const captured: ProduceCapture[] = []
  const sockets = new Set<net.Socket>()
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
    socket.on("error", () => socket.destroy())
    let pending = Buffer.alloc(0)
    socket.on("data", (chunk) => {
      pending = Buffer.concat([pending, chunk])
      while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
        const frame = pending.subarray(4, 4 + pending.readInt32BE(0))
        pending = pending.subarray(4 + frame.length)
        const r = new Reader(frame)
        const apiKey = r.int16()
        const apiVersion = r.int16()
        const correlationId = r.int32()
        r.string() // client id
        const body = answer(apiKey, apiVersion, r, (server.address() as net.AddressInfo).port, topic, captured)
        const header = Buffer.alloc(8)
        header.writeInt32BE(4 + body.length)
        header.writeInt32BE(correlationId, 4)
        socket.write(Buffer.concat([header, body]))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    port: (server.address() as net.AddressInfo).port,
    captured,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * Sends each message list with kafkajs, one `send` (so one batch) per entry, and returns the
 * record batch bytes kafkajs put in each Produce request, in order.
 */
export async function captureKafkajsBatches(sends: readonly { codec: KafkajsCodec; messages: readonly KafkajsMessage[] }[]): Promise<Uint8Array[]> {
  await registerCodecs()
  const topic = "captured"
  const broker = await startFakeBroker(topic)
  const kafka = new Kafka({ clientId: "sequent-capture", brokers: [`127.0.0.1:${broker.port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } })
  const producer = kafka.producer({ allowAutoTopicCreation: false, idempotent: false })
  try {
    await producer.connect()
    for (const s of sends) {
      await producer.send({
        topic,
        acks: -1,
        compression: COMPRESSION_TYPES[s.codec],
        messages: s.messages.map((m) => ({ partition: 0, key: m.key, value: m.value, timestamp: String(m.timestamp), ...(m.headers ? { headers: m.headers } : {}) })),
      })
    }
  } finally {
    await producer.disconnect()
    await broker.close()
  }
  if (broker.captured.length !== sends.length) throw new Error(`kafkajs sent ${broker.captured.length} Produce requests for ${sends.length} sends`)
  return broker.captured.map((c) => new Uint8Array(c.recordSet))
}
