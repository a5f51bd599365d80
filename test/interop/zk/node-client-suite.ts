// ZooKeeper client-interop checks driven through node-zookeeper-client (a pure-JS client that
// speaks the ZooKeeper wire protocol), run against any `ZkCluster`: first real Apache ZooKeeper
// (which proves the checks themselves right), then Sequent.
//
// Each check is a named async function that asserts real behaviour with node:assert and works
// under its own fresh root znode, so checks are independent and can run in any order.
//
// Notes on node-zookeeper-client 1.1.x that shape these checks:
// - Its watcher table is one-shot on the client side, so it would hide a server that sends a
//   notification twice; every client here also counts raw notifications off the wire
//   (`ZkClient.notifications`) so "exactly once" is checked at the protocol level.
// - `Transaction.check/setData/remove(path, 0)` turn version 0 into -1 (`version || -1`), so
//   multi checks never use version 0 as an expected version.
// - It shuffles the servers of a connect string, so the server-kill check asks the client which
//   server it landed on (the socket's remote port) and kills that one.

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import net from "node:net";

import zookeeper from "node-zookeeper-client";
import type { ACL, Client, Event as ZkEvent, Stat, Transaction } from "node-zookeeper-client";

import type { ZkCluster } from "./cluster.ts";

// ---------------------------------------------------------------------------------------------
// Constants (the wire values; node-zookeeper-client exposes the same numbers)

export const CreateMode = { PERSISTENT: 0, EPHEMERAL: 1, PERSISTENT_SEQUENTIAL: 2, EPHEMERAL_SEQUENTIAL: 3 } as const;
export const EventType = { NODE_CREATED: 1, NODE_DELETED: 2, NODE_DATA_CHANGED: 3, NODE_CHILDREN_CHANGED: 4 } as const;
export const Err = {
  OK: 0,
  RUNTIME_INCONSISTENCY: -2,
  CONNECTION_LOSS: -4,
  NO_NODE: -101,
  NO_AUTH: -102,
  BAD_VERSION: -103,
  NO_CHILDREN_FOR_EPHEMERALS: -108,
  NODE_EXISTS: -110,
  NOT_EMPTY: -111,
  SESSION_EXPIRED: -112,
  INVALID_ACL: -114,
} as const;
const OpCode = { CREATE: 1, DELETE: 2, SET_DATA: 5, CHECK: 13, ERROR: -1 } as const;

const errName = (code: number): string =>
  Object.entries(Err).find(([, v]) => v === code)?.[0] ?? `code ${code}`;
const eventName = (type: number): string =>
  Object.entries(EventType).find(([, v]) => v === type)?.[0] ?? `event ${type}`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `cond` until it holds; fails with `what` after `timeoutMs`. */
export async function eventually(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const zxid = (b: Buffer): bigint => b.readBigInt64BE(0);
const seqOf = (name: string): number => {
  const m = /(\d{10})$/.exec(name);
  assert.ok(m, `${name} has no 10-digit sequence suffix`);
  return Number(m[1]);
};

/** The digest ACL id ZooKeeper's DigestAuthenticationProvider derives from "user:password". */
export const digestId = (user: string, password: string): string =>
  `${user}:${createHash("sha1").update(`${user}:${password}`).digest("base64")}`;

const aclPerms = (a: ACL): number => (a as unknown as { permission?: number }).permission ?? a.perms;
const digestAcl = (perms: number, user: string, password: string): ACL =>
  new zookeeper.ACL(perms, new zookeeper.Id("digest", digestId(user, password)));
const Perm = zookeeper.Permission;
const WORLD_READ = (): ACL => new zookeeper.ACL(Perm.READ, new zookeeper.Id("world", "anyone"));
const WORLD_ALL = (): ACL => new zookeeper.ACL(Perm.ALL, new zookeeper.Id("world", "anyone"));

// ---------------------------------------------------------------------------------------------
// A promise-based wrapper over node-zookeeper-client

export interface ZkError extends Error {
  code: number;
}

function asZkError(e: unknown): ZkError {
  if (e && typeof e === "object" && typeof (e as { code?: unknown }).code === "number") return e as ZkError;
  const err = new Error(String(e)) as ZkError;
  err.code = Number.NaN;
  return err;
}

export interface Notification {
  type: number;
  path: string;
}

export interface MultiOutcome {
  error: ZkError | null;
  results: Array<{ type: number; path?: string; err?: number; stat?: Stat }>;
}

export interface ClientOptions {
  /** Defaults to the check's home server (see NodeCheckContext.home). */
  connectString?: string;
  /** Requested session timeout in ms (the server bounds it). Default 10 000. */
  sessionTimeout?: number;
  label?: string;
}

export class ZkClient {
  /** Every watch notification that arrived on the wire, in order (before client-side dedup). */
  readonly notifications: Notification[] = [];
  /** Connection state events ("connected", "disconnected", "expired", ...) in order. */
  readonly states: string[] = [];

  constructor(
    readonly raw: Client,
    readonly label: string,
  ) {
    const cm = (raw as unknown as { connectionManager?: { watcherManager?: { emit: (e: Notification) => void } } })
      .connectionManager;
    const wm = cm?.watcherManager;
    if (!wm) throw new Error("node-zookeeper-client internals changed: no connectionManager.watcherManager");
    const orig = wm.emit.bind(wm);
    wm.emit = (e: Notification) => {
      this.notifications.push({ type: e.type, path: e.path });
      orig(e);
    };
    for (const s of ["connected", "disconnected", "expired", "authenticationFailed", "connectedReadOnly"]) {
      raw.on(s, () => this.states.push(s));
    }
  }

  private call<T>(op: string, fn: (cb: (err: unknown, ...rest: unknown[]) => void) => void, pick: (rest: unknown[]) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      fn((err, ...rest) => {
        if (!err) return resolve(pick(rest));
        const e = asZkError(err);
        // Name the operation, so an unexpected error says where it came from.
        const wrapped = new Error(`${this.label}: ${op}: ${String(err)}`) as ZkError;
        wrapped.code = e.code;
        reject(wrapped);
      });
    });
  }

  create(path: string, opts: { data?: Buffer | string; mode?: number; acls?: ACL[] } = {}): Promise<string> {
    const args: Array<Buffer | ACL[] | number> = [];
    if (opts.data !== undefined) args.push(Buffer.from(opts.data));
    if (opts.acls) args.push(opts.acls);
    args.push(opts.mode ?? CreateMode.PERSISTENT);
    const c = this.raw.create as unknown as (...a: unknown[]) => void;
    return this.call(`create ${path}`, (cb) => c.call(this.raw, path, ...args, cb), (r) => r[0] as string);
  }

  getData(path: string, watcher?: (e: ZkEvent) => void): Promise<{ data: Buffer | null | undefined; stat: Stat }> {
    return this.call(
      `getData ${path}`,
      (cb) => (watcher ? this.raw.getData(path, watcher, cb) : this.raw.getData(path, cb)),
      (r) => ({ data: r[0] as Buffer | null | undefined, stat: r[1] as Stat }),
    );
  }

  setData(path: string, data: Buffer | string, version = -1): Promise<Stat> {
    return this.call(`setData ${path}`, (cb) => this.raw.setData(path, Buffer.from(data), version, cb), (r) => r[0] as Stat);
  }

  remove(path: string, version = -1): Promise<void> {
    return this.call(`delete ${path}`, (cb) => this.raw.remove(path, version, cb), () => undefined);
  }

  exists(path: string, watcher?: (e: ZkEvent) => void): Promise<Stat | null> {
    return this.call(
      `exists ${path}`,
      (cb) => (watcher ? this.raw.exists(path, watcher, cb) : this.raw.exists(path, cb)),
      (r) => (r[0] as Stat | null | undefined) ?? null,
    );
  }

  getChildren(path: string, watcher?: (e: ZkEvent) => void): Promise<{ children: string[]; stat: Stat }> {
    return this.call(
      `getChildren ${path}`,
      (cb) => (watcher ? this.raw.getChildren(path, watcher, cb) : this.raw.getChildren(path, cb)),
      (r) => ({ children: r[0] as string[], stat: r[1] as Stat }),
    );
  }

  getACL(path: string): Promise<{ acls: ACL[]; stat: Stat }> {
    return this.call(`getACL ${path}`, (cb) => this.raw.getACL(path, cb), (r) => ({ acls: r[0] as ACL[], stat: r[1] as Stat }));
  }

  setACL(path: string, acls: ACL[], version = -1): Promise<Stat> {
    return this.call(`setACL ${path}`, (cb) => this.raw.setACL(path, acls, version, cb), (r) => r[0] as Stat);
  }

  /** Commits a transaction; never rejects for a failed op (that is reported in `error`). */
  multi(build: (t: Transaction) => void): Promise<MultiOutcome> {
    const t = this.raw.transaction();
    build(t);
    return new Promise((resolve) => {
      t.commit((err, results: unknown) =>
        resolve({ error: err ? asZkError(err) : null, results: (results as MultiOutcome["results"] | undefined) ?? [] }),
      );
    });
  }

  addAuth(scheme: string, auth: string): void {
    this.raw.addAuthInfo(scheme, Buffer.from(auth));
  }

  sessionId(): string {
    return this.raw.getSessionId().toString("hex");
  }

  /** Remote port of the connection (node-zookeeper-client internal), undefined if not connected. */
  remotePort(): number | undefined {
    const cm = (this.raw as unknown as { connectionManager?: { socket?: net.Socket } }).connectionManager;
    return cm?.socket?.remotePort;
  }

  /** Number of raw notifications of `type` for `path` seen so far. */
  count(path: string, type: number): number {
    return this.notifications.filter((n) => n.path === path && n.type === type).length;
  }

  /** Resolves on the next `event` ("connected", "disconnected", "expired") emitted after this call. */
  next(event: string, timeoutMs: number): Promise<void> {
    return withTimeout(
      new Promise<void>((resolve) => this.raw.once(event, () => resolve())),
      timeoutMs,
      `${this.label}: ${event}`,
    );
  }

  /** Closes the session (closeSession) and the connection. */
  async close(): Promise<void> {
    const cm = (this.raw as unknown as { connectionManager?: { state?: number; socket?: net.Socket } }).connectionManager;
    // ConnectionManager states: CLOSED -2, SESSION_EXPIRED -3, AUTHENTICATION_FAILED -4.
    if (cm && typeof cm.state === "number" && cm.state <= -2) {
      cm.socket?.destroy();
      return;
    }
    const gone = new Promise<void>((resolve) => this.raw.once("disconnected", () => resolve()));
    this.raw.close();
    await Promise.race([gone, sleep(3000)]);
    cm?.socket?.destroy();
  }
}

