/**
 * A Kafka protocol endpoint over TCP: frames requests, answers ApiVersions itself (it is the
 * transport's negotiation, built from the versions the handler serves), hands every other
 * request to the handler, and writes responses in request order per connection however long each
 * takes (Kafka's pipelining contract). A request over `maxRequestBytes` (socket.request.max.bytes),
 * a malformed one, or one the handler fails on closes that connection only; the server goes on.
 */
import net from "node:net"
import { FrameDecoder, FrameError } from "../zookeeper/frames.ts"
import { API_VERSIONS_KEY, APIS, type Api } from "./apis.ts"
import type { KafkaValue } from "./codec.ts"
import { encodeResponse, parseRequest, type RequestHeader } from "./requests.ts"
import type { VersionRange } from "./schema.ts"

/** Kafka's socket.request.max.bytes default. */
export const DEFAULT_MAX_REQUEST_BYTES = 104_857_600

export interface KafkaRequest {
  readonly api: Api
  readonly header: RequestHeader
  readonly body: KafkaValue
}

/** Answers a request with a response body, or null for none (Produce with acks=0). */
export type KafkaHandler = (req: KafkaRequest) => Promise<KafkaValue | null> | KafkaValue | null

export interface KafkaServerOptions {
  readonly host?: string
  readonly port?: number
  /** API key -> versions served. ApiVersions is added by the server. */
  readonly versions: ReadonlyMap<number, VersionRange>
  readonly handler: KafkaHandler
  readonly maxRequestBytes?: number
  readonly log?: (message: string) => void
}

export interface KafkaServer {
  readonly port: number
  close(): Promise<void>
}

/** The ApiVersions range this endpoint speaks (0-4 in Kafka 3.9/4.0). */
export const API_VERSIONS_RANGE: VersionRange = { min: 0, max: 4 }

export function apiVersionsBody(versions: ReadonlyMap<number, VersionRange>): KafkaValue {
  return {
    errorCode: 0,
    apiKeys: [...versions].sort(([a], [b]) => a - b).map(([apiKey, r]) => ({ apiKey, minVersion: r.min, maxVersion: r.max })),
    throttleTimeMs: 0,
  }
}

export async function startKafkaServer(opts: KafkaServerOptions): Promise<KafkaServer> {
  const log = opts.log ?? (() => {})
  const versions = new Map(opts.versions)
  versions.set(API_VERSIONS_KEY, API_VERSIONS_RANGE)
  for (const [key, r] of versions) {
    const api = APIS.get(key)
    if (!api) throw new Error(`unknown Kafka API key ${key}`)
    if (r.min < api.request.validVersions.min || r.max > api.request.validVersions.max) throw new Error(`${api.name} ${r.min}-${r.max} is outside the schema's versions`)
  }
  const sockets = new Set<net.Socket>()

  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.on("close", () => sockets.delete(socket))
    socket.on("error", () => socket.destroy())
    socket.setNoDelay(true)
    const frames = new FrameDecoder(opts.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES)
    const peer = `${socket.remoteAddress}:${socket.remotePort}`
    // Responses leave in request order: each waits for the one before it.
    let tail: Promise<void> = Promise.resolve()
    let closing = false
    const close = (why: string) => {
      if (closing) return
      closing = true
      log(`kafka: closing ${peer}: ${why}`)
      // Answers already due are still written, then the connection ends.
      void tail.then(() => socket.end())
    }
    const respond = (answer: Promise<Uint8Array | null | "close">) => {
      tail = tail.then(async () => {
        const bytes = await answer
        if (closing || socket.destroyed) return
        if (bytes === "close") close("request failed")
        else if (bytes) socket.write(bytes)
      })
    }

    socket.on("data", (chunk) => {
      if (closing) return
      let list: Uint8Array[]
      try {
        list = frames.push(chunk)
      } catch (e) {
        if (e instanceof FrameError) return close(`request size ${e.length} (limit ${e.maxBuffer})`)
        throw e
      }
      for (const frame of list) {
        if (closing) return
        const req = parseRequest(frame, versions)
        if (!req.ok) {
          if (req.kind === "unsupported" && req.reply) {
            respond(Promise.resolve(req.reply))
            continue
          }
          return close(req.message)
        }
        if (req.api.key === API_VERSIONS_KEY) {
          respond(Promise.resolve(encodeResponse(req.api, req.header.apiVersion, req.header.correlationId, apiVersionsBody(versions))))
          continue
        }
        respond(
          (async () => {
            try {
              const body = await opts.handler({ api: req.api, header: req.header, body: req.body })
              return body === null ? null : encodeResponse(req.api, req.header.apiVersion, req.header.correlationId, body)
            } catch (e) {
              log(`kafka: ${req.api.name} v${req.header.apiVersion} from ${peer} failed: ${(e as Error).stack ?? String(e)}`)
              return "close" as const
            }
          })(),
        )
      }
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve())
  })
  const address = server.address()
  if (address === null || typeof address === "string") throw new Error("kafka server has no TCP address")
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  }
}
