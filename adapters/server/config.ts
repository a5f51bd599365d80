/**
 * A node's configuration: which ensemble it belongs to, its ports, its data directory, timing.
 * Read from a JSON file (or built by the local-ensemble launcher) and decoded through a Schema,
 * so a bad config stops the node with a readable message before anything starts.
 *
 * Example (`sequent.json`):
 *   { "id": 1, "dataDir": "./data/node-1",
 *     "members": [ { "id": 1, "host": "10.0.0.1", "peerPort": 2888, "clientPort": 2181 },
 *                  { "id": 2, "host": "10.0.0.2", "peerPort": 2888, "clientPort": 2181 },
 *                  { "id": 3, "host": "10.0.0.3", "peerPort": 2888, "clientPort": 2181 },
 *                  { "id": 4, "host": "10.0.0.4", "peerPort": 2888, "clientPort": 2181, "observer": true } ] }
 */
import { Either, ParseResult, Schema } from "effect"

const Port = Schema.Number.pipe(Schema.int(), Schema.between(1, 65535))
const PositiveInt = Schema.Number.pipe(Schema.int(), Schema.positive())

export const Member = Schema.Struct({
  id: PositiveInt,
  host: Schema.String,
  peerPort: Port,
  clientPort: Port,
  observer: Schema.optionalWith(Schema.Boolean, { default: () => false }),
})
export type Member = typeof Member.Type

export const NodeConfig = Schema.Struct({
  id: PositiveInt,
  members: Schema.Array(Member).pipe(Schema.minItems(1)),
  dataDir: Schema.String,
  /** Address the client port binds to (the member's host by default). */
  clientBindHost: Schema.optional(Schema.String),
  /** Consensus tick: heartbeats every 2 ticks, a silent leader is abandoned after 10. */
  tickMs: Schema.optionalWith(PositiveInt, { default: () => 100 }),
  /** ZooKeeper's tickTime: session timeouts are negotiated into [2, 20] ticks. */
  tickTimeMs: Schema.optionalWith(PositiveInt, { default: () => 2000 }),
  /** ZooKeeper's jute.maxbuffer. */
  maxBuffer: Schema.optionalWith(PositiveInt, { default: () => 0xfffff }),
  snapshotEvery: Schema.optionalWith(PositiveInt, { default: () => 10_000 }),
}).pipe(
  Schema.filter((c) => {
    const ids = c.members.map((m) => m.id)
    if (new Set(ids).size !== ids.length) return "member ids must be distinct"
    if (!ids.includes(c.id)) return `id ${c.id} is not one of the members (${ids.join(", ")})`
    if (!c.members.some((m) => !m.observer)) return "at least one member must be a voter"
    const addrs = c.members.flatMap((m) => [`${m.host}:${m.peerPort}`, `${m.host}:${m.clientPort}`])
    if (new Set(addrs).size !== addrs.length) return "two members (or a member's two ports) share an address"
    return true
  }),
)
export type NodeConfig = typeof NodeConfig.Type

export function parseNodeConfig(json: unknown): NodeConfig | Error {
  const r = Schema.decodeUnknownEither(NodeConfig)(json, { errors: "all", onExcessProperty: "error" })
  return Either.isRight(r) ? r.right : new Error(`bad config:\n${ParseResult.TreeFormatter.formatErrorSync(r.left)}`)
}

/** The local ensemble `npm start` runs: voters 1..n and observers after them, on loopback. */
export function localEnsemble(voters: number, observers: number, basePorts = { client: 2181, peer: 2888 }): Member[] {
  return Array.from({ length: voters + observers }, (_, i) => ({
    id: i + 1,
    host: "127.0.0.1",
    peerPort: basePorts.peer + i,
    clientPort: basePorts.client + i,
    observer: i >= voters,
  }))
}
