/**
 * The Kafka APIs by key, and which header versions frame them. Request header v1 (api key,
 * version, correlation id, client id) for classic versions, v2 (plus tagged fields) for flexible
 * ones; response header v0 (correlation id) or v1 (plus tagged fields). ApiVersions responses
 * always use v0, so that a client that does not know the broker yet can read the answer.
 */
import { MESSAGES } from "./messages.generated.ts"
import { inRange, type MessageSpec } from "./schema.ts"

export interface Api {
  readonly key: number
  /** The schema's name without "Request", e.g. "ApiVersions". */
  readonly name: string
  readonly request: MessageSpec
  readonly response: MessageSpec
}

const byKey = new Map<number, { request?: MessageSpec; response?: MessageSpec }>()
for (const m of MESSAGES) {
  if (m.kind === "header") continue
  const e = byKey.get(m.apiKey) ?? {}
  e[m.kind] = m
  byKey.set(m.apiKey, e)
}

export const APIS: ReadonlyMap<number, Api> = new Map(
  [...byKey].flatMap(([key, e]) => (e.request && e.response ? [[key, { key, name: e.request.name.replace(/Request$/, ""), request: e.request, response: e.response }] as const] : [])),
)

const header = (name: string) => {
  const m = MESSAGES.find((x) => x.name === name)
  if (!m) throw new Error(`no ${name} in messages.generated.ts`)
  return m
}
export const REQUEST_HEADER = header("RequestHeader")
export const RESPONSE_HEADER = header("ResponseHeader")

export const API_VERSIONS_KEY = 18

export const isFlexibleVersion = (api: Api, version: number) => inRange(api.request.flexibleVersions, version)
export const requestHeaderVersion = (api: Api, version: number) => (isFlexibleVersion(api, version) ? 2 : 1)
export const responseHeaderVersion = (api: Api, version: number) => (api.key !== API_VERSIONS_KEY && isFlexibleVersion(api, version) ? 1 : 0)
