/**
 * ACLs as ZooKeeper's server evaluates them: permission checks (ZooKeeperServer.checkACL), the
 * normalisation of a requested ACL list (PrepRequestProcessor.fixupACL), and the id formats of
 * the two built-in authentication providers, digest and ip.
 */
import { createHash } from "node:crypto"
import { isIP } from "node:net"
import { Perms, type ACL, type Id } from "./types.ts"

export const ANYONE_ID: Id = { scheme: "world", id: "anyone" }
/** In an ACL given to create or setACL: "every id the requester has authenticated as". */
export const AUTH_IDS: Id = { scheme: "auth", id: "" }

/** ZooDefs.Ids.OPEN_ACL_UNSAFE */
export const OPEN_ACL_UNSAFE: readonly ACL[] = [{ perms: Perms.ALL, id: ANYONE_ID }]
/** ZooDefs.Ids.READ_ACL_UNSAFE */
export const READ_ACL_UNSAFE: readonly ACL[] = [{ perms: Perms.READ, id: ANYONE_ID }]
/** ZooDefs.Ids.CREATOR_ALL_ACL */
export const CREATOR_ALL_ACL: readonly ACL[] = [{ perms: Perms.ALL, id: AUTH_IDS }]

/**
 * May a requester holding `auth` ids do `perm` on a node with `acl`? An empty ACL allows
 * everything, and a "super" id (added by the server when the super digest matches) bypasses ACLs.
 */
export function checkAcl(acl: readonly ACL[], auth: readonly Id[], perm: number): boolean {
  if (acl.length === 0) return true
  if (auth.some((a) => a.scheme === "super")) return true
  for (const entry of acl) {
    if ((entry.perms & perm) === 0) continue
    const { scheme, id } = entry.id
    if (scheme === "world" && id === "anyone") return true
    for (const a of auth) {
      if (a.scheme !== scheme) continue
      if (scheme === "digest" && a.id === id) return true
      if (scheme === "ip" && ipMatches(a.id, id)) return true
    }
  }
  return false
}

/**
 * The ACL a create or setACL stores, or undefined for INVALIDACL: duplicates dropped, "auth"
 * expanded to the requester's ids from providers that authenticate (digest; ip does not), every
 * other id checked by its provider. Only world:anyone, digest and ip are known.
 */
export function fixupAcl(acl: readonly ACL[], auth: readonly Id[]): readonly ACL[] | undefined {
  const unique: ACL[] = []
  for (const a of acl) {
    if (!unique.some((u) => sameAcl(u, a))) unique.push(a)
  }
  if (unique.length === 0) return undefined
  const out: ACL[] = []
  for (const a of unique) {
    const { scheme, id } = a.id
    if (scheme === "world" && id === "anyone") {
      out.push(a)
    } else if (scheme === "auth") {
      const ids = auth.filter((x) => x.scheme === "digest")
      if (ids.length === 0) return undefined
      for (const x of ids) out.push({ perms: a.perms, id: x })
    } else if (!isValidAclId(a.id)) {
      return undefined
    } else {
      out.push(a)
    }
  }
  return out
}

function sameAcl(a: ACL, b: ACL): boolean {
  return a.perms === b.perms && a.id.scheme === b.id.scheme && a.id.id === b.id.id
}

/** Would the provider for `id.scheme` accept `id.id` in an ACL? */
export function isValidAclId(id: Id): boolean {
  if (id.scheme === "digest") return javaSplitCount(id.id, ":") === 2
  if (id.scheme === "ip") return parseIpAcl(id.id) !== undefined
  return false
}

/** Length of Java's `s.split(sep)`: trailing empty strings are dropped (but "" gives [""]). */
function javaSplitCount(s: string, sep: string): number {
  if (s === "") return 1
  const parts = s.split(sep)
  while (parts.length > 0 && parts[parts.length - 1] === "") parts.pop()
  return parts.length
}

