// Starts a real Apache ZooKeeper (standalone or a local 3-server ensemble) from Maven Central
// jars, as the ground truth the interop suites are checked against and as a baseline for the
// benchmark.
//
// The jars come from `test/interop/zk/apache-pom.xml` (org.apache.zookeeper:zookeeper plus
// slf4j-simple for the server log), resolved with `mvn dependency:build-classpath` into the
// user's Maven cache; the resulting classpath is cached under node_modules/.cache keyed by the
// pom's hash. Each server runs `QuorumPeerMain` in its own JVM with a zoo.cfg in a temp dir.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { withDirLock } from "../../support/dir-lock.ts";
import { fourLetterWord, freePorts } from "../../support/net.ts";
import type { ZkCluster } from "./cluster.ts";

export { withDirLock };

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "..", "..", "..");
export const APACHE_POM = path.join(here, "apache-pom.xml");

/** Where built/resolved artifacts of the interop suites are cached (never committed). */
export const interopCacheDir = (): string => path.join(repoRoot, "node_modules", ".cache", "sequent-zk-interop");

const mavenRepo = (): string => path.join(os.homedir(), ".m2", "repository");
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The ZooKeeper version the pom pins (`<zookeeper.version>`). */
export function apacheZooKeeperVersion(): string {
  const m = /<zookeeper\.version>([^<]+)<\/zookeeper\.version>/.exec(readFileSync(APACHE_POM, "utf8"));
  if (!m?.[1]) throw new Error(`${APACHE_POM} has no <zookeeper.version>`);
  return m[1];
}


/**
 * Runs Maven: offline first (fast, and works without a network when everything is cached), then
 * online from Maven Central if the offline run could not resolve something.
 */
export async function runMaven(args: string[], timeoutMs = 8 * 60_000): Promise<void> {
  const base = ["-q", "-B", "-Dstyle.color=never", `-Dmaven.repo.local=${mavenRepo()}`];
  const run = (extra: string[]) =>
    promisify(execFile)("mvn", [...base, ...extra, ...args], { timeout: timeoutMs, maxBuffer: 32 << 20 });
  try {
    await run(["-o"]);
  } catch {
    try {
      await run([]);
    } catch (e) {
      const err = e as { message: string; stdout?: string; stderr?: string };
      throw new Error(`mvn ${args.join(" ")} failed: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`);
    }
  }
}

export const sha256Hex = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

/** A cached classpath is usable if every entry still exists (the Maven cache may have been wiped). */
export async function readCachedClasspath(file: string): Promise<string | undefined> {
  const cp = await readFile(file, "utf8").catch(() => undefined);
  if (!cp?.trim()) return undefined;
  return cp.trim().split(path.delimiter).every((p) => existsSync(p)) ? cp.trim() : undefined;
}

/**
 * Runtime classpath of the artifacts `pom` depends on (resolving them from Maven Central on first
 * use), cached under node_modules/.cache keyed by the pom's content.
 */
export async function mavenClasspath(pom: string, cacheKey: string): Promise<string> {
  const pomHash = sha256Hex(await readFile(pom));
  const cacheFile = path.join(interopCacheDir(), `${cacheKey}-${pomHash.slice(0, 16)}.classpath`);
  const cached = await readCachedClasspath(cacheFile);
  if (cached) return cached;
  return withDirLock(path.join(interopCacheDir(), `${cacheKey}.lock`), 10 * 60_000, async () => {
    const again = await readCachedClasspath(cacheFile);
    if (again) return again;
    const tmp = `${cacheFile}.${process.pid}.tmp`;
    await runMaven(["-f", pom, "dependency:build-classpath", `-Dmdep.outputFile=${tmp}`, "-Dmdep.includeScope=runtime"]);
    const cp = (await readFile(tmp, "utf8")).trim();
    await rm(tmp, { force: true });
    if (!cp) throw new Error(`mvn dependency:build-classpath on ${pom} gave an empty classpath`);
    await writeFile(cacheFile, cp);
    return cp;
  });
}

let apacheClasspath: Promise<string> | undefined;

/** Classpath of Apache ZooKeeper (server + client) and its runtime dependencies. */
export function apacheZooKeeperClasspath(): Promise<string> {
  apacheClasspath ??= mavenClasspath(APACHE_POM, "apache-zookeeper").catch((e: unknown) => {
    apacheClasspath = undefined;
    throw e;
  });
  return apacheClasspath;
}


/**
 * True if a ZooKeeper-protocol server at host:port is serving: it answers a ConnectRequest with a
 * ConnectResponse carrying a positive session timeout (a quorum member that has not joined a
 * quorum yet accepts the TCP connection but closes it). The probe's session is closed at once.
 */
