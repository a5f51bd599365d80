/**
 * ZooKeeper client protocol: opcodes, special xids, which jute record each opcode carries in its
 * request and its reply, and the frame-level encoders/decoders a server needs (connect handshake,
 * requests, replies, watch notifications, multi). Table-driven: OPS, MULTI_OPS and MULTI_RESULTS
 * say which record goes where; records.ts does the bytes.
 *
 * Behaviour follows Apache ZooKeeper 3.9's server (ZooKeeperServer.processPacket,
 * FinalRequestProcessor, MultiOperationRecord, MultiResponse, ProtocolManager).
 */
import { JuteError, JuteReader, JuteWriter } from "./jute.ts"
import {
  decodeRecord,
  decodeRecordOptionalTail,
  encodeRecord,
  isRecordName,
  recordToBytes,
  type ConnectRequest,
  type ConnectResponse,
  type Encodable,
  type RecordName,
  type RecordTypes,
  type ReplyHeader,
} from "./records.ts"

export { FrameDecoder, FrameError, asFourLetterWord, type FrameErrorKind } from "./frames.ts"
export { DEFAULT_MAX_BUFFER, JuteError, JuteReader, JuteWriter } from "./jute.ts"
export type * from "./records.ts"

/** ZooDefs.OpCode. */
export const Op = {
  notification: 0,
  create: 1,
  delete: 2,
  exists: 3,
  getData: 4,
  setData: 5,
  getACL: 6,
  setACL: 7,
  getChildren: 8,
  sync: 9,
  ping: 11,
  getChildren2: 12,
  check: 13,
  multi: 14,
  create2: 15,
  reconfig: 16,
  checkWatches: 17,
  removeWatches: 18,
  createContainer: 19,
  deleteContainer: 20,
  createTTL: 21,
  multiRead: 22,
  auth: 100,
  setWatches: 101,
  sasl: 102,
  getEphemerals: 103,
  getAllChildrenNumber: 104,
  setWatches2: 105,
  addWatch: 106,
  whoAmI: 107,
  createSession: -10,
  closeSession: -11,
  error: -1,
} as const
export const OpCode = Op
export type OpName = keyof typeof Op

/** Reserved xids (ClientCnxn): replies to these carry the same xid back. */
export const Xid = {
  /** server -> client watch event */
  notification: -1,
  ping: -2,
  auth: -4,
  setWatches: -8,
} as const

/** Watcher.Event.EventType (WatcherEvent.type): the same table the znode tree emits. */
export { EventType } from "../../../core/coordination/types.ts"

/** Watcher.Event.KeeperState (WatcherEvent.state). */
export const KeeperState = {
  Disconnected: 0,
  SyncConnected: 3,
  AuthFailed: 4,
  ConnectedReadOnly: 5,
  SaslAuthenticated: 6,
  Closed: 7,
  Expired: -112,
} as const

/** Watcher.WatcherType (CheckWatchesRequest/RemoveWatchesRequest.type). */
export const WatcherType = { Children: 1, Data: 2, Any: 3, Persistent: 4, PersistentRecursive: 5 } as const

/** AddWatchRequest.mode. */
export const AddWatchMode = { Persistent: 0, PersistentRecursive: 1 } as const

/** The error codes this module itself suggests (the rest live in core/coordination/errors.ts). */
const MARSHALLINGERROR = -5
const UNIMPLEMENTED = -6

// ---------------------------------------------------------------------------------------------
// The tables

/** Request bodies that are not a plain jute record. */
export type SpecialRequest =
  /** MultiOperationRecord: MultiHeader + op record, ..., terminated by MultiHeader{-1, true, -1} */
  | "MultiOperationRecord"
  /** deleteContainer: the whole body is the path's UTF-8 bytes (sent by ZooKeeper's own ContainerManager) */
  | "RawPath"
export type RequestKind = RecordName | SpecialRequest | null
export type ResponseName = RecordName | "MultiResponse"

interface OpSpec {
  readonly type: number
  readonly name: OpName
  /** the body after the RequestHeader; null = none */
  readonly request: RequestKind
  /** the body after the ReplyHeader on success (err 0); null = none */
  readonly response: ResponseName | null
}

