/**
 * Properties every reachable tree has, for tests and simulations to check after each step. Each
 * is a pure function answering a violation message, or undefined when the tree satisfies it.
 */
import { isValidPath, parentOf, basename } from "./path.ts"
import type { DataTree } from "./tree.ts"
import { nodeKind, sessionOwner } from "./znode.ts"

export type TreeInvariant = (tree: DataTree) => string | undefined

const BUILT_IN = new Set(["/", "/zookeeper", "/zookeeper/quota", "/zookeeper/config"])

/** Every node's path is valid, and every node but the root is listed by its parent. */
export function PathsFormATree(tree: DataTree): string | undefined {
  if (tree.node("/") === undefined) return "the root is missing"
  for (const path of BUILT_IN) if (tree.node(path) === undefined) return `${path} is missing`
  for (const [path] of tree.entries()) {
    if (!isValidPath(path)) return `invalid path ${JSON.stringify(path)}`
    if (path === "/") continue
    const parent = tree.node(parentOf(path))
    if (parent === undefined) return `${path} has no parent`
    if (!parent.children.has(basename(path))) return `${parentOf(path)} does not list its child ${path}`
  }
  return undefined
}

/** A node's child list names exactly the nodes below it (so numChildren is right). */
export function NumChildrenMatches(tree: DataTree): string | undefined {
  const counted = new Map<string, number>()
  for (const [path] of tree.entries()) {
    if (path !== "/") counted.set(parentOf(path), (counted.get(parentOf(path)) ?? 0) + 1)
  }
  for (const [path, node] of tree.entries()) {
    const actual = counted.get(path) ?? 0
    if (node.children.size !== actual) return `${path} lists ${node.children.size} children but has ${actual}`
  }
  return undefined
}

/** Every ephemeral belongs to a live session, and the session index agrees with the nodes. */
export function EphemeralsHaveLiveSessions(tree: DataTree): string | undefined {
  const byOwner = new Map<bigint, string[]>()
  for (const [path, node] of tree.entries()) {
    const owner = sessionOwner(node)
    if (owner === undefined) continue
    if (tree.session(owner) === undefined) return `ephemeral ${path} belongs to dead session ${owner}`
    byOwner.set(owner, [...(byOwner.get(owner) ?? []), path])
  }
  for (const s of tree.sessions()) {
    const indexed = tree.getEphemerals(s.id, "/").join(",")
    const actual = (byOwner.get(s.id) ?? []).sort().join(",")
    if (indexed !== actual) return `session ${s.id} indexes [${indexed}] but owns [${actual}]`
  }
  return undefined
}

export function EphemeralsHaveNoChildren(tree: DataTree): string | undefined {
  for (const [path, node] of tree.entries()) {
    if (nodeKind(node.ephemeralOwner) === "ephemeral" && node.children.size > 0) return `ephemeral ${path} has children`
  }
  return undefined
}

/** A parent's pzxid is at least the creation zxid of each child (it moved when the child was added). */
export function ParentPzxidCoversChildren(tree: DataTree): string | undefined {
  for (const [path, node] of tree.entries()) {
    if (path === "/") continue
    const parent = tree.node(parentOf(path))!
    if (parent.pzxid < node.czxid) return `${parentOf(path)} has pzxid ${parent.pzxid} below child ${path}'s czxid ${node.czxid}`
  }
  return undefined
}

/** No zxid stamped on a node is later than the last transaction applied, and none went backwards. */
export function ZxidsNotInFuture(tree: DataTree): string | undefined {
  for (const [path, n] of tree.entries()) {
    const latest = Math.max(n.czxid, n.mzxid, n.pzxid)
    if (latest > tree.lastZxid) return `${path} carries zxid ${latest} beyond lastZxid ${tree.lastZxid}`
    if (n.mzxid < n.czxid || n.pzxid < n.czxid) return `${path} was modified before it was created`
  }
  for (const s of tree.sessions()) {
    if (s.id > BigInt(tree.lastZxid)) return `session ${s.id} was created after lastZxid ${tree.lastZxid}`
  }
  return undefined
}

/** A node created children at least as often as it has them (the built-ins were never created). */
export function CversionCoversChildren(tree: DataTree): string | undefined {
  for (const [path, n] of tree.entries()) {
    if (BUILT_IN.has(path)) continue
    if (n.cversion >= 0 && n.cversion < n.children.size) return `${path} has ${n.children.size} children but cversion ${n.cversion}`
  }
  return undefined
}

export const treeInvariants = {
  PathsFormATree,
  NumChildrenMatches,
  EphemeralsHaveLiveSessions,
  EphemeralsHaveNoChildren,
  ParentPzxidCoversChildren,
  ZxidsNotInFuture,
  CversionCoversChildren,
} as const satisfies Record<string, TreeInvariant>

/** Every violated invariant, as "Name: message". */
export function checkTreeInvariants(tree: DataTree): string[] {
  const out: string[] = []
  for (const [name, inv] of Object.entries(treeInvariants)) {
    const v = inv(tree)
    if (v !== undefined) out.push(`${name}: ${v}`)
  }
  return out
}
