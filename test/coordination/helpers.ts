/** Small builders for driving a DataTree in tests. */
import {
  CreateMode,
  DataTree,
  OPEN_ACL_UNSAFE,
  type ACL,
  type Applied,
  type CoordTxn,
  type Id,
  type SessionId,
  type TxnOp,
} from "../../core/coordination/index.ts"

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s)

export function createOp(
  path: string,
  opts: { data?: string; acl?: readonly ACL[]; mode?: CreateMode; ttl?: number } = {},
): TxnOp {
  return {
    type: "create",
    path,
    data: bytes(opts.data ?? ""),
    acl: opts.acl ?? OPEN_ACL_UNSAFE,
    mode: opts.mode ?? CreateMode.PERSISTENT,
    ttl: opts.ttl ?? 0,
  }
}

export interface As {
  readonly session?: SessionId
  readonly auth?: readonly Id[]
  readonly time?: number
}

/** A tree plus a zxid counter and a clock, so tests read as sequences of requests. */
export class Harness {
  zxid = 0
  time = 1_000_000

  constructor(readonly tree: DataTree = DataTree.empty()) {
    this.zxid = tree.lastZxid
  }

  txn(op: TxnOp, as: As = {}): CoordTxn {
    return { session: as.session ?? 0n, cxid: 1, origin: 0, time: as.time ?? this.time, auth: as.auth ?? [], op }
  }

  apply(op: TxnOp, as: As = {}): Applied {
    this.zxid++
    return this.tree.apply(this.txn(op, as), this.zxid)
  }

  /** Apply and return just the error code. */
  err(op: TxnOp, as: As = {}): number {
    return this.apply(op, as).result.err
  }

  session(timeoutMs = 30_000): SessionId {
    const r = this.apply({ type: "createSession", timeoutMs, passwd: new Uint8Array(16) }).result
    if (r.type !== "createSession") throw new Error(`createSession failed: ${JSON.stringify(r)}`)
    return r.sessionId
  }

  create(path: string, opts: Parameters<typeof createOp>[1] = {}, as: As = {}): string {
    const r = this.apply(createOp(path, opts), as).result
    if (r.type !== "create") throw new Error(`create ${path} failed with ${r.err}`)
    return r.path
  }
}