/**
 * Every opcode a connected client may send, with its request and success-response records
 * (FinalRequestProcessor). createSession (-10) is the ConnectRequest handshake, not a request.
 */
export const OPS = [
  { type: Op.create, name: "create", request: "CreateRequest", response: "CreateResponse" },
  { type: Op.delete, name: "delete", request: "DeleteRequest", response: null },
  { type: Op.exists, name: "exists", request: "ExistsRequest", response: "ExistsResponse" },
  { type: Op.getData, name: "getData", request: "GetDataRequest", response: "GetDataResponse" },
  { type: Op.setData, name: "setData", request: "SetDataRequest", response: "SetDataResponse" },
  { type: Op.getACL, name: "getACL", request: "GetACLRequest", response: "GetACLResponse" },
  { type: Op.setACL, name: "setACL", request: "SetACLRequest", response: "SetACLResponse" },
  { type: Op.getChildren, name: "getChildren", request: "GetChildrenRequest", response: "GetChildrenResponse" },
  { type: Op.sync, name: "sync", request: "SyncRequest", response: "SyncResponse" },
  { type: Op.ping, name: "ping", request: null, response: null },
  { type: Op.getChildren2, name: "getChildren2", request: "GetChildren2Request", response: "GetChildren2Response" },
  // 3.9's FinalRequestProcessor answers a stand-alone check with SetDataResponse (later versions: no body).
  { type: Op.check, name: "check", request: "CheckVersionRequest", response: "SetDataResponse" },
  { type: Op.multi, name: "multi", request: "MultiOperationRecord", response: "MultiResponse" },
  { type: Op.create2, name: "create2", request: "CreateRequest", response: "Create2Response" },
  { type: Op.reconfig, name: "reconfig", request: "ReconfigRequest", response: "GetDataResponse" },
  { type: Op.checkWatches, name: "checkWatches", request: "CheckWatchesRequest", response: null },
  { type: Op.removeWatches, name: "removeWatches", request: "RemoveWatchesRequest", response: null },
  { type: Op.createContainer, name: "createContainer", request: "CreateRequest", response: "Create2Response" },
  { type: Op.deleteContainer, name: "deleteContainer", request: "RawPath", response: null },
  { type: Op.createTTL, name: "createTTL", request: "CreateTTLRequest", response: "Create2Response" },
  { type: Op.multiRead, name: "multiRead", request: "MultiOperationRecord", response: "MultiResponse" },
  { type: Op.auth, name: "auth", request: "AuthPacket", response: null },
  { type: Op.setWatches, name: "setWatches", request: "SetWatches", response: null },
  { type: Op.sasl, name: "sasl", request: "GetSASLRequest", response: "SetSASLResponse" },
  { type: Op.getEphemerals, name: "getEphemerals", request: "GetEphemeralsRequest", response: "GetEphemeralsResponse" },
  {
    type: Op.getAllChildrenNumber,
    name: "getAllChildrenNumber",
    request: "GetAllChildrenNumberRequest",
    response: "GetAllChildrenNumberResponse",
  },
  { type: Op.setWatches2, name: "setWatches2", request: "SetWatches2", response: null },
  // ZooKeeper answers addWatch with an ErrorResponse{err: 0} body, and the Java client reads it.
  { type: Op.addWatch, name: "addWatch", request: "AddWatchRequest", response: "ErrorResponse" },
  { type: Op.whoAmI, name: "whoAmI", request: null, response: "WhoAmIResponse" },
  { type: Op.closeSession, name: "closeSession", request: null, response: null },
] as const satisfies readonly OpSpec[]

export type OpEntry = (typeof OPS)[number]
const OP_BY_TYPE = new Map<number, OpSpec>(OPS.map((o) => [o.type, o]))

/** The OPS entry for an opcode, or undefined. */
export function opSpec(type: number): OpSpec | undefined {
  return OP_BY_TYPE.get(type)
}

