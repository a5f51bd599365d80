/**
 * A znode as the tree stores it (ZooKeeper's DataNode with its StatPersisted), and how that
 * becomes the `Stat` a client sees.
 *
 * Two stored fields differ from what clients are shown, exactly as in ZooKeeper:
 * - `cversion` counts child creations (it is the sequential-node counter); clients see the
 *   number of child changes, creations plus deletions, computed as 2 * cversion - numChildren.
 *   That is why a fresh root reports cversion -1: it holds /zookeeper without having created it.
 * - `ephemeralOwner` also encodes containers and TTL nodes (see `nodeKind`); clients see 0 for
 *   those and the owning session only for true ephemerals.
 */
import type { ACL, SessionId, Stat } from "./types.ts"

export interface Znode {
  data: Uint8Array
  acl: readonly ACL[]
  czxid: number
  mzxid: number
  ctime: number
  mtime: number
  version: number
  /** Child creations so far (int32, wraps like Java's int). */
  cversion: number
  aversion: number
  /** Session id, `CONTAINER_OWNER`, `ttlOwner(ttl)`, or 0n for a plain persistent node. */
  ephemeralOwner: bigint
  pzxid: number
  /** Child names (not paths). */
  readonly children: Set<string>
}

/** A stored znode as code outside the tree sees it (the data bytes must not be written either). */
export type ZnodeView = Readonly<Omit<Znode, "children">> & { readonly children: ReadonlySet<string> }

/** EphemeralType.CONTAINER_EPHEMERAL_OWNER (Long.MIN_VALUE as an unsigned 64-bit value). */
export const CONTAINER_OWNER = 0x8000000000000000n
const EXTENDED_MASK = 0xff00000000000000n
/** EphemeralType.TTL's limit: the low 40 bits hold the ttl in milliseconds. */
export const MAX_TTL = 0xffffffffff

export function ttlOwner(ttlMs: number): bigint {
  return EXTENDED_MASK | BigInt(ttlMs)
}

export type NodeKind = "persistent" | "ephemeral" | "container" | "ttl"

/** EphemeralType.get with extended types enabled (session ids never have the top byte 0xFF). */
export function nodeKind(owner: bigint): NodeKind {
  if (owner === 0n) return "persistent"
  if (owner === CONTAINER_OWNER) return "container"
  if ((owner & EXTENDED_MASK) === EXTENDED_MASK) return "ttl"
  return "ephemeral"
}

/** The ttl of a TTL node's owner field. */
export function ttlOf(owner: bigint): number {
  return Number(owner & BigInt(MAX_TTL))
}

export function sessionOwner(node: ZnodeView): SessionId | undefined {
  return nodeKind(node.ephemeralOwner) === "ephemeral" ? node.ephemeralOwner : undefined
}

/**
 * Should the leader's housekeeping remove this node at time `now`? An empty container that has
 * had a child (a never-used container is kept so its creator has time to fill it), or an empty
 * TTL node left unmodified for longer than its ttl (ContainerManager.getCandidates).
 */
export function isCollectable(node: ZnodeView, now: number): boolean {
  if (node.children.size > 0) return false
  const kind = nodeKind(node.ephemeralOwner)
  if (kind === "container") return node.cversion > 0
  if (kind === "ttl") return node.mtime + ttlOf(node.ephemeralOwner) < now
  return false
}

/** DataNode.copyStat: the Stat a client is sent. */
export function statOf(node: ZnodeView): Stat {
  const numChildren = node.children.size
  return {
    czxid: node.czxid,
    mzxid: node.mzxid,
    ctime: node.ctime,
    mtime: node.mtime,
    version: node.version,
    cversion: (Math.imul(node.cversion, 2) - numChildren) | 0,
    aversion: node.aversion,
    ephemeralOwner: nodeKind(node.ephemeralOwner) === "ephemeral" ? node.ephemeralOwner : 0n,
    dataLength: node.data.length,
    numChildren,
    pzxid: node.pzxid,
  }
}