/** Creates a client and resolves once it has a session. */
export async function connectClient(connectString: string, opts: ClientOptions = {}): Promise<ZkClient> {
  const raw = zookeeper.createClient(connectString, { sessionTimeout: opts.sessionTimeout ?? 10_000, spinDelay: 200, retries: 0 });
  const client = new ZkClient(raw, opts.label ?? "client");
  const connected = client.next("connected", 20_000);
  raw.connect();
  try {
    await connected;
  } catch (e) {
    await client.close();
    throw e;
  }
  return client;
}

async function rejectsWith(p: Promise<unknown>, code: number, what: string): Promise<void> {
  let result: unknown;
  try {
    result = await p;
  } catch (e) {
    const got = asZkError(e).code;
    assert.equal(errName(got), errName(code), `${what}: expected ${errName(code)}, got ${String(e)}`);
    return;
  }
  assert.fail(`${what}: expected ${errName(code)}, but it succeeded (${JSON.stringify(result)})`);
}

/** Collects the events a watcher function receives. */
class WatchLog {
  readonly events: Array<{ type: number; path: string }> = [];
  readonly fn = (e: ZkEvent): void => {
    this.events.push({ type: e.getType(), path: e.getPath() });
  };
  async waitFor(n: number, timeoutMs: number, what: string): Promise<void> {
    await eventually(() => this.events.length >= n, timeoutMs, what);
  }
  describe(): string {
    return JSON.stringify(this.events.map((e) => `${eventName(e.type)}@${e.path}`));
  }
}

/** Time given to a notification that must NOT arrive. */
const QUIET_MS = 400;

// ---------------------------------------------------------------------------------------------
// A TCP proxy that can cut a client off from its server without the client noticing

export class TcpProxy {
  private readonly pairs = new Set<{ a: net.Socket; b?: net.Socket }>();
  private frozen = false;

  private constructor(
    private readonly server: net.Server,
    private readonly target: { host: string; port: number },
  ) {
    server.on("connection", (a) => this.accept(a));
  }