/** Ops allowed inside multi (write) and multiRead (read), with their records (MultiOperationRecord). */
export const MULTI_OPS = [
  { type: Op.create, request: "CreateRequest", kind: "write" },
  { type: Op.create2, request: "CreateRequest", kind: "write" },
  { type: Op.createContainer, request: "CreateRequest", kind: "write" },
  { type: Op.createTTL, request: "CreateTTLRequest", kind: "write" },
  { type: Op.delete, request: "DeleteRequest", kind: "write" },
  { type: Op.setData, request: "SetDataRequest", kind: "write" },
  { type: Op.check, request: "CheckVersionRequest", kind: "write" },
  { type: Op.getData, request: "GetDataRequest", kind: "read" },
  { type: Op.getChildren, request: "GetChildrenRequest", kind: "read" },
] as const satisfies readonly { type: number; request: RecordName; kind: "read" | "write" }[]
const MULTI_OP_BY_TYPE = new Map<number, (typeof MULTI_OPS)[number]>(MULTI_OPS.map((o) => [o.type, o]))

/**
 * Per-op results in a MultiResponse (MultiResponse.serialize): the MultiHeader's type is the
 * result's type, then this record. create -> CreateResponse; create2 (also the result of
 * createTTL/createContainer ops) -> Create2Response; delete, check -> nothing; setData ->
 * SetDataResponse; getData, getChildren (multiRead) -> GetDataResponse, GetChildrenResponse;
 * error (-1; header err = the code) -> ErrorResponse.
 */
export const MULTI_RESULTS = [
  { type: Op.create, response: "CreateResponse" },
  { type: Op.create2, response: "Create2Response" },
  { type: Op.delete, response: null },
  { type: Op.check, response: null },
  { type: Op.setData, response: "SetDataResponse" },
  { type: Op.getData, response: "GetDataResponse" },
  { type: Op.getChildren, response: "GetChildrenResponse" },
  { type: Op.error, response: "ErrorResponse" },
] as const satisfies readonly { type: number; response: RecordName | null }[]
const MULTI_RESULT_BY_TYPE = new Map<number, (typeof MULTI_RESULTS)[number]>(MULTI_RESULTS.map((o) => [o.type, o]))

// ---------------------------------------------------------------------------------------------
// Plain-data types

type Flatten<T> = { [K in keyof T]: T[K] }

type ToMultiOp<E> = E extends { type: infer T; request: infer K extends RecordName } ? { type: T; request: RecordTypes[K] } : never
/** One op of a multi/multiRead request: its opcode and its request record. */
export type MultiOp = ToMultiOp<(typeof MULTI_OPS)[number]>

type ToMultiResult<E> = E extends { type: infer T; response: infer K }
  ? K extends RecordName
    ? Flatten<{ type: T } & RecordTypes[K]>
    : { type: T }
  : never
/** One op's result in a MultiResponse: `type` plus the fields of its response record. */
export type MultiResult = ToMultiResult<(typeof MULTI_RESULTS)[number]>

export interface MultiRequest {
  ops: MultiOp[]
}
export interface MultiResponse {
  results: MultiResult[]
}
export interface RawPathRequest {
  path: string
}

export type RequestPayload<K> = K extends RecordName
  ? RecordTypes[K]
  : K extends "MultiOperationRecord"
    ? MultiRequest
    : K extends "RawPath"
      ? RawPathRequest
      : null

export type ResponseValue<N> = N extends "MultiResponse" ? MultiResponse : N extends RecordName ? RecordTypes[N] : never

type ToRequest<E> = E extends { type: infer T extends number; name: infer N; request: infer K }
  ? { type: T; xid: number; op: N; header: { xid: number; type: T }; request: RequestPayload<K> }
  : never
/**
 * A decoded request. `type`/`xid` repeat the header at top level so that `switch (req.type)`
 * narrows `request` to the opcode's record.
 */
export type ZkRequest = ToRequest<OpEntry>
export type ZkRequestOf<T extends ZkRequest["type"]> = Extract<ZkRequest, { type: T }>

// ---------------------------------------------------------------------------------------------
// Errors

export type ZkDecodeErrorKind =
  /** fewer than 8 bytes: no RequestHeader. ZooKeeper closes the connection. */
  | "header"
  /** an opcode not in OPS. ZooKeeper answers UNIMPLEMENTED (-6) with the xid and keeps going. */
  | "unknown-opcode"
  /** the body does not decode as the opcode's record. ZooKeeper answers MARSHALLINGERROR (-5),
   * except for auth and sasl, which it decodes inline and closes the connection on. */
  | "body"
  /** a ConnectRequest that does not decode. ZooKeeper closes the connection. */
  | "connect"

