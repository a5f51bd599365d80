// `npm run spec` / `npm run spec:deep`: model-checks every config in spec/ with TLC.
//
//   tsx scripts/tlc.ts [--deep] [--timeout S] [--workers N] [--dir DIR] [NAME...]
//
// Normal runs take every spec/*.cfg whose name has no ".deep."; --deep takes only *.deep.cfg.
// The module checked for X.cfg, X.deep.cfg (or any X.<variant>.cfg) is X.tla. NAMEs restrict
// the run to configs whose file name starts with one of them.
//
// Time bound per config: 600 s (3600 s with --deep), unless the cfg has a line
// `\* TLC-TIMEOUT: S`; --timeout overrides both.

import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { runTlc, type TlcResult } from "../test/tlc/tlc.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface Summary {
  /** Config file name, e.g. "Zab.cfg". */
  config: string;
  /** Module file checked, e.g. "Zab.tla". */
  module: string;
  timeoutSec: number;
  passed: boolean;
  result: TlcResult;
}

export interface CheckOptions {
  deep?: boolean;
  /** Directory of the specs and configs; defaults to the repo's spec/. */
  dir?: string;
  /** Overrides the default and any TLC-TIMEOUT line. */
  timeoutSec?: number;
  workers?: number;
  /** Keep only configs whose file name starts with one of these. */
  only?: string[];
  /** Called as each config finishes, so long runs report progress. */
  onResult?: (s: Summary) => void;
}

/** The configs a run covers, sorted by name. */
export async function findConfigs(dir: string, deep: boolean, only: string[] = []): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names
    .filter((n) => n.endsWith(".cfg") && n.includes(".deep.") === deep)
    .filter((n) => only.length === 0 || only.some((o) => n.startsWith(o)))
    .sort();
}

/** Checks each config in turn (TLC already uses every core, so running them in parallel gains nothing). */
export async function checkSpecs(opts: CheckOptions = {}): Promise<Summary[]> {
  const deep = opts.deep ?? false;
  const dir = opts.dir ?? path.join(REPO, "spec");
  const summaries: Summary[] = [];
  for (const config of await findConfigs(dir, deep, opts.only)) {
    const module = `${config.split(".")[0]}.tla`;
    const inCfg = /^\\\*\s*TLC-TIMEOUT:\s*(\d+)\s*$/m.exec(await readFile(path.join(dir, config), "utf8"));
    const timeoutSec = opts.timeoutSec ?? (inCfg ? Number(inCfg[1]) : deep ? 3600 : 600);
    const result = await runTlc({
      dir,
      spec: module,
      config,
      timeoutSec,
      ...(opts.workers === undefined ? {} : { workers: opts.workers }),
    });
    const summary = { config, module, timeoutSec, passed: result.ok, result };
    opts.onResult?.(summary);
    summaries.push(summary);
  }
  return summaries;
}

const fmt = (n: number | undefined) => (n === undefined ? "?" : n.toLocaleString("en-US"));

export function formatSummary(s: Summary): string {
  const r = s.result;
  const line =
    `${s.config.padEnd(28)} ${s.passed ? "PASS" : "FAIL"}  ` +
    `${fmt(r.distinctStates)} distinct, ${fmt(r.statesGenerated)} generated, depth ${fmt(r.depth)}, ${r.seconds}s`;
  if (s.passed) return line;
  const details = [
    r.violatedInvariant ? `  invariant ${r.violatedInvariant} violated` : `  ${r.verdict}${r.error ? `: ${r.error}` : ""}`,
  ];
  if (r.counterexample) details.push("  counterexample:", indent(r.counterexample));
  // Without a trace (parse errors, crashes), TLC's own last words are the explanation.
  else details.push("  TLC output (tail):", indent(r.output.trimEnd().split("\n").slice(-30).join("\n")));
  return [line, ...details].join("\n");
}

const indent = (text: string) => text.replace(/^(?=.)/gm, "    ");

/** Runs the CLI and returns its exit code. */
export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      deep: { type: "boolean", default: false },
      timeout: { type: "string" },
      workers: { type: "string" },
      dir: { type: "string" },
    },
  });
  const dir = path.resolve(values.dir ?? path.join(REPO, "spec"));
  const deep = values.deep ?? false;
  const configs = await findConfigs(dir, deep, positionals);
  if (configs.length === 0) {
    // An empty run would look green while checking nothing: treat it as a broken checkout.
    console.error(`No ${deep ? "*.deep.cfg" : "*.cfg (non-deep)"} configs found in ${dir}${positionals.length ? ` matching ${positionals.join(", ")}` : ""}.`);
    return 1;
  }
  const positiveInt = (s: string | undefined, flag: string) => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} expects a positive integer, got ${s}`);
    return n;
  };
  const timeoutSec = positiveInt(values.timeout, "--timeout");
  const workers = positiveInt(values.workers, "--workers");
  console.log(`TLC: checking ${configs.length} config(s) in ${path.relative(process.cwd(), dir) || "."}${deep ? " (deep)" : ""}`);
  const summaries = await checkSpecs({
    deep,
    dir,
    only: positionals,
    ...(timeoutSec === undefined ? {} : { timeoutSec }),
    ...(workers === undefined ? {} : { workers }),
    onResult: (s) => console.log(formatSummary(s)),
  });
  const failed = summaries.filter((s) => !s.passed);
  console.log(`TLC: ${summaries.length - failed.length} passed, ${failed.length} failed`);
  return failed.length === 0 ? 0 : 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : e);
      process.exitCode = 1;
    },
  );
}
