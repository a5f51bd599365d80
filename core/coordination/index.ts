/**
 * `sequent/coordination`: ZooKeeper's znode tree as a deterministic state machine, plus the
 * per-server pieces around it (sessions, watches, housekeeping). See README.md.
 */
export * from "./types.ts"
export { Err, errName } from "./errors.ts"
export { DataTree, type Applied, type Failure, type ReadResult, type SessionInfo } from "./tree.ts"
export { encodeTxn, decodeTxn } from "./txn-codec.ts"
export { DecodeError } from "./binary.ts"
export {
  checkAcl,
  fixupAcl,
  digestId,
  ipMatches,
  isValidAclId,
  redactAcl,
  ANYONE_ID,
  AUTH_IDS,
  OPEN_ACL_UNSAFE,
  READ_ACL_UNSAFE,
  CREATOR_ALL_ACL,
} from "./acl.ts"
export { SessionTracker, negotiateTimeout } from "./sessions.ts"
export { WatchManager, type WatchKind, type Notification, type WatchRestore } from "./watches.ts"
export { containersToDelete } from "./housekeeping.ts"
export {
  validatePath,
  isValidPath,
  parentOf,
  basename,
  childPath,
  formatSequence,
} from "./path.ts"
export {
  statOf,
  nodeKind,
  ttlOf,
  ttlOwner,
  isCollectable,
  CONTAINER_OWNER,
  MAX_TTL,
  type NodeKind,
  type ZnodeView,
} from "./znode.ts"
export { treeInvariants, checkTreeInvariants, type TreeInvariant } from "./invariants.ts"