export class ZkDecodeError extends Error {
  override readonly name = "ZkDecodeError"
  constructor(
    readonly kind: ZkDecodeErrorKind,
    message: string,
    /** the request's xid, when the header was readable */
    readonly xid: number | undefined,
    /** the request's opcode, when the header was readable */
    readonly type: number | undefined,
    cause?: JuteError,
  ) {
    super(message, cause === undefined ? undefined : { cause })
  }

  /**
   * What ZooKeeper does about it: the error code to reply with (to `xid`), or undefined when the
   * connection should be closed instead.
   */
  get replyErr(): number | undefined {
    if (this.kind === "unknown-opcode") return UNIMPLEMENTED
    if (this.kind === "body" && this.type !== Op.auth && this.type !== Op.sasl) return MARSHALLINGERROR
    return undefined
  }
}

// ---------------------------------------------------------------------------------------------
// Multi

/** MultiOperationRecord.serialize. */
export function encodeMultiRequest(req: Encodable<MultiRequest>, w: JuteWriter): void {
  for (const op of req.ops) {
    const spec = MULTI_OP_BY_TYPE.get(op.type)
    if (spec === undefined) throw new TypeError(`multi: op type ${op.type} cannot be part of a multi`)
    encodeRecord("MultiHeader", { type: op.type, done: false, err: -1 }, w)
    encodeRecord(spec.request, op.request as never, w)
  }
  encodeRecord("MultiHeader", { type: -1, done: true, err: -1 }, w)
}

/**
 * MultiOperationRecord.deserialize: ops until a header with done = true (its type and err are not
 * looked at). An op type outside MULTI_OPS, or read ops mixed with write ops, is malformed, as is
 * a kind that does not match `expect` (multi takes write ops, multiRead read ops).
 */
export function decodeMultiRequest(r: JuteReader, expect?: "read" | "write"): MultiRequest {
  const ops: MultiOp[] = []
  let kind: "read" | "write" | undefined
  for (;;) {
    const at = r.offset
    const h = decodeRecord("MultiHeader", r)
    if (h.done) break
    const spec = MULTI_OP_BY_TYPE.get(h.type)
    if (spec === undefined) throw new JuteError("malformed", `multi: op type ${h.type} is not allowed in a multi`, at)
    if (kind !== undefined && spec.kind !== kind) throw new JuteError("malformed", "multi: read and write ops mixed", at)
    if (expect !== undefined && spec.kind !== expect) throw new JuteError("malformed", `multi: ${spec.kind} op in a ${expect} multi`, at)
    kind = spec.kind
    ops.push({ type: spec.type, request: decodeRecord(spec.request, r) } as MultiOp)
  }
  return { ops }
}

/** MultiResponse.serialize. */
export function encodeMultiResponse(rsp: Encodable<MultiResponse>, w: JuteWriter): void {
  for (const res of rsp.results) {
    const spec = MULTI_RESULT_BY_TYPE.get(res.type)
    if (spec === undefined) throw new TypeError(`multi: result type ${res.type} is not a multi result`)
    const err = res.type === Op.error ? (res as { err: number }).err : 0
    encodeRecord("MultiHeader", { type: res.type, done: false, err }, w)
    if (spec.response !== null) encodeRecord(spec.response, res as never, w)
  }
  encodeRecord("MultiHeader", { type: -1, done: true, err: -1 }, w)
}

/** MultiResponse.deserialize. An error result's code is taken from its ErrorResponse, as Java does. */
export function decodeMultiResponse(r: JuteReader): MultiResponse {
  const results: MultiResult[] = []
  for (;;) {
    const at = r.offset
    const h = decodeRecord("MultiHeader", r)
    if (h.done) break
    const spec = MULTI_RESULT_BY_TYPE.get(h.type)
    if (spec === undefined) throw new JuteError("malformed", `multi: result type ${h.type} is not a multi result`, at)
    const body = spec.response === null ? {} : decodeRecord(spec.response, r)
    results.push({ type: spec.type, ...body } as MultiResult)
  }
  return { results }
}

// ---------------------------------------------------------------------------------------------
// Bodies by kind

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true })

