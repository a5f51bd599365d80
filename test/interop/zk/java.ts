// Builds and runs ZkInterop (test/interop/zk/java), the ZooKeeper interop checks written against
// the official Java client, and parses its `PASS name` / `FAIL name: reason` lines.
//
// The build is `mvn compile dependency:build-classpath` on java/pom.xml with the build directory
// moved to node_modules/.cache (nothing lands in the source tree). It is cached by the hash of
// the pom and the Java source, so an unchanged program is not rebuilt; a fresh machine builds it
// from Maven Central in one Maven call.

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

import { interopCacheDir, readCachedClasspath, runMaven, sha256Hex, withDirLock } from "./apache.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const JAVA_DIR = path.join(here, "java");
const POM = path.join(JAVA_DIR, "pom.xml");
const SOURCE_DIR = path.join(JAVA_DIR, "src", "main", "java");
const MAIN_CLASS = "sequent.ZkInterop";

/** The checks ZkInterop runs, in its order (kept in step with ZkInterop.CHECKS). */
export const JAVA_INTEROP_CHECKS: readonly string[] = [
  "createModes",
  "ephemeralOwnerVisible",
  "create2Stat",
  "sequentialCounter",
  "containerLifecycle",
  "ttlExpiry",
  "casAndVersions",
  "errorCodes",
  "multiAtomic",
  "multiRead",
  "oneShotWatches",
  "persistentWatch",
  "persistentRecursiveWatch",
  "removeWatches",
  "getEphemeralsAndAllChildrenNumber",
  "whoAmI",
  "aclDigest",
  "sessionCloseRemovesEphemerals",
  "syncThenRead",
  "systemNodes",
];

export interface JavaInteropBuild {
  /** Compiled classes of ZkInterop. */
  classesDir: string;
  /** Runtime classpath of its dependencies (the ZooKeeper client, slf4j-simple, ...). */
  classpath: string;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    else if (e.name.endsWith(".java")) out.push(p);
  }
  return out.sort();
}

async function buildKey(): Promise<string> {
  const parts = [await readFile(POM, "utf8")];
  for (const f of await sourceFiles(SOURCE_DIR)) parts.push(path.relative(JAVA_DIR, f), await readFile(f, "utf8"));
  return sha256Hex(parts.join("\0")).slice(0, 16);
}

let built: Promise<JavaInteropBuild> | undefined;

/** Compiles ZkInterop unless an up-to-date build is cached; resolves to what running it needs. */
export function ensureJavaInterop(): Promise<JavaInteropBuild> {
  built ??= build().catch((e: unknown) => {
    built = undefined;
    throw e;
  });
  return built;
}

async function build(): Promise<JavaInteropBuild> {
  const key = await buildKey();
  const dir = path.join(interopCacheDir(), `java-${key}`);
  const classesDir = path.join(dir, "target", "classes");
  const cpFile = path.join(dir, "classpath.txt");
  const ready = async () =>
    existsSync(path.join(dir, "ok")) && existsSync(path.join(classesDir, ...MAIN_CLASS.split(".")) + ".class")
      ? await readCachedClasspath(cpFile)
      : undefined;
  const cached = await ready();
  if (cached) return { classesDir, classpath: cached };
  return withDirLock(path.join(interopCacheDir(), "java-build.lock"), 10 * 60_000, async () => {
    const again = await ready();
    if (again) return { classesDir, classpath: again };
    await rm(dir, { recursive: true, force: true });
    await runMaven([
      "-f",
      POM,
      `-Dsequent.buildDir=${path.join(dir, "target")}`,
      "compile",
      "dependency:build-classpath",
      `-Dmdep.outputFile=${cpFile}`,
      "-Dmdep.includeScope=runtime",
    ]);
    const cp = await readCachedClasspath(cpFile);
    if (!cp) throw new Error(`building ZkInterop left no usable classpath in ${cpFile}`);
    await writeFile(path.join(dir, "ok"), new Date().toISOString() + "\n");
    return { classesDir, classpath: cp };
  });
}

export interface JavaCheckResult {
  name: string;
  ok: boolean;
  /** Why it failed (FAIL lines only). */
  reason?: string;
  /** How long it took, as ZkInterop reported it (PASS lines only). */
  ms?: number;
}

export interface JavaInteropRun {
  results: JavaCheckResult[];
  exitCode: number | null;
  /** Whether the run was killed for taking longer than `timeoutMs`. */
  timedOut: boolean;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Parses ZkInterop's `PASS name (N ms)` / `FAIL name: reason` lines; other lines are ignored. */
export function parseJavaInteropOutput(stdout: string): JavaCheckResult[] {
  const results: JavaCheckResult[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const pass = /^PASS (\S+)(?: \((\d+) ms\))?$/.exec(line);
    if (pass?.[1]) {
      results.push({ name: pass[1], ok: true, ...(pass[2] ? { ms: Number(pass[2]) } : {}) });
      continue;
    }
    const fail = /^FAIL (\S+?): (.*)$/.exec(line);
    if (fail?.[1]) results.push({ name: fail[1], ok: false, reason: fail[2] ?? "" });
  }
  return results;
}

export interface RunJavaInteropOptions {
  /** Run only these checks. */
  only?: string[];
  /** How long container/TTL checks wait for the server to reap a node. Default 15 000 ms. */
  containerWaitMs?: number;
  /** Kill the run after this long. Default 5 minutes. */
  timeoutMs?: number;
  /** slf4j-simple level for the ZooKeeper client's own logging (to stderr). Default env ZK_INTEROP_JAVA_LOG or "off". */
  logLevel?: string;
}

/** Builds (if needed) and runs ZkInterop against `connectString`. Never rejects for failing checks. */
export async function runJavaInterop(connectString: string, opts: RunJavaInteropOptions = {}): Promise<JavaInteropRun> {
  const { classesDir, classpath } = await ensureJavaInterop();
  const args = [
    "-Xmx256m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    `-Dorg.slf4j.simpleLogger.defaultLogLevel=${opts.logLevel ?? process.env.ZK_INTEROP_JAVA_LOG ?? "off"}`,
    "-Dorg.slf4j.simpleLogger.logFile=System.err",
    "-cp",
    [classesDir, classpath].join(path.delimiter),
    MAIN_CLASS,
    connectString,
  ];
  if (opts.only) args.push("--only", opts.only.join(","));
  if (opts.containerWaitMs !== undefined) args.push("--container-wait-ms", String(opts.containerWaitMs));
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn("java", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs ?? 5 * 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ results: parseJavaInteropOutput(stdout), exitCode: code, timedOut, stdout, stderr, ms: Date.now() - start });
    });
  });
}
