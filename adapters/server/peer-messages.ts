/**
 * What servers say to each other: consensus messages, plus the two things ZooKeeper's learners
 * also tell their leader — client writes to propose, and which client sessions are alive.
 *
 * Frames are JSON decoded through an effect `Schema`, so a corrupt or hostile frame becomes a
 * typed error that the node logs and drops (the consensus core tolerates lost messages).
 */
import { Either, ParseResult, Schema } from "effect"
import { Message } from "../../core/consensus/index.ts"

export const PeerMessage = Schema.Union(
  Schema.TaggedStruct("Zab", { message: Message }),
  /** A learner forwards a client's write (an encoded `CoordTxn`) for the leader to propose. */
  Schema.TaggedStruct("Forward", { txn: Schema.Uint8ArrayFromBase64 }),
  /** A learner's clients that were heard from since its last report (ZooKeeper's session touches in PING). */
  Schema.TaggedStruct("Touch", { sessions: Schema.Array(Schema.BigInt) }),
)
export type PeerMessage = typeof PeerMessage.Type

const encode = Schema.encodeSync(PeerMessage)
const decode = Schema.decodeUnknownEither(PeerMessage)

export function encodePeerMessage(m: PeerMessage): Buffer {
  return Buffer.from(JSON.stringify(encode(m)))
}

export function decodePeerMessage(bytes: Uint8Array): PeerMessage | Error {
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8"))
  } catch (e) {
    return new Error(`peer frame is not JSON: ${(e as Error).message}`)
  }
  const r = decode(json)
  return Either.isRight(r) ? r.right : new Error(ParseResult.TreeFormatter.formatErrorSync(r.left))
}
