/**
 * What the leader's periodic sweep (ZooKeeper's ContainerManager) should remove: empty containers
 * that have had children, and empty TTL nodes unmodified for longer than their ttl. The leader
 * proposes a `deleteContainer` for each; `DataTree.apply` re-checks with the same predicate at
 * the transaction's time, so a node used in the meantime survives.
 */
import type { DataTree } from "./tree.ts"
import { isCollectable } from "./znode.ts"

/** Paths to collect at time `now`, sorted. */
export function containersToDelete(tree: DataTree, now: number): string[] {
  const out: string[] = []
  for (const [path, node] of tree.entries()) if (isCollectable(node, now)) out.push(path)
  return out.sort()
}