export function probeZooKeeper(host: string, port: number, timeoutMs = 2000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    let buf = Buffer.alloc(0);
    let done = false;
    const finish = (ok: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (ok) {
        // closeSession (xid 1, type -11), then hang up shortly after.
        const close = Buffer.alloc(12);
        close.writeInt32BE(8, 0);
        close.writeInt32BE(1, 4);
        close.writeInt32BE(-11, 8);
        sock.write(close);
        setTimeout(() => sock.destroy(), 100).unref();
      } else {
        sock.destroy();
      }
      resolve(ok);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    sock.on("error", () => finish(false));
    sock.on("close", () => finish(false));
    sock.on("connect", () => {
      const req = Buffer.alloc(4 + 45);
      let o = 0;
      o = req.writeInt32BE(45, o);
      o = req.writeInt32BE(0, o); // protocolVersion
      o = req.writeBigInt64BE(0n, o); // lastZxidSeen
      o = req.writeInt32BE(10_000, o); // timeOut
      o = req.writeBigInt64BE(0n, o); // sessionId
      o = req.writeInt32BE(16, o); // passwd length (16 zero bytes follow)
      o += 16;
      req.writeUInt8(0, o); // readOnly = false
      sock.write(req);
    });
    sock.on("data", (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < 4) return;
      const len = buf.readInt32BE(0);
      if (buf.length < 4 + len) return;
      // ConnectResponse: int protocolVersion, int timeOut, long sessionId, buffer passwd
      finish(len >= 8 && buf.readInt32BE(8) > 0);
    });
  });
}


export interface ApacheZooKeeperOptions {
  /** Number of servers: 1 = standalone, otherwise a local ensemble (3 is the usual). Default 1. */
  servers?: number;
  /** zoo.cfg tickTime in ms (session timeouts are bounded to [2, 20] ticks). Default 2000. */
  tickTime?: number;
  /** How often the container manager deletes empty containers and expired TTL nodes. Default 1000 ms. */
  containerCheckIntervalMs?: number;
  /** Max heap of each JVM. Default "256m". */
  heap?: string;
  /** How long to wait for the servers to serve. Default 90 s. */
  startTimeoutMs?: number;
  /** Keep the temp dir (configs, data, logs) after stop(), for debugging. Default: env ZK_INTEROP_KEEP. */
  keepDir?: boolean;
}

export interface ApacheZkCluster extends ZkCluster {
  /** Temp dir with srv<i>/zoo.cfg, srv<i>/data, srv<i>/zookeeper.log. */
  readonly dir: string;
  readonly version: string;
  /** Whether server i's JVM is running. */
  isRunning(i: number): boolean;
  /** Last `lines` lines of server i's log. */
  logTail(i: number, lines?: number): Promise<string>;
  /** "leader" / "follower" / "standalone" from the `srvr` four-letter word, or undefined if it is down. */
  mode(i: number): Promise<string | undefined>;
}

interface ServerSlot {
  id: number; // myid, 1-based
  clientPort: number;
  dir: string;
  cfg: string;
  log: string;
  proc: ChildProcess | undefined;
  exited: Promise<void> | undefined;
}

const liveJvms = new Set<ChildProcess>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A test runner that dies must not leave ZooKeeper JVMs behind.
  process.once("exit", () => {
    for (const p of liveJvms) p.kill("SIGKILL");
  });
}

async function tail(file: string, lines: number): Promise<string> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").slice(-lines).join("\n");
}

