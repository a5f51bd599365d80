/**
 * Kafka request and response frames: a request is `int32 size, header, body`, the header's
 * version chosen by the API's flexible versions (apis.ts); a response is `int32 size, header,
 * body` at the request's version. Parsing reports what went wrong in terms a broker can act on:
 * an unknown API or version (answered, for ApiVersions, with the v0-layout UNSUPPORTED_VERSION
 * reply that clients use to step down), or a malformed request (the connection is closed, as
 * Kafka does).
 */
import { API_VERSIONS_KEY, APIS, REQUEST_HEADER, RESPONSE_HEADER, requestHeaderVersion, responseHeaderVersion, type Api } from "./apis.ts"
import { decodeMessage, encodeMessage, KafkaDecodeError, Reader, Writer, type KafkaValue } from "./codec.ts"
import type { VersionRange } from "./schema.ts"

export const UNSUPPORTED_VERSION = 35
export const INVALID_REQUEST = 42

export interface RequestHeader {
  readonly apiKey: number
  readonly apiVersion: number
  readonly correlationId: number
  readonly clientId: string | null
}

export type ParsedRequest =
  | { readonly ok: true; readonly api: Api; readonly header: RequestHeader; readonly body: KafkaValue }
  /** A version (or API) this broker does not serve: answer if `reply` is set, else close. */
  | { readonly ok: false; readonly kind: "unsupported"; readonly header: RequestHeader; readonly reply?: Uint8Array; readonly message: string }
  /** Bytes that are not a request of the version they claim: close the connection. */
  | { readonly ok: false; readonly kind: "malformed"; readonly header?: RequestHeader; readonly message: string }

/**
 * Parses one request frame (without its size prefix). `supported` maps API keys to the version
 * ranges this broker serves, which is also what ApiVersions advertises.
 */
export function parseRequest(frame: Uint8Array, supported: ReadonlyMap<number, VersionRange>): ParsedRequest {
  if (frame.length < 8) return { ok: false, kind: "malformed", message: `request of ${frame.length} bytes is shorter than a header` }
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  const apiKey = view.getInt16(0)
  const apiVersion = view.getInt16(2)
  const correlationId = view.getInt32(4)
  const bare: RequestHeader = { apiKey, apiVersion, correlationId, clientId: null }
  const api = APIS.get(apiKey)
  const range = supported.get(apiKey)
  if (!api || !range) return { ok: false, kind: "unsupported", header: bare, message: `unsupported API key ${apiKey}` }
  if (apiVersion < range.min || apiVersion > range.max) {
    // Kafka answers an ApiVersions request it cannot parse with a v0 response carrying
    // UNSUPPORTED_VERSION and its own ApiVersions range, whatever version was asked.
    const reply = apiKey === API_VERSIONS_KEY ? encodeResponse(api, 0, correlationId, { errorCode: UNSUPPORTED_VERSION, apiKeys: [{ apiKey, minVersion: range.min, maxVersion: range.max }] }) : undefined
    return { ok: false, kind: "unsupported", header: bare, ...(reply ? { reply } : {}), message: `${api.name} v${apiVersion} is not supported (${range.min}-${range.max})` }
  }
  const r = new Reader(frame)
  try {
    const h = decodeMessage(r, REQUEST_HEADER, requestHeaderVersion(api, apiVersion))
    const header: RequestHeader = { apiKey, apiVersion, correlationId, clientId: (h.clientId as string | null) ?? null }
    const body = decodeMessage(r, api.request, apiVersion)
    // ApiVersions is read leniently, as Kafka does: a newer client may send fields we do not know.
    if (r.remaining !== 0 && apiKey !== API_VERSIONS_KEY)
      return { ok: false, kind: "malformed", header, message: `${api.name} v${apiVersion}: ${r.remaining} stray bytes after the request` }
    return { ok: true, api, header, body }
  } catch (e) {
    if (e instanceof KafkaDecodeError) return { ok: false, kind: "malformed", header: bare, message: `${api.name} v${apiVersion}: ${e.message}` }
    throw e
  }
}

/** A whole response frame: size prefix, response header for the API and version, body. */
export function encodeResponse(api: Api, version: number, correlationId: number, body: KafkaValue): Uint8Array {
  const w = new Writer()
  const size = w.placeholder32()
  encodeMessage(w, RESPONSE_HEADER, responseHeaderVersion(api, version), { correlationId })
  encodeMessage(w, api.response, version, body)
  w.patch32(size, w.length - 4)
  return w.finish()
}

/** A whole request frame, as a client writes it (used by tests and the CLI tools). */
export function encodeRequest(api: Api, version: number, header: Omit<RequestHeader, "apiKey" | "apiVersion">, body: KafkaValue): Uint8Array {
  const w = new Writer()
  const size = w.placeholder32()
  encodeMessage(w, REQUEST_HEADER, requestHeaderVersion(api, version), { requestApiKey: api.key, requestApiVersion: version, ...header })
  encodeMessage(w, api.request, version, body)
  w.patch32(size, w.length - 4)
  return w.finish()
}