/** ZooKeeper's digest id for "user:password": "user:" + base64(sha1("user:password")). */
export function digestId(userPassword: string): string {
  const colon = userPassword.indexOf(":")
  const user = colon === -1 ? userPassword : userPassword.slice(0, colon)
  return `${user}:${createHash("sha1").update(userPassword, "utf8").digest("base64")}`
}

/**
 * What getACL shows a requester without ADMIN: digest hashes replaced by "x", so READ access does
 * not hand out password hashes to brute-force.
 */
export function redactAcl(acl: readonly ACL[]): ACL[] {
  return acl.map((a) =>
    a.id.scheme === "digest" ? { perms: a.perms, id: { scheme: "digest", id: a.id.id.replace(/:.*/s, ":x") } } : a,
  )
}

/** Does address `addr` (the requester's ip id) fall in `aclExpr` ("10.0.0.1" or "10.0.0.0/8")? */
export function ipMatches(addr: string, aclExpr: string): boolean {
  const acl = parseIpAcl(aclExpr)
  const remote = ipBytes(addr)
  if (acl === undefined || remote === undefined || remote.length !== acl.bytes.length) return false
  for (let i = 0; i < remote.length; i++) {
    const bits = Math.max(0, Math.min(8, acl.bits - i * 8))
    const mask = (0xff << (8 - bits)) & 0xff
    if ((remote[i]! & mask) !== (acl.bytes[i]! & mask)) return false
  }
  return true
}

function parseIpAcl(expr: string): { bytes: Uint8Array; bits: number } | undefined {
  const slash = expr.indexOf("/")
  const bytes = ipBytes(slash === -1 ? expr : expr.slice(0, slash))
  if (bytes === undefined) return undefined
  if (slash === -1) return { bytes, bits: bytes.length * 8 }
  const bits = parseJavaInt(expr.slice(slash + 1))
  if (bits === undefined || bits < 0 || bits > bytes.length * 8) return undefined
  return { bytes, bits }
}

/** Integer.parseInt's accepted syntax: optional sign, decimal digits. */
function parseJavaInt(s: string): number | undefined {
  if (!/^[+-]?\d{1,10}$/.test(s)) return undefined
  const n = Number(s)
  return n >= -2147483648 && n <= 2147483647 ? n : undefined
}

/**
 * Address bytes, 4 for IPv4 and 16 for IPv6. An IPv4-mapped IPv6 address ("::ffff:10.0.0.1",
 * what a dual-stack Node socket reports for an IPv4 peer) counts as IPv4, as Java reports it.
 */
function ipBytes(addr: string): Uint8Array | undefined {
  const v4 = ipv4Bytes(addr)
  if (v4 !== undefined) return v4
  if (isIP(addr) !== 6) return undefined
  const bytes = ipv6Bytes(addr)
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return bytes.slice(12)
  }
  return bytes
}

/** IPAuthenticationProvider.v4addr2Bytes: four Integer.parseInt parts, each 0..255. */
function ipv4Bytes(addr: string): Uint8Array | undefined {
  const parts = addr.split(".")
  if (parts.length !== 4) return undefined
  const out = new Uint8Array(4)
  for (let i = 0; i < 4; i++) {
    const v = parseJavaInt(parts[i]!)
    if (v === undefined || v < 0 || v > 255) return undefined
    out[i] = v
  }
  return out
}

/** Bytes of an address `net.isIP` accepts as IPv6 (zone ids are not allowed there). */
function ipv6Bytes(addr: string): Uint8Array {
  const groups = (s: string): number[] => {
    if (s === "") return []
    const out: number[] = []
    for (const g of s.split(":")) {
      if (g.includes(".")) {
        const v4 = ipv4Bytes(g)!
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
      } else {
        out.push(parseInt(g, 16))
      }
    }
    return out
  }
  const gap = addr.indexOf("::")
  const head = groups(gap === -1 ? addr : addr.slice(0, gap))
  const tail = gap === -1 ? [] : groups(addr.slice(gap + 2))
  const all = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail]
  const out = new Uint8Array(16)
  all.forEach((g, i) => {
    out[2 * i] = g >> 8
    out[2 * i + 1] = g & 0xff
  })
  return out
}