function decodePayload(kind: RequestKind, r: JuteReader, type: number): unknown {
  if (kind === null) return null
  if (kind === "MultiOperationRecord") return decodeMultiRequest(r, type === Op.multiRead ? "read" : "write")
  if (kind === "RawPath") return { path: utf8.decode(r.rest()) }
  return decodeRecord(kind, r)
}

function encodePayload(kind: RequestKind, v: unknown, w: JuteWriter): void {
  if (kind === null) return
  if (kind === "MultiOperationRecord") return encodeMultiRequest(v as Encodable<MultiRequest>, w)
  if (kind === "RawPath") {
    w.raw(new TextEncoder().encode((v as RawPathRequest).path))
    return
  }
  encodeRecord(kind, v as never, w)
}

/** Appends a response body: a record, or "MultiResponse". */
export function encodeResponse<N extends ResponseName>(name: N, value: Encodable<ResponseValue<N>>, w: JuteWriter): void {
  if (name === "MultiResponse") encodeMultiResponse(value as Encodable<MultiResponse>, w)
  else encodeRecord(name as RecordName, value as never, w)
}

export function decodeResponse<N extends ResponseName>(name: N, r: JuteReader): ResponseValue<N> {
  if (name === "MultiResponse") return decodeMultiResponse(r) as ResponseValue<N>
  return decodeRecord(name as RecordName, r) as ResponseValue<N>
}

/** int32 length prefix + whatever `body` writes. */
function frame(body: (w: JuteWriter) => void): Uint8Array {
  const w = new JuteWriter()
  w.int(0)
  body(w)
  w.setInt(0, w.length - 4)
  return w.finish()
}

// ---------------------------------------------------------------------------------------------
// Server side

/**
 * Decodes one frame body (no length prefix) as RequestHeader + the opcode's request. Throws only
 * ZkDecodeError (kind "header", "unknown-opcode" or "body"); see ZkDecodeError.replyErr for what
 * ZooKeeper does about each. Trailing bytes after the request are ignored, as in ZooKeeper.
 */
export function decodeRequest(frameBody: Uint8Array): ZkRequest {
  if (frameBody.length < 8) throw new ZkDecodeError("header", `request of ${frameBody.length} byte(s) has no header`, undefined, undefined)
  const r = new JuteReader(frameBody)
  const { xid, type } = decodeRecord("RequestHeader", r)
  const spec = OP_BY_TYPE.get(type)
  if (spec === undefined) throw new ZkDecodeError("unknown-opcode", `unknown opcode ${type}`, xid, type)
  let request: unknown
  try {
    request = decodePayload(spec.request, r, type)
  } catch (e) {
    if (e instanceof JuteError) throw new ZkDecodeError("body", `${spec.name} request: ${e.message}`, xid, type, e)
    throw e
  }
  return { type, xid, op: spec.name, header: { xid, type }, request } as ZkRequest
}

/**
 * A whole reply frame (length-prefixed): ReplyHeader{xid, zxid, err}, then `response` encoded as
 * `responseName` when both are given. ZooKeeper sends a body only on success (the client reads
 * one only when err is 0); pass none with a non-zero err.
 */
export function encodeReply<N extends ResponseName>(
  xid: number,
  zxid: bigint | number,
  err: number,
  responseName?: N,
  response?: Encodable<ResponseValue<N>>,
): Uint8Array {
  if (responseName !== undefined && response === undefined) throw new TypeError(`encodeReply: ${responseName} given without a value`)
  if (responseName === undefined && response !== undefined) throw new TypeError("encodeReply: a response value without its record name")
  return frame((w) => {
    encodeRecord("ReplyHeader", { xid, zxid, err }, w)
    if (responseName !== undefined) encodeResponse(responseName, response as Encodable<ResponseValue<N>>, w)
  })
}

export function isResponseName(s: string): s is ResponseName {
  return s === "MultiResponse" || isRecordName(s)
}

/**
 * encodeReply for callers that pick the response record at run time (e.g. from OPS): the name
 * and the value's shape are checked when encoding, and a mismatch throws TypeError.
 */