/** Starts Apache ZooKeeper and resolves once every server answers a ConnectRequest. */
export async function startApacheZooKeeper(opts: ApacheZooKeeperOptions = {}): Promise<ApacheZkCluster> {
  const n = opts.servers ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new Error(`servers must be a positive integer, got ${n}`);
  const tickTime = opts.tickTime ?? 2000;
  const heap = opts.heap ?? "256m";
  const startTimeoutMs = opts.startTimeoutMs ?? 90_000;
  const keepDir = opts.keepDir ?? !!process.env.ZK_INTEROP_KEEP;
  const version = apacheZooKeeperVersion();
  const classpath = await apacheZooKeeperClasspath();
  installExitHook();

  const dir = await mkdtemp(path.join(os.tmpdir(), "sequent-apache-zk-"));
  const ports = await freePorts(n * 3);
  const port = (k: number) => ports[k] as number;
  const slots: ServerSlot[] = [];
  for (let i = 0; i < n; i++) {
    const sdir = path.join(dir, `srv${i}`);
    const dataDir = path.join(sdir, "data");
    await mkdir(dataDir, { recursive: true });
    const lines = [
      `tickTime=${tickTime}`,
      `dataDir=${dataDir}`,
      `clientPort=${port(i)}`,
      "clientPortAddress=127.0.0.1",
      "maxClientCnxns=0",
      "admin.enableServer=false",
      "4lw.commands.whitelist=*",
      "autopurge.purgeInterval=0",
    ];
    if (n > 1) {
      lines.push("initLimit=10", "syncLimit=5", "standaloneEnabled=false", "reconfigEnabled=false");
      for (let j = 0; j < n; j++) lines.push(`server.${j + 1}=127.0.0.1:${port(n + j)}:${port(2 * n + j)}`);
      await writeFile(path.join(dataDir, "myid"), `${i + 1}\n`);
    }
    const cfg = path.join(sdir, "zoo.cfg");
    await writeFile(cfg, lines.join("\n") + "\n");
    slots.push({ id: i + 1, clientPort: port(i), dir: sdir, cfg, log: path.join(sdir, "zookeeper.log"), proc: undefined, exited: undefined });
  }

  const slot = (i: number): ServerSlot => {
    const s = slots[i];
    if (!s) throw new Error(`no server ${i} (cluster has ${n})`);
    return s;
  };

  const launch = (s: ServerSlot) => {
    const out = openSync(path.join(s.dir, "jvm.out"), "a");
    const args = [
      `-Xmx${heap}`,
      "-XX:+UseSerialGC",
      "-XX:TieredStopAtLevel=1",
      "-Dzookeeper.extendedTypesEnabled=true",
      "-Dzookeeper.admin.enableServer=false",
      "-Dzookeeper.4lw.commands.whitelist=*",
      `-Dznode.container.checkIntervalMs=${opts.containerCheckIntervalMs ?? 1000}`,
      "-Dzookeeper.jmx.log4j.disable=true",
      `-Dorg.slf4j.simpleLogger.logFile=${s.log}`,
      "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
      "-Dorg.slf4j.simpleLogger.showDateTime=true",
      "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS",
      "-cp",
      classpath,
      "org.apache.zookeeper.server.quorum.QuorumPeerMain",
      s.cfg,
    ];
    const proc = spawn("java", args, { stdio: ["ignore", out, out] });
    closeSync(out);
    liveJvms.add(proc);
    s.proc = proc;
    s.exited = new Promise<void>((resolve) => {
      proc.once("exit", () => {
        liveJvms.delete(proc);
        if (s.proc === proc) s.proc = undefined;
        resolve();
      });
      proc.once("error", () => {
        liveJvms.delete(proc);
        if (s.proc === proc) s.proc = undefined;
        resolve();
      });
    });
  };

  const waitServing = async (idx: number[]) => {
    const deadline = Date.now() + startTimeoutMs;
    const pending = new Set(idx);
    while (pending.size > 0) {
      for (const i of [...pending]) {
        const s = slot(i);
        if (!s.proc) {
          throw new Error(
            `Apache ZooKeeper server ${i} exited during startup; log tail:\n${await tail(s.log, 40)}\n${await tail(path.join(s.dir, "jvm.out"), 20)}`,
          );
        }
        if (await probeZooKeeper("127.0.0.1", s.clientPort, 1000)) {
          pending.delete(i);
          continue;
        }
        // A server whose main thread died (e.g. a class missing from the classpath) keeps its
        // JVM alive through non-daemon threads: fail fast instead of waiting for the deadline.
        const log = await readFile(s.log, "utf8").catch(() => "");
        if (/Thread\[main[^\]]*\] died|Exception in thread "main"|Unexpected exception, exiting abnormally/.test(log)) {
          throw new Error(`Apache ZooKeeper server ${i} failed to start; log tail:\n${await tail(s.log, 40)}`);
        }
      }
      if (pending.size === 0) break;
      if (Date.now() > deadline) {
        const tails = await Promise.all([...pending].map(async (i) => `--- server ${i}\n${await tail(slot(i).log, 30)}`));
        throw new Error(`Apache ZooKeeper servers ${[...pending].join(",")} not serving after ${startTimeoutMs} ms\n${tails.join("\n")}`);
      }
      await sleep(200);
    }
  };

  const killSlot = async (s: ServerSlot) => {
    const p = s.proc;
    if (!p) return;
    p.kill("SIGKILL");
    await s.exited;
  };

  const all = slots.map((_, i) => i);
  try {
    for (const s of slots) launch(s);
    await waitServing(all);
  } catch (e) {
    await Promise.all(slots.map(killSlot));
    if (!keepDir) await rm(dir, { recursive: true, force: true });
    throw e;
  }

  const servers = slots.map((s) => `127.0.0.1:${s.clientPort}`);
  let stopped = false;
  return {
    connectString: servers.join(","),
    servers,
    dir,
    version,
    isRunning: (i) => !!slot(i).proc,
    logTail: (i, lines = 50) => tail(slot(i).log, lines),
    async mode(i) {
      if (!slot(i).proc) return undefined;
      const reply = await fourLetterWord("127.0.0.1", slot(i).clientPort, "srvr").catch(() => "");
      return /^Mode: (\S+)/m.exec(reply)?.[1];
    },
    async kill(i) {
      await killSlot(slot(i));
    },
    async restart(i) {
      if (stopped) throw new Error("cluster is stopped");
      const s = slot(i);
      await killSlot(s);
      launch(s);
      await waitServing([i]);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(slots.map(killSlot));
      if (!keepDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