  static async start(target: string): Promise<TcpProxy> {
    const [host = "127.0.0.1", port = "2181"] = target.split(":");
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    return new TcpProxy(server, { host, port: Number(port) });
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as net.AddressInfo).port}`;
  }

  private accept(a: net.Socket): void {
    const pair: { a: net.Socket; b?: net.Socket } = { a };
    this.pairs.add(pair);
    a.on("error", () => {});
    if (this.frozen) return; // a black hole: accepted, never answered
    const b = net.connect(this.target);
    pair.b = b;
    b.on("error", () => {});
    a.on("data", (d) => {
      if (!this.frozen) b.write(d);
    });
    b.on("data", (d) => {
      if (!this.frozen) a.write(d);
    });
    a.on("close", () => {
      if (!this.frozen) b.destroy();
    });
    b.on("close", () => {
      if (!this.frozen) a.destroy();
    });
  }

  /** Partition: bytes in both directions are dropped, hang-ups are not passed on, new connections hang. */
  freeze(): void {
    this.frozen = true;
  }

  /** Heal: every connection made before is reset (as a long partition leaves TCP), new ones pass. */
  thaw(): void {
    this.frozen = false;
    this.dropConnections();
  }

  /** Resets every proxied connection (both ends see it close); the proxy keeps accepting. */
  dropConnections(): void {
    for (const p of this.pairs) {
      p.a.destroy();
      p.b?.destroy();
    }
    this.pairs.clear();
  }

  async close(): Promise<void> {
    this.dropConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

// ---------------------------------------------------------------------------------------------
// The checks

export interface NodeCheckContext {
  cluster: ZkCluster;
  /**
   * The server ("host:port") this check's clients use unless told otherwise. One server per
   * check, so a write one client has completed is visible to the check's other clients even on
   * an ensemble (each server is sequentially consistent); checks take turns on the servers.
   */
  home: string;
  /** A fresh persistent znode (world-open ACL) for this check only. */
  root: string;
  /** A connected client (to `home` unless `opts.connectString` says otherwise), closed when the check ends. */
  client(opts?: ClientOptions): Promise<ZkClient>;
  /** Registers cleanup to run when the check ends (last registered runs first). */
  defer(fn: () => Promise<void> | void): void;
}

export interface NodeCheck {
  name: string;
  /** What the check asserts, one line. */
  description: string;
  /** Servers the cluster must have for the check to apply. Default 1. */
  minServers?: number;
  /** Budget for the check. Default 20 s. */
  timeoutMs?: number;
  run(ctx: NodeCheckContext): Promise<void>;
}

export const nodeClientChecks: readonly NodeCheck[] = [
  {
    name: "createModes",
    description: "create in modes 0-3: returned paths, %010d suffixes, ephemeralOwner; ephemerals go with the session",
    async run({ root, client }) {
      const a = await client({ label: "creator" });
      const b = await client({ label: "observer" });
      assert.equal(await a.create(`${root}/p`, { data: "p", mode: CreateMode.PERSISTENT }), `${root}/p`);
      assert.equal(await a.create(`${root}/e`, { data: "e", mode: CreateMode.EPHEMERAL }), `${root}/e`);
      const s = await a.create(`${root}/s-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      const es = await a.create(`${root}/es-`, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
      assert.match(s, new RegExp(`^${root}/s-\\d{10}$`));
      assert.match(es, new RegExp(`^${root}/es-\\d{10}$`));
      assert.ok(seqOf(es) > seqOf(s), `later sequential create must get a larger number: ${s} then ${es}`);

      const noOwner = Buffer.alloc(8).toString("hex");
      const owner = async (p: string) => {
        const st = await b.exists(p);
        assert.ok(st, `${p} should exist`);
        return st.ephemeralOwner.toString("hex");
      };
      assert.equal(await owner(`${root}/p`), noOwner, "persistent node has ephemeralOwner 0");
      assert.equal(await owner(s), noOwner, "persistent-sequential node has ephemeralOwner 0");
      assert.equal(await owner(`${root}/e`), a.sessionId(), "ephemeral owner is the creator's session id");
      assert.equal(await owner(es), a.sessionId(), "ephemeral-sequential owner is the creator's session id");
      assert.equal((await b.getData(`${root}/p`)).data?.toString(), "p");
      assert.equal((await b.getData(`${root}/e`)).data?.toString(), "e");

      await a.close();
      assert.equal(await b.exists(`${root}/e`), null, "ephemeral gone after its session closed");
      assert.equal(await b.exists(es), null, "ephemeral-sequential gone after its session closed");
      assert.ok(await b.exists(`${root}/p`), "persistent survives its creator's session");
      assert.ok(await b.exists(s), "persistent-sequential survives its creator's session");
    },
  },
  {
    name: "sequentialNumbering",
    description: "the sequence suffix counts the children ever created under the parent (shared by all prefixes; deletes do not advance it, though Stat.cversion counts creates + deletes)",
    async run({ root, client }) {
      const c = await client();
      const p = `${root}/q`;
      await c.create(p);
      assert.equal(await c.create(`${p}/x-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL }), `${p}/x-0000000000`);
      await c.create(`${p}/plain`); // a non-sequential create advances the counter too
      assert.equal(await c.create(`${p}/x-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL }), `${p}/x-0000000002`);
      await c.remove(`${p}/plain`); // a delete does not
      assert.equal((await c.exists(p))?.cversion, 4, "Stat.cversion after 3 creates and 1 delete");
      assert.equal(await c.create(`${p}/y-`, { mode: CreateMode.EPHEMERAL_SEQUENTIAL }), `${p}/y-0000000003`);
      // A sequential create whose name exists already fails with NODE_EXISTS and uses up nothing.
      await c.create(`${p}/z-0000000005`); // the 5th create: the next number is 5
      await rejectsWith(c.create(`${p}/z-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL }), Err.NODE_EXISTS, "sequential create onto an existing name");
      const { children, stat } = await c.getChildren(p);
      assert.deepEqual([...children].sort(), ["x-0000000000", "x-0000000002", "y-0000000003", "z-0000000005"]);
      assert.equal(stat.numChildren, 4);
      assert.equal(stat.cversion, 6, "Stat.cversion counts 5 creates and 1 delete (not the failed create)");
      // Deleting every child does not reset the counter.
      for (const k of (await c.getChildren(p)).children) await c.remove(`${p}/${k}`);
      assert.equal(await c.create(`${p}/x-`, { mode: CreateMode.PERSISTENT_SEQUENTIAL }), `${p}/x-0000000005`);
      assert.equal((await c.exists(p))?.cversion, 11, "Stat.cversion = 6 creates + 5 deletes");
    },
  },
  {
    name: "dataAndCas",
    description: "getData/setData round-trip, versions, mzxid/dataLength, CAS: right version wins, wrong -> BAD_VERSION, -1 any",
    async run({ root, client }) {
      const c = await client();
      const n = `${root}/n`;
      await c.create(n, { data: "v0" });
      const g0 = await c.getData(n);
      assert.equal(g0.data?.toString(), "v0");
      assert.equal(g0.stat.version, 0);
      assert.equal(g0.stat.dataLength, 2);
      assert.equal(zxid(g0.stat.czxid), zxid(g0.stat.mzxid), "fresh node: mzxid == czxid");
      assert.equal(zxid(g0.stat.ctime), zxid(g0.stat.mtime), "fresh node: mtime == ctime");

      const s1 = await c.setData(n, "v1", 0);
      assert.equal(s1.version, 1);
      assert.ok(zxid(s1.mzxid) > zxid(s1.czxid), "setData advances mzxid");
      assert.equal(zxid(s1.czxid), zxid(g0.stat.czxid), "setData keeps czxid");
      await rejectsWith(c.setData(n, "stale", 0), Err.BAD_VERSION, "setData with a stale version");
      await rejectsWith(c.setData(n, "future", 7), Err.BAD_VERSION, "setData with a future version");
      assert.equal((await c.getData(n)).data?.toString(), "v1", "failed CAS leaves the data alone");
      const s2 = await c.setData(n, "value-2", -1);
      assert.equal(s2.version, 2, "-1 matches any version");
      assert.equal(s2.dataLength, 7);
      const g2 = await c.getData(n);
      assert.equal(g2.data?.toString(), "value-2");
      assert.deepEqual(g2.stat, s2, "getData's stat equals the stat setData returned");
      assert.deepEqual(await c.exists(n), s2, "exists returns the same stat");

      // Binary data round-trips byte for byte, including a larger value.
      const blob = randomBytes(200_000);
      await c.setData(n, blob, 2);
      const g3 = await c.getData(n);
      assert.ok(g3.data && Buffer.compare(g3.data, blob) === 0, "200 kB of binary data round-trips");
      assert.equal(g3.stat.dataLength, blob.length);

      // Empty data: created with a zero-length buffer, read back as empty.
      await c.create(`${root}/empty`, { data: Buffer.alloc(0) });
      const ge = await c.getData(`${root}/empty`);
      assert.equal(ge.data?.length ?? 0, 0);
      assert.equal(ge.stat.dataLength, 0);
    },
  },
  {
    name: "deleteVersions",
    description: "delete with a wrong version -> BAD_VERSION (node stays), right version deletes, again -> NO_NODE, -1 any",
    async run({ root, client }) {
      const c = await client();
      const n = `${root}/n`;
      await c.create(n, { data: "x" });
      await c.setData(n, "y");
      await rejectsWith(c.remove(n, 0), Err.BAD_VERSION, "delete with a stale version");
      assert.ok(await c.exists(n), "node survives a failed versioned delete");
      await c.remove(n, 1);
      assert.equal(await c.exists(n), null);
      await rejectsWith(c.remove(n, 1), Err.NO_NODE, "delete of a deleted node");
      await rejectsWith(c.remove(n, -1), Err.NO_NODE, "delete -1 of a deleted node");
      await c.create(`${root}/m`);
      await c.setData(`${root}/m`, "1");
      await c.setData(`${root}/m`, "2");
      await c.remove(`${root}/m`, -1);
      assert.equal(await c.exists(`${root}/m`), null, "delete -1 ignores the version");
    },
  },
  {
    name: "errorCodes",
    description: "NO_NODE, NODE_EXISTS, NOT_EMPTY, NO_CHILDREN_FOR_EPHEMERALS where ZooKeeper returns them; exists() of a missing node is null",
    async run({ root, client }) {
      const c = await client();
      const missing = `${root}/missing`;
      await rejectsWith(c.getData(missing), Err.NO_NODE, "getData of a missing node");
      await rejectsWith(c.setData(missing, "x"), Err.NO_NODE, "setData of a missing node");
      await rejectsWith(c.remove(missing), Err.NO_NODE, "delete of a missing node");
      await rejectsWith(c.getChildren(missing), Err.NO_NODE, "getChildren of a missing node");
      await rejectsWith(c.getACL(missing), Err.NO_NODE, "getACL of a missing node");
      await rejectsWith(c.create(`${missing}/child`), Err.NO_NODE, "create under a missing parent");
      assert.equal(await c.exists(missing), null, "exists() of a missing node");

      await c.create(`${root}/a`, { data: "first" });
      await rejectsWith(c.create(`${root}/a`, { data: "second" }), Err.NODE_EXISTS, "create of an existing node");
      assert.equal((await c.getData(`${root}/a`)).data?.toString(), "first", "failed create leaves data alone");
      await rejectsWith(c.create(`${root}/a`, { mode: CreateMode.EPHEMERAL }), Err.NODE_EXISTS, "ephemeral create of an existing node");

      await c.create(`${root}/a/child`);
      await rejectsWith(c.remove(`${root}/a`), Err.NOT_EMPTY, "delete of a node with children");
      assert.ok(await c.exists(`${root}/a`));

      await c.create(`${root}/eph`, { mode: CreateMode.EPHEMERAL });
      await rejectsWith(c.create(`${root}/eph/child`), Err.NO_CHILDREN_FOR_EPHEMERALS, "create under an ephemeral");
      await rejectsWith(
        c.create(`${root}/eph/child`, { mode: CreateMode.EPHEMERAL_SEQUENTIAL }),
        Err.NO_CHILDREN_FOR_EPHEMERALS,
        "sequential create under an ephemeral",
      );
      // The root itself cannot be deleted or re-created.
      await rejectsWith(c.create("/"), Err.NODE_EXISTS, "create of /");
    },
  },
  {
    name: "childrenAndStat",
    description: "getChildren lists names, stat numChildren/cversion/pzxid track child creates and deletes; leaf has none",
    async run({ root, client }) {
      const c = await client();
      const p = `${root}/p`;
      await c.create(p);
      const before = await c.exists(p);
      assert.ok(before);
      assert.equal(before.numChildren, 0);
      assert.equal(before.cversion, 0);
      assert.equal(zxid(before.pzxid), zxid(before.czxid), "fresh node: pzxid == czxid");
      for (const k of ["c", "a", "b"]) await c.create(`${p}/${k}`, { data: k });
      const { children, stat } = await c.getChildren(p);
      assert.deepEqual([...children].sort(), ["a", "b", "c"]);
      assert.equal(stat.numChildren, 3);
      assert.equal(stat.cversion, 3);
      assert.equal(stat.version, 0, "child changes do not bump the parent's data version");
      const lastChild = await c.exists(`${p}/b`);
      assert.ok(lastChild);
      assert.equal(zxid(stat.pzxid), zxid(lastChild.czxid), "pzxid is the zxid of the last child change");
      await c.setData(`${p}/a`, "changed");
      assert.equal(zxid((await c.getChildren(p)).stat.pzxid), zxid(lastChild.czxid), "a child's data change leaves pzxid alone");
      await c.remove(`${p}/c`);
      const after = await c.getChildren(p);
      assert.deepEqual([...after.children].sort(), ["a", "b"]);
      assert.equal(after.stat.numChildren, 2);
      assert.equal(after.stat.cversion, 4);
      assert.ok(zxid(after.stat.pzxid) > zxid(lastChild.czxid), "a child delete advances pzxid");
      assert.deepEqual((await c.getChildren(`${p}/a`)).children, [], "a leaf has no children");
    },
  },
  {
    name: "multiSuccess",
    description: "a multi applies every op in order (create parent then child, setData, check, delete) and returns per-op results",
    async run({ root, client }) {
      const c = await client();
      await c.create(`${root}/a`, { data: "a0" });
      await c.setData(`${root}/a`, "a1"); // version 1, so the check below never asks for version 0
      const out = await c.multi((t) =>
        t
          .create(`${root}/p`, Buffer.from("parent"))
          .create(`${root}/p/child`, Buffer.from("child"))
          .setData(`${root}/a`, Buffer.from("a2"), 1)
          .check(`${root}/a`, 2)
          .create(`${root}/tmp`)
          .remove(`${root}/tmp`, -1),
      );
      assert.equal(out.error, null, `multi failed: ${String(out.error)}`);
      assert.deepEqual(
        out.results.map((r) => r.type),
        [OpCode.CREATE, OpCode.CREATE, OpCode.SET_DATA, OpCode.CHECK, OpCode.CREATE, OpCode.DELETE],
      );
      assert.equal(out.results[0]?.path, `${root}/p`);
      assert.equal(out.results[1]?.path, `${root}/p/child`);
      assert.equal(out.results[2]?.stat?.version, 2);
      assert.equal((await c.getData(`${root}/p/child`)).data?.toString(), "child");
      const a = await c.getData(`${root}/a`);
      assert.equal(a.data?.toString(), "a2");
      assert.equal(a.stat.version, 2);
      assert.equal(await c.exists(`${root}/tmp`), null);
      // All ops of one multi commit as one transaction: they share a zxid.
      const p = await c.exists(`${root}/p`);
      const child = await c.exists(`${root}/p/child`);
      assert.ok(p && child);
      assert.equal(zxid(p.czxid), zxid(child.czxid), "ops of one multi share one zxid");
      assert.equal(zxid(p.czxid), zxid(a.stat.mzxid), "ops of one multi share one zxid");
      // Sequential creates inside a multi get their numbers in op order.
      const seq = await c.multi((t) =>
        t.create(`${root}/p/s-`, zookeeper.CreateMode.PERSISTENT_SEQUENTIAL).create(`${root}/p/s-`, zookeeper.CreateMode.PERSISTENT_SEQUENTIAL),
      );
      assert.equal(seq.error, null);
      assert.deepEqual(seq.results.map((r) => r.path), [`${root}/p/s-0000000001`, `${root}/p/s-0000000002`]);
    },
  },
  {
    name: "multiAllOrNothing",
    description: "a multi with one failing op changes nothing; results: OK before the failure, its error, RUNTIME_INCONSISTENCY after",
    async run({ root, client }) {
      const c = await client();
      const w = await client({ label: "watcher" });
      await c.create(`${root}/a`, { data: "a0" });
      await c.create(`${root}/gone`, { data: "g" });
      const before = await c.getData(`${root}/a`);
      const watch = new WatchLog();
      await w.getData(`${root}/a`, watch.fn);
      const childWatch = new WatchLog();
      await w.getChildren(root, childWatch.fn);

      const cases: Array<{ what: string; code: number; failAt: number; build: (t: Transaction) => void }> = [
        {
          what: "bad check version",
          code: Err.BAD_VERSION,
          failAt: 3,
          build: (t) =>
            t
              .create(`${root}/new`, Buffer.from("n"))
              .setData(`${root}/a`, Buffer.from("a1"), -1)
              .remove(`${root}/gone`, -1)
              .check(`${root}/a`, 5)
              .create(`${root}/new2`),
        },
        {
          what: "create of an existing node",
          code: Err.NODE_EXISTS,
          failAt: 1,
          build: (t) => t.create(`${root}/new`).create(`${root}/a`).setData(`${root}/a`, Buffer.from("a1"), -1),
        },
        {
          what: "delete of a missing node",
          code: Err.NO_NODE,
          failAt: 2,
          build: (t) => t.setData(`${root}/a`, Buffer.from("a1"), -1).remove(`${root}/gone`).remove(`${root}/gone`),
        },
        {
          what: "stale setData version",
          code: Err.BAD_VERSION,
          failAt: 1,
          build: (t) => t.create(`${root}/new`).setData(`${root}/a`, Buffer.from("a1"), 3),
        },
      ];
      for (const k of cases) {
        const out = await c.multi(k.build);
        assert.ok(out.error, `${k.what}: the multi must fail`);
        assert.equal(errName(out.error.code), errName(k.code), `${k.what}: the multi's error`);
        const errs = out.results.map((r) => {
          assert.equal(r.type, OpCode.ERROR, `${k.what}: every result of a failed multi is an error result`);
          return errName(r.err ?? Number.NaN);
        });
        const expected = errs.map((_, i) => (i < k.failAt ? "OK" : i === k.failAt ? errName(k.code) : "RUNTIME_INCONSISTENCY"));
        assert.deepEqual(errs, expected, `${k.what}: per-op results`);
      }
      const after = await c.getData(`${root}/a`);
      assert.equal(after.data?.toString(), "a0", "no setData of a failed multi applied");
      assert.deepEqual(after.stat, before.stat, "a failed multi leaves the stat (and mzxid) unchanged");
      assert.equal(await c.exists(`${root}/new`), null, "no create of a failed multi applied");
      assert.equal(await c.exists(`${root}/new2`), null);
      assert.ok(await c.exists(`${root}/gone`), "no delete of a failed multi applied");
      await sleep(QUIET_MS);
      assert.equal(watch.events.length, 0, `failed multis fire no data watch: ${watch.describe()}`);
      assert.equal(childWatch.events.length, 0, `failed multis fire no child watch: ${childWatch.describe()}`);
    },
  },
  {
    name: "dataWatchOnce",
    description: "a getData watch fires NODE_DATA_CHANGED exactly once (on the wire too) for two changes; re-arming works",
    async run({ root, client }) {
      const a = await client({ label: "watcher" });
      const b = await client({ label: "writer" });
      const n = `${root}/n`;
      await b.create(n, { data: "0" });
      const w = new WatchLog();
      await a.getData(n, w.fn);
      await b.setData(n, "1");
      await b.setData(n, "2");
      await w.waitFor(1, 5000, "data watch");
      await sleep(QUIET_MS);
      assert.deepEqual(w.events, [{ type: EventType.NODE_DATA_CHANGED, path: n }], `events: ${w.describe()}`);
      assert.equal(a.count(n, EventType.NODE_DATA_CHANGED), 1, "exactly one notification on the wire");
      // Re-arm with a fresh read; the next change fires again.
      const again = new WatchLog();
      const r = await a.getData(n, again.fn);
      assert.equal(r.data?.toString(), "2");
      await b.setData(n, "3");
      await again.waitFor(1, 5000, "re-armed data watch");
      await sleep(QUIET_MS);
      assert.equal(again.events.length, 1);
      assert.equal(a.count(n, EventType.NODE_DATA_CHANGED), 2);
      // A write by the watching session itself fires its own watch too.
      const own = new WatchLog();
      await a.getData(n, own.fn);
      await a.setData(n, "4");
      await own.waitFor(1, 5000, "own-write data watch");
    },
  },
  {
    name: "childWatchOnce",
    description: "a getChildren watch fires NODE_CHILDREN_CHANGED once for child creates/deletes, not for data changes",
    async run({ root, client }) {
      const a = await client({ label: "watcher" });
      const b = await client({ label: "writer" });
      const p = `${root}/p`;
      await b.create(p);
      await b.create(`${p}/existing`);
      const w = new WatchLog();
      await a.getChildren(p, w.fn);
      await b.setData(p, "parent data");
      await b.setData(`${p}/existing`, "child data");
      await sleep(QUIET_MS);
      assert.equal(w.events.length, 0, `data changes must not fire a child watch: ${w.describe()}`);
      await b.create(`${p}/c1`);
      await b.create(`${p}/c2`);
      await w.waitFor(1, 5000, "child watch");
      await sleep(QUIET_MS);
      assert.deepEqual(w.events, [{ type: EventType.NODE_CHILDREN_CHANGED, path: p }], `events: ${w.describe()}`);
      assert.equal(a.count(p, EventType.NODE_CHILDREN_CHANGED), 1, "exactly one notification on the wire");
      const w2 = new WatchLog();
      await a.getChildren(p, w2.fn);
      await b.remove(`${p}/c1`);
      await w2.waitFor(1, 5000, "child watch on delete");
      assert.deepEqual(w2.events, [{ type: EventType.NODE_CHILDREN_CHANGED, path: p }]);
      // A grandchild create is not a change of p's children.
      const w3 = new WatchLog();
      await a.getChildren(p, w3.fn);
      await b.create(`${p}/c2/grandchild`);
      await sleep(QUIET_MS);
      assert.equal(w3.events.length, 0, `a grandchild must not fire the parent's child watch: ${w3.describe()}`);
    },
  },
  {
    name: "existsWatch",
    description: "exists() on a missing node arms NODE_CREATED; on an existing node it arms NODE_DATA_CHANGED/NODE_DELETED",
    async run({ root, client }) {
      const a = await client({ label: "watcher" });
      const b = await client({ label: "writer" });
      const n = `${root}/later`;
      const w = new WatchLog();
      assert.equal(await a.exists(n, w.fn), null);
      await b.create(n, { data: "x" });
      await w.waitFor(1, 5000, "NODE_CREATED");
      await b.setData(n, "y");
      await sleep(QUIET_MS);
      assert.deepEqual(w.events, [{ type: EventType.NODE_CREATED, path: n }], `events: ${w.describe()}`);
      assert.equal(a.count(n, EventType.NODE_CREATED), 1);
      const w2 = new WatchLog();
      assert.ok(await a.exists(n, w2.fn));
      await b.remove(n);
      await w2.waitFor(1, 5000, "NODE_DELETED");
      assert.deepEqual(w2.events, [{ type: EventType.NODE_DELETED, path: n }]);
    },
  },
  {
    name: "deleteFiresDataAndChildWatches",
    description: "deleting a node fires NODE_DELETED to both its data and child watchers, as one notification per session",
    async run({ root, client }) {
      const a = await client({ label: "watcher" });
      const b = await client({ label: "writer" });
      const n = `${root}/n`;
      await b.create(n);
      const data = new WatchLog();
      const kids = new WatchLog();
      await a.getData(n, data.fn);
      await a.getChildren(n, kids.fn);
      const parent = new WatchLog();
      await a.getChildren(root, parent.fn);
      await b.remove(n);
      await data.waitFor(1, 5000, "data watcher NODE_DELETED");
      await kids.waitFor(1, 5000, "child watcher NODE_DELETED");
      await parent.waitFor(1, 5000, "parent child watcher");
      await sleep(QUIET_MS);
      assert.deepEqual(data.events, [{ type: EventType.NODE_DELETED, path: n }]);
      assert.deepEqual(kids.events, [{ type: EventType.NODE_DELETED, path: n }]);
      assert.deepEqual(parent.events, [{ type: EventType.NODE_CHILDREN_CHANGED, path: root }]);
      assert.equal(a.count(n, EventType.NODE_DELETED), 1, "one NODE_DELETED on the wire for both watch kinds");
    },
  },
  {
    name: "watchBeforeOwnWriteResponse",
    description: "a session sees the notification of its watch before the response of its own write that triggered it",
    async run({ root, client }) {
      const a = await client();
      const n = `${root}/n`;
      await a.create(n, { data: "0" });
      for (let i = 1; i <= 5; i++) {
        const order: string[] = [];
        await a.getData(n, () => order.push("watch"));
        await a.setData(n, String(i)).then(() => order.push("response"));
        assert.deepEqual(order, ["watch", "response"], `round ${i}`);
      }
    },
  },
  {
    name: "aclDigest",
    description: "digest ACLs: NO_AUTH without (or with wrong) credentials, even for the creator, for exists/getACL too; access after addAuthInfo; getACL without ADMIN redacts digests; 'auth' expands to the caller's identity; delete needs DELETE on the parent",
    async run({ root, client }) {
      const creator = await client({ label: "creator" });
      const other = await client({ label: "other" });
      const secret = `${root}/secret`;
      await creator.create(secret, { data: "s3cr3t", acls: [digestAcl(Perm.ALL, "alice", "pw")] });
      await rejectsWith(creator.getData(secret), Err.NO_AUTH, "creator without credentials reads");
      await rejectsWith(other.getData(secret), Err.NO_AUTH, "unauthenticated getData");
      await rejectsWith(other.setData(secret, "x"), Err.NO_AUTH, "unauthenticated setData");
      await rejectsWith(other.getChildren(secret), Err.NO_AUTH, "unauthenticated getChildren");
      await rejectsWith(other.create(`${secret}/child`), Err.NO_AUTH, "unauthenticated create under it");
      await rejectsWith(other.getACL(secret), Err.NO_AUTH, "unauthenticated getACL (needs READ or ADMIN)");
      await rejectsWith(other.setACL(secret, [WORLD_ALL()]), Err.NO_AUTH, "unauthenticated setACL");
      // ZooKeeper 3.9 checks READ for exists() of an existing node (a missing one is just null).
      await rejectsWith(other.exists(secret), Err.NO_AUTH, "unauthenticated exists() of an existing node");
      assert.equal(await other.exists(`${secret}/nope`), null, "exists() of a missing node under it");

      other.addAuth("digest", "alice:wrong");
      await rejectsWith(other.getData(secret), Err.NO_AUTH, "getData with a wrong password");
      other.addAuth("digest", "alice:pw");
      assert.equal((await other.getData(secret)).data?.toString(), "s3cr3t", "readable after addAuthInfo");
      await other.setData(secret, "changed");
      await other.create(`${secret}/child`);
      const { acls } = await other.getACL(secret);
      assert.equal(acls.length, 1);
      assert.equal(acls[0]?.id.scheme, "digest");
      assert.equal(acls[0]?.id.id, digestId("alice", "pw"));
      assert.equal(aclPerms(acls[0] as ACL), Perm.ALL);

      // World-readable, digest-writable.
      const mixed = `${root}/mixed`;
      await creator.create(mixed, { data: "m", acls: [WORLD_READ(), digestAcl(Perm.ALL, "alice", "pw")] });
      const anon = await client({ label: "anonymous" });
      assert.equal((await anon.getData(mixed)).data?.toString(), "m");
      // READ without ADMIN may see the ACL, but digest hashes are redacted to "user:x".
      assert.deepEqual(
        (await anon.getACL(mixed)).acls.map((a) => [a.id.scheme, a.id.id, aclPerms(a)]),
        [
          ["world", "anyone", Perm.READ],
          ["digest", "alice:x", Perm.ALL],
        ],
      );
      await rejectsWith(anon.setData(mixed, "x"), Err.NO_AUTH, "write to a world-read-only node");
      await other.setData(mixed, "by alice");

      // The "auth" scheme means "every identity the creating session has authenticated as".
      const bob = await client({ label: "bob" });
      bob.addAuth("digest", "bob:pw2");
      const mine = `${root}/mine`;
      await bob.create(mine, { data: "b", acls: [new zookeeper.ACL(Perm.ALL, new zookeeper.Id("auth", ""))] });
      const mineAcl = (await bob.getACL(mine)).acls;
      assert.deepEqual(
        mineAcl.map((a) => [a.id.scheme, a.id.id, aclPerms(a)]),
        [["digest", digestId("bob", "pw2"), Perm.ALL]],
        "'auth' ACL expanded to the creator's digest identity",
      );
      await rejectsWith(anon.getData(mine), Err.NO_AUTH, "another session reads an 'auth' node");
      await rejectsWith(anon.create(`${root}/noauth`, { acls: [new zookeeper.ACL(Perm.ALL, new zookeeper.Id("auth", ""))] }), Err.INVALID_ACL, "'auth' ACL without credentials is INVALID_ACL");

      // Deleting a node needs DELETE on its parent, not on the node itself.
      const open = `${root}/open`;
      await creator.create(open, { acls: [WORLD_ALL()] });
      await creator.create(`${open}/locked`, { acls: [digestAcl(Perm.ALL, "alice", "pw")] });
      await anon.remove(`${open}/locked`);
      assert.equal(await anon.exists(`${open}/locked`), null);
      const noDelete = `${root}/nodelete`;
      await creator.create(noDelete, { acls: [new zookeeper.ACL(Perm.ALL & ~Perm.DELETE, new zookeeper.Id("world", "anyone"))] });
      await anon.create(`${noDelete}/kid`);
      await rejectsWith(anon.remove(`${noDelete}/kid`), Err.NO_AUTH, "delete without DELETE on the parent");

      // setACL replaces the ACL and bumps aversion; a stale aversion is BAD_VERSION.
      const st = await other.setACL(secret, [WORLD_READ(), digestAcl(Perm.ALL, "alice", "pw")], 0);
      assert.equal(st.aversion, 1);
      assert.equal(st.version, 1, "setACL leaves the data version alone");
      await rejectsWith(other.setACL(secret, [WORLD_ALL()], 0), Err.BAD_VERSION, "setACL with a stale aversion");
      assert.equal((await anon.getData(secret)).data?.toString(), "changed", "world-readable after setACL");
      // setACL needs ADMIN: once the ACL grants it to nobody, nobody can change the ACL again.
      await other.setACL(secret, [WORLD_READ()], 1);
      await rejectsWith(other.setACL(secret, [WORLD_ALL()], 2), Err.NO_AUTH, "setACL without ADMIN");
    },
  },
  {
    name: "sessionCloseRemovesEphemerals",
    description: "closing a session deletes its ephemerals at once and fires watches on them; other sessions' ephemerals stay",
    async run({ root, client }) {
      const a = await client({ label: "owner" });
      const keep = await client({ label: "other owner" });
      const b = await client({ label: "observer" });
      await a.create(`${root}/e1`, { mode: CreateMode.EPHEMERAL });
      const seqPath = await a.create(`${root}/e2-`, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
      await keep.create(`${root}/k`, { mode: CreateMode.EPHEMERAL });
      const w = new WatchLog();
      await b.exists(`${root}/e1`, w.fn);
      const kids = new WatchLog();
      await b.getChildren(root, kids.fn);
      await a.close();
      await w.waitFor(1, 5000, "NODE_DELETED for the closed session's ephemeral");
      assert.deepEqual(w.events, [{ type: EventType.NODE_DELETED, path: `${root}/e1` }]);
      await kids.waitFor(1, 5000, "children changed");
      assert.equal(await b.exists(`${root}/e1`), null);
      assert.equal(await b.exists(seqPath), null);
      assert.deepEqual((await b.getChildren(root)).children, ["k"], "only the other session's ephemeral is left");
    },
  },
  {
    name: "sessionSurvivesReconnect",
    description: "a dropped connection is not a dead session: the client reconnects to the same session, keeps its ephemerals and its watches",
    timeoutMs: 30_000,
    async run({ home, root, client, defer }) {
      const proxy = await TcpProxy.start(home);
      defer(() => proxy.close());
      const a = await client({ connectString: proxy.address, sessionTimeout: 8000, label: "proxied" });
      const b = await client({ label: "direct" });
      const sid = a.sessionId();
      await a.create(`${root}/eph`, { mode: CreateMode.EPHEMERAL });
      await b.create(`${root}/watched`, { data: "0" });
      const w = new WatchLog();
      await a.getData(`${root}/watched`, w.fn);

      const disconnected = a.next("disconnected", 5000);
      const reconnected = a.next("connected", 15_000);
      proxy.dropConnections();
      await disconnected;
      await reconnected;
      assert.equal(a.sessionId(), sid, "same session after reconnecting");
      const st = await b.exists(`${root}/eph`);
      assert.ok(st, "the ephemeral survives a dropped connection");
      assert.equal(st.ephemeralOwner.toString("hex"), sid);
      await b.setData(`${root}/watched`, "1");
      await w.waitFor(1, 5000, "watch re-registered after reconnect (SetWatches)");
      assert.deepEqual(w.events, [{ type: EventType.NODE_DATA_CHANGED, path: `${root}/watched` }]);
      await a.setData(`${root}/eph`, "still mine");
      assert.equal((await b.getData(`${root}/eph`)).data?.toString(), "still mine");
    },
  },
  {
    name: "sessionExpiryRemovesEphemerals",
    description: "a client cut off from the server (proxy frozen) expires after its session timeout: its ephemerals vanish for others, and on healing it is told EXPIRED",
    timeoutMs: 45_000,
    async run({ home, root, client, defer }) {
      const proxy = await TcpProxy.start(home);
      defer(() => proxy.close());
      const a = await client({ connectString: proxy.address, sessionTimeout: 4000, label: "doomed" });
      const b = await client({ label: "observer" });
      const timeout = a.raw.getSessionTimeout();
      assert.ok(timeout >= 4000 && timeout <= 10_000, `negotiated session timeout ${timeout} ms`);
      await a.create(`${root}/eph`, { mode: CreateMode.EPHEMERAL });
      const seqPath = await a.create(`${root}/eseq-`, { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
      await a.create(`${root}/persistent`);
      const w = new WatchLog();
      assert.ok(await b.exists(`${root}/eph`, w.fn));

      const frozenAt = Date.now();
      proxy.freeze();
      await w.waitFor(1, timeout * 2 + 10_000, "the expired session's ephemeral to be deleted");
      const tookMs = Date.now() - frozenAt;
      assert.deepEqual(w.events, [{ type: EventType.NODE_DELETED, path: `${root}/eph` }]);
      assert.ok(tookMs >= timeout / 3, `ephemeral deleted ${tookMs} ms after the cut, before the session could have expired`);
      assert.equal(await b.exists(seqPath), null, "every ephemeral of the expired session is gone");
      assert.ok(await b.exists(`${root}/persistent`), "persistent nodes stay");

      const expired = a.next("expired", 20_000);
      proxy.thaw();
      await expired;
      await rejectsWith(a.getData(`${root}/persistent`), Err.SESSION_EXPIRED, "an expired client's request");
    },
  },
  {
    name: "concurrentSequential",
    description: "8 clients (spread over the servers) x 5 pipelined ephemeral-sequential creates: distinct names, numbers exactly 0..39, per-client FIFO, czxid order matches number order",
    timeoutMs: 30_000,
    async run({ cluster, root, client }) {
      const N = 8;
      const M = 5;
      const reader = await client({ label: "reader" });
      const q = `${root}/q`;
      await reader.create(q);
      const servers = cluster.servers;
      const clients = await Promise.all(
        Array.from({ length: N }, (_, i) => client({ connectString: servers[i % servers.length], label: `creator-${i}` })),
      );
      // Each creator's server must know q before it creates under it (no sync() in this client).
      await Promise.all(clients.map((c) => eventually(async () => (await c.exists(q)) !== null, 5000, `${c.label} to see ${q}`)));
      const made = await Promise.all(
        clients.map((c, i) =>
          // Issued back to back without awaiting: one session's requests are applied in order.
          Promise.all(Array.from({ length: M }, () => c.create(`${q}/n-`, { data: String(i), mode: CreateMode.EPHEMERAL_SEQUENTIAL }))),
        ),
      );
      const all = made.flat();
      assert.equal(new Set(all).size, N * M, "all names distinct");
      const nums = all.map(seqOf).sort((x, y) => x - y);
      assert.deepEqual(nums, Array.from({ length: N * M }, (_, k) => k), "numbers are exactly 0..N*M-1");
      for (const [i, paths] of made.entries()) {
        const mine = paths.map(seqOf);
        assert.deepEqual(mine, [...mine].sort((x, y) => x - y), `client ${i}'s creates got increasing numbers in issue order`);
      }
      // The reader's server may lag the other servers' creates by a moment.
      await eventually(async () => (await reader.getChildren(q)).children.length === N * M, 5000, "all children on the reader's server");
      const { children } = await reader.getChildren(q);
      assert.deepEqual([...children].sort(), all.map((p) => p.slice(q.length + 1)).sort(), "getChildren lists exactly the created names");
      const stats = await Promise.all(all.map(async (p) => ({ n: seqOf(p), st: await reader.exists(p) })));
      stats.sort((x, y) => x.n - y.n);
      let prev = -1n;
      for (const { n, st } of stats) {
        assert.ok(st, `node ${n} exists`);
        const z = zxid(st.czxid);
        assert.ok(z > prev, `czxid order follows sequence order (node ${n})`);
        prev = z;
      }
      // Data says which client made each node; owner must be that client's session.
      for (const [i, paths] of made.entries()) {
        for (const p of paths) {
          const st = await reader.exists(p);
          assert.equal(st?.ephemeralOwner.toString("hex"), (clients[i] as ZkClient).sessionId());
        }
      }
    },
  },
  {
    name: "watchSurvivesServerKill",
    description: "ensemble: a client's server is killed; it fails over to another server with the same session, its ephemeral stays, and its pending watch fires once on a later change",
    minServers: 3,
    timeoutMs: 90_000,
    async run({ cluster, root, client, defer }) {
      // The whole connect string, so the client can fail over.
      const w = await client({ connectString: cluster.connectString, sessionTimeout: 20_000, label: "watcher" });
      const port = w.remotePort();
      const i = cluster.servers.findIndex((s) => s.endsWith(`:${port}`));
      assert.ok(i >= 0, `could not tell which server the client is on (remote port ${port})`);
      const n = `${root}/watched`;
      const setup = await client({ connectString: cluster.servers[i], label: "setup" });
      await setup.create(n, { data: "0" });
      await w.create(`${root}/eph`, { mode: CreateMode.EPHEMERAL });
      const sid = w.sessionId();
      const data = new WatchLog();
      assert.equal((await w.getData(n, data.fn)).data?.toString(), "0");
      const kids = new WatchLog();
      await w.getChildren(root, kids.fn);

      const disconnected = w.next("disconnected", 10_000);
      const reconnected = w.next("connected", 60_000);
      defer(() => cluster.restart(i));
      await cluster.kill(i);
      await disconnected;
      await reconnected;
      assert.equal(w.sessionId(), sid, "the session moved to another server");
      assert.notEqual(w.remotePort(), port, "reconnected to a different server");
      assert.equal(data.events.length, 0, `no spurious event on failover: ${data.describe()}`);
      // If the killed server led the ensemble, the server the client reached first may not have
      // noticed yet, answer its reads, and then drop it on losing its leader. node-zookeeper-client
      // queues one more setWatches per connect attempt and sends them all once a server accepts
      // it; each fires for a change made in the meantime (Apache ZooKeeper does the same). A write
      // of the watcher's own commits only under a live leader, so once it succeeds the client is
      // back in service, its watches re-registered, before the writes below. (setData on the
      // ephemeral fires neither watch and is safe to retry.)
      await eventually(
        async () => {
          try {
            await w.setData(`${root}/eph`, "probe");
            return true;
          } catch {
            return false;
          }
        },
        30_000,
        "a write by the watcher through the new leader",
      );

      const others = cluster.servers.filter((_, k) => k !== i).join(",");
      const writer = await client({ connectString: others, label: "writer" });
      // The writer's server may lag the session's writes by a moment (no sync() in this client).
      await eventually(async () => (await writer.exists(`${root}/eph`)) !== null, 5000, "the ephemeral on the writer's server");
      const st = await writer.exists(`${root}/eph`);
      assert.ok(st, "the ephemeral survives its server's death");
      assert.equal(st.ephemeralOwner.toString("hex"), sid);
      await writer.setData(n, "1");
      await writer.setData(n, "2");
      await data.waitFor(1, 10_000, "data watch after failover");
      await writer.create(`${root}/new-child`);
      await kids.waitFor(1, 10_000, "child watch after failover");
      await sleep(QUIET_MS);
      assert.deepEqual(data.events, [{ type: EventType.NODE_DATA_CHANGED, path: n }], `events: ${data.describe()}`);
      assert.deepEqual(kids.events, [{ type: EventType.NODE_CHILDREN_CHANGED, path: root }]);
      assert.equal(w.count(n, EventType.NODE_DATA_CHANGED), 1, "exactly one notification on the wire");
      await eventually(async () => (await w.getData(n)).data?.toString() === "2", 5000, "the new server to show the latest write");
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Running

export interface CheckResult {
  name: string;
  ok: boolean;
  /** True when the cluster has fewer servers than the check needs. */
  skipped: boolean;
  error?: string;
  ms: number;
}

/** Checks that apply to a cluster of `servers` servers. */
export function applicableNodeChecks(servers: number): NodeCheck[] {
  return nodeClientChecks.filter((c) => (c.minServers ?? 1) <= servers);
}

let rotation = 0;

/** Runs one check by name against `cluster`; throws (an AssertionError) if it fails. */
export async function runNodeClientCheck(cluster: ZkCluster, name: string): Promise<void> {
  const check = nodeClientChecks.find((c) => c.name === name);
  if (!check) throw new Error(`no node-client check named ${name}`);
  if ((check.minServers ?? 1) > cluster.servers.length) {
    throw new Error(`${name} needs ${check.minServers} servers; the cluster has ${cluster.servers.length}`);
  }
  const clients: ZkClient[] = [];
  const deferred: Array<() => Promise<void> | void> = [];
  const root = `/interop-node-${name}-${randomBytes(4).toString("hex")}`;
  const home = cluster.servers[rotation++ % cluster.servers.length] ?? cluster.connectString;
  const ctx: NodeCheckContext = {
    cluster,
    home,
    root,
    async client(opts = {}) {
      const c = await connectClient(opts.connectString ?? home, opts);
      clients.push(c);
      return c;
    },
    defer(fn) {
      deferred.push(fn);
    },
  };
  const admin = await connectClient(home, { label: "admin" });
  try {
    await admin.create(root);
    await withTimeout(check.run(ctx), check.timeoutMs ?? 20_000, `check ${name}`);
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    for (const fn of deferred.reverse()) await Promise.resolve().then(fn).catch(() => {});
    await admin.close();
  }
}

/** Runs the checks (all that apply to the cluster's size, or `only`) one after another. */
export async function runNodeClientSuite(
  cluster: ZkCluster,
  opts: { only?: string[]; skip?: string[] } = {},
): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  for (const check of nodeClientChecks) {
    if (opts.only && !opts.only.includes(check.name)) continue;
    if (opts.skip?.includes(check.name)) continue;
    const start = Date.now();
    if ((check.minServers ?? 1) > cluster.servers.length) {
      results.push({ name: check.name, ok: true, skipped: true, ms: 0 });
      continue;
    }
    try {
      await runNodeClientCheck(cluster, check.name);
      results.push({ name: check.name, ok: true, skipped: false, ms: Date.now() - start });
    } catch (e) {
      results.push({ name: check.name, ok: false, skipped: false, error: e instanceof Error ? e.message : String(e), ms: Date.now() - start });
    }
  }
  return results;
}