export function encodeReplyDynamic(
  xid: number,
  zxid: bigint | number,
  err: number,
  responseName?: string | null,
  response?: unknown,
): Uint8Array {
  if (responseName === undefined || responseName === null) return encodeReply(xid, zxid, err)
  if (!isResponseName(responseName)) throw new TypeError(`encodeReply: ${responseName} is not a response record`)
  return encodeReply(xid, zxid, err, responseName, response as Encodable<ResponseValue<ResponseName>>)
}

/**
 * A watch notification frame: ReplyHeader{xid -1, zxid, err 0} + WatcherEvent{type, state, path}.
 * ZooKeeper up to 3.8 always sends zxid -1 (the default); 3.9 sends the zxid of the change that
 * fired the watch (WatchedEvent.getZxid), which 3.9 clients expose; older clients ignore it.
 */
export function encodeNotification(type: number, state: number, path: string | null, zxid: bigint | number = -1): Uint8Array {
  return frame((w) => {
    encodeRecord("ReplyHeader", { xid: Xid.notification, zxid, err: 0 }, w)
    encodeRecord("WatcherEvent", { type, state, path }, w)
  })
}

export interface DecodedConnectRequest extends ConnectRequest {
  /** true when the trailing readOnly byte was absent (clients before 3.4); readOnly is then false */
  oldClient: boolean
}

/**
 * The first frame of a connection. The trailing readOnly boolean is optional, as in ZooKeeper's
 * ProtocolManager; trailing bytes after it are ignored. Throws ZkDecodeError (kind "connect").
 */
export function decodeConnectRequest(body: Uint8Array): DecodedConnectRequest {
  try {
    const v = decodeRecordOptionalTail("ConnectRequest", new JuteReader(body), 1)
    const oldClient = v.readOnly === undefined
    return { ...(v as ConnectRequest), readOnly: v.readOnly ?? false, oldClient }
  } catch (e) {
    if (e instanceof JuteError) throw new ZkDecodeError("connect", `connect request: ${e.message}`, undefined, undefined, e)
    throw e
  }
}

/** The handshake reply frame; readOnly is always written, as ZooKeeper 3.9 does. */
export function encodeConnectResponse(rsp: Encodable<ConnectResponse>): Uint8Array {
  return frame((w) => encodeRecord("ConnectResponse", rsp, w))
}

// ---------------------------------------------------------------------------------------------
// Client side (tests, tools)

/** A whole request frame: RequestHeader{xid, type} + the opcode's request. */
export function encodeRequest<T extends ZkRequest["type"]>(xid: number, type: T, request: Encodable<ZkRequestOf<T>["request"]>): Uint8Array {
  const spec = OP_BY_TYPE.get(type)
  if (spec === undefined) throw new TypeError(`encodeRequest: unknown opcode ${type}`)
  return frame((w) => {
    encodeRecord("RequestHeader", { xid, type }, w)
    encodePayload(spec.request, request, w)
  })
}

/** A ConnectRequest frame; `omitReadOnly` drops the trailing readOnly byte, like a pre-3.4 client. */
export function encodeConnectRequest(req: Encodable<ConnectRequest>, options: { omitReadOnly?: boolean } = {}): Uint8Array {
  const body = recordToBytes("ConnectRequest", req)
  return frame((w) => w.raw(options.omitReadOnly ? body.subarray(0, body.length - 1) : body))
}

/** ConnectResponse from a frame body; readOnly optional (servers before 3.4 omit it). */
export function decodeConnectResponse(body: Uint8Array): ConnectResponse {
  const v = decodeRecordOptionalTail("ConnectResponse", new JuteReader(body), 1)
  return { ...(v as ConnectResponse), readOnly: v.readOnly ?? false }
}

/**
 * A reply frame body: the header, then (when err is 0 and `responseName` is given, like
 * ClientCnxn) the response; a notification (xid -1) is a reply with a "WatcherEvent" response.
 * Throws JuteError on malformed input.
 */
export function decodeReply<N extends ResponseName>(
  body: Uint8Array,
  responseName?: N,
): { header: ReplyHeader; response: ResponseValue<N> | undefined } {
  const r = new JuteReader(body)
  const header = decodeRecord("ReplyHeader", r)
  const response = responseName !== undefined && header.err === 0 ? decodeResponse(responseName, r) : undefined
  return { header, response }
}
