/**
 * The coordination service's data types: what a znode looks like, what is replicated, and what
 * applying a replicated transaction answers.
 *
 * The replicated unit is a `CoordTxn`: one client request (or a server decision such as a
 * session expiry), already validated by the server that proposed it, stamped with the proposer's
 * wall-clock time and the requester's authenticated ids. Every replica applies the same
 * `CoordTxn`s in zxid order with `DataTree.apply`, which is deterministic: same txns, same tree,
 * same results. Time enters only through `CoordTxn.time`, randomness only through
 * `createSession.passwd`.
 *
 * Integers that ZooKeeper sends as int64 and that can exceed 2^53 (session ids, ephemeral
 * owners) are `bigint`; zxids and times stay `number` (zxids are epoch * 2^32 + counter, safe for
 * epochs below 2^21; times are milliseconds since 1970).
 */

export type SessionId = bigint

/** An identity: `world:anyone`, `digest:user:base64(sha1(user:pw))`, `ip:10.0.0.1`, `auth:`. */
export interface Id {
  readonly scheme: string
  readonly id: string
}

export interface ACL {
  readonly perms: number
  readonly id: Id
}

/** ZooKeeper's permission bits (ZooDefs.Perms). */
export const Perms = { READ: 1, WRITE: 2, CREATE: 4, DELETE: 8, ADMIN: 16, ALL: 31 } as const

/** ZooKeeper's create modes (CreateMode.toFlag). */
export const CreateMode = {
  PERSISTENT: 0,
  EPHEMERAL: 1,
  PERSISTENT_SEQUENTIAL: 2,
  EPHEMERAL_SEQUENTIAL: 3,
  CONTAINER: 4,
  PERSISTENT_WITH_TTL: 5,
  PERSISTENT_SEQUENTIAL_WITH_TTL: 6,
} as const
export type CreateMode = (typeof CreateMode)[keyof typeof CreateMode]

/** Stat as ZooKeeper defines it (org.apache.zookeeper.data.Stat). */
export interface Stat {
  readonly czxid: number
  readonly mzxid: number
  readonly ctime: number
  readonly mtime: number
  readonly version: number
  readonly cversion: number
  readonly aversion: number
  /**
   * Session id for ephemerals, else 0. The tree stores 0x8000000000000000 for containers and
   * 0xFF00000000000000 | ttl for TTL nodes (see znode.ts), but, like ZooKeeper, shows clients 0.
   */
  readonly ephemeralOwner: bigint
  readonly dataLength: number
  readonly numChildren: number
  readonly pzxid: number
}

/** One operation of a transaction. `multi` holds create, delete, setData and check only. */
export type TxnOp =
  | { readonly type: "createSession"; readonly timeoutMs: number; readonly passwd: Uint8Array }
  /** A client's closeSession, or the leader's decision that the session expired. */
  | { readonly type: "closeSession"; readonly expired: boolean }
  | {
      readonly type: "create"
      readonly path: string
      readonly data: Uint8Array
      readonly acl: readonly ACL[]
      readonly mode: CreateMode
      /** Milliseconds, for the TTL modes; 0 otherwise. */
      readonly ttl: number
    }
  /** version -1 = any version. */
  | { readonly type: "delete"; readonly path: string; readonly version: number }
  | { readonly type: "setData"; readonly path: string; readonly data: Uint8Array; readonly version: number }
  | { readonly type: "setACL"; readonly path: string; readonly acl: readonly ACL[]; readonly version: number }
  | { readonly type: "check"; readonly path: string; readonly version: number }
  | { readonly type: "multi"; readonly ops: readonly TxnOp[] }
  /** A no-op that orders the requester behind everything committed before it (ZooKeeper's sync). */
  | { readonly type: "sync"; readonly path: string }
  /** Leader housekeeping: remove an empty container or an expired TTL node (if still so). */
  | { readonly type: "deleteContainer"; readonly path: string }

export interface CoordTxn {
  /** The requesting session; 0n for server decisions (expiry, container cleanup). */
  readonly session: SessionId
  /** The client's xid, so the server holding the connection can match its reply. */
  readonly cxid: number
  /** Id of the server holding the client's connection (it sends the reply). 0 = nobody. */
  readonly origin: number
  /** Proposer's wall clock, ms since 1970: becomes ctime/mtime. */
  readonly time: number
  /** Authenticated ids of the requester (the connection's addAuth ids and its ip id). */
  readonly auth: readonly Id[]
  readonly op: TxnOp
}

/** What applying one op answered. `err` is a ZooKeeper error code (0 = OK). */
export type OpResult =
  | { readonly type: "createSession"; readonly err: 0; readonly sessionId: SessionId; readonly timeoutMs: number; readonly passwd: Uint8Array }
  | { readonly type: "create"; readonly err: 0; readonly path: string; readonly stat: Stat }
  | { readonly type: "setData"; readonly err: 0; readonly stat: Stat }
  | { readonly type: "setACL"; readonly err: 0; readonly stat: Stat }
  | { readonly type: "delete" | "check" | "sync" | "closeSession" | "deleteContainer"; readonly err: 0 }
  /** All or nothing: on failure every sub-result is an error (0 before the failing op, -2 after). */
  | { readonly type: "multi"; readonly err: number; readonly results: readonly OpResult[] }
  | { readonly type: "error"; readonly err: number }

/** ZooKeeper watch event types (Watcher.Event.EventType). */
export const EventType = {
  None: -1,
  NodeCreated: 1,
  NodeDeleted: 2,
  NodeDataChanged: 3,
  NodeChildrenChanged: 4,
  DataWatchRemoved: 5,
  ChildWatchRemoved: 6,
  PersistentWatchRemoved: 7,
} as const
export type EventType = (typeof EventType)[keyof typeof EventType]

/** A change to the tree that watches may fire on; produced by `DataTree.apply`. */
export interface TreeEvent {
  readonly type: EventType
  readonly path: string
  /** zxid of the transaction that caused it. */
  readonly zxid: number
}
