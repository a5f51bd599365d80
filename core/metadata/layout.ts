/**
 * Kafka cluster metadata in the coordination tree, in Kafka's classic ZooKeeper layout (the
 * paths and JSON that Kafka 2.x/3.x brokers in ZooKeeper mode write), so that `zkCli.sh` or any
 * ZooKeeper client sees what it would see on a Kafka cluster:
 *
 *   /brokers/ids/<id>                         ephemeral: host, port, endpoints
 *   /controller                               ephemeral: the elected controller's broker id
 *   /brokers/topics/<topic>                   partition -> replicas, topic id
 *   /brokers/topics/<topic>/partitions/<p>/state   leader, leader_epoch, isr (updated by CAS)
 *   /config/topics/<topic>                    per-topic config overrides
 *
 * Each znode's JSON is a Schema: data read from the tree is decoded (and a znode some other
 * client wrote badly gives a ParseError, not a crash); data written is encoded from the same
 * Schema. Field names are Kafka's (snake_case).
 */
import { Either, ParseResult, Schema } from "effect"

export const paths = {
  brokerIds: "/brokers/ids",
  broker: (id: number) => `/brokers/ids/${id}`,
  controller: "/controller",
  topics: "/brokers/topics",
  topic: (name: string) => `/brokers/topics/${name}`,
  partitions: (topic: string) => `/brokers/topics/${topic}/partitions`,
  partition: (topic: string, p: number) => `/brokers/topics/${topic}/partitions/${p}`,
  partitionState: (topic: string, p: number) => `/brokers/topics/${topic}/partitions/${p}/state`,
  topicConfigs: "/config/topics",
  topicConfig: (name: string) => `/config/topics/${name}`,
} as const

const BrokerId = Schema.Int.pipe(Schema.nonNegative())

/** /brokers/ids/<id> (Kafka's version 5 registration, PLAINTEXT only). */
export const BrokerRegistration = Schema.Struct({
  version: Schema.Literal(4, 5),
  host: Schema.String,
  port: Schema.Int.pipe(Schema.between(0, 65535)),
  jmx_port: Schema.Int,
  timestamp: Schema.String,
  endpoints: Schema.Array(Schema.String),
  listener_security_protocol_map: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  rack: Schema.optional(Schema.NullOr(Schema.String)),
  features: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown })),
})
export type BrokerRegistration = typeof BrokerRegistration.Type

/** /controller */
export const ControllerRegistration = Schema.Struct({
  version: Schema.Int,
  brokerid: BrokerId,
  timestamp: Schema.String,
})
export type ControllerRegistration = typeof ControllerRegistration.Type

/** /brokers/topics/<topic>: replicas of each partition, keyed by the partition id as a string. */
export const TopicAssignment = Schema.Struct({
  version: Schema.Literal(1, 2, 3),
  partitions: Schema.Record({ key: Schema.String.pipe(Schema.pattern(/^(0|[1-9][0-9]*)$/)), value: Schema.Array(BrokerId).pipe(Schema.minItems(1)) }),
  /** Kafka's topic id: a UUID in URL-safe base64 without padding (22 characters). */
  topic_id: Schema.optional(Schema.String.pipe(Schema.pattern(/^[A-Za-z0-9_-]{22}$/))),
  adding_replicas: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Array(BrokerId) })),
  removing_replicas: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Array(BrokerId) })),
})
export type TopicAssignment = typeof TopicAssignment.Type

/** /brokers/topics/<topic>/partitions/<p>/state */
export const PartitionStateZnode = Schema.Struct({
  controller_epoch: Schema.Int,
  leader: Schema.Int.pipe(Schema.greaterThanOrEqualTo(-1)), // -1: no leader
  version: Schema.Literal(1),
  leader_epoch: Schema.Int.pipe(Schema.nonNegative()),
  isr: Schema.Array(BrokerId),
})
export type PartitionStateZnode = typeof PartitionStateZnode.Type

/** /config/topics/<topic> */
export const TopicConfigZnode = Schema.Struct({
  version: Schema.Literal(1),
  config: Schema.Record({ key: Schema.String, value: Schema.String }),
})
export type TopicConfigZnode = typeof TopicConfigZnode.Type

/** Decodes znode data (UTF-8 JSON) with a Schema; a readable message on failure. */
export function decodeZnode<A, I>(schema: Schema.Schema<A, I>, data: Uint8Array | null): Either.Either<A, string> {
  if (data === null) return Either.left("the znode has no data")
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(data))
  } catch (e) {
    return Either.left(`not JSON: ${(e as Error).message}`)
  }
  return Either.mapLeft(Schema.decodeUnknownEither(schema)(json, { onExcessProperty: "ignore" }), (e) => ParseResult.TreeFormatter.formatErrorSync(e))
}

export function encodeZnode<A, I>(schema: Schema.Schema<A, I>, value: A): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(Schema.encodeSync(schema)(value)))
}

/** Kafka's legal topic names: 1-249 characters of [a-zA-Z0-9._-], not "." or "..". */
export function topicNameError(name: string): string | undefined {
  if (name.length === 0) return "Topic name is illegal, it can't be empty"
  if (name === "." || name === "..") return "Topic name cannot be \".\" or \"..\""
  if (name.length > 249) return `Topic name is illegal, it can't be longer than 249 characters, topic name: ${name}`
  if (!/^[a-zA-Z0-9._-]+$/.test(name)) return `Topic name "${name}" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'`
  return undefined
}

/** Kafka's topic id text form: the 16 bytes in URL-safe base64 without padding. */
export function topicIdToString(id: Uint8Array): string {
  if (id.length !== 16) throw new RangeError(`a topic id is 16 bytes, not ${id.length}`)
  return btoa(String.fromCharCode(...id)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")
}

export function topicIdFromString(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]{22}$/.test(s)) throw new RangeError(`${JSON.stringify(s)} is not a topic id`)
  const bin = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "==")
  return Uint8Array.from(bin, (c) => c.charCodeAt(0))
}
