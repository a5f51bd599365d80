// These tests really run TLC (a JVM start each, a few seconds). They prove the runner can FAIL:
// a broken spec, a bad trace and a timeout must each come out as failures.

import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { checkSpecs, main } from "../../scripts/tlc.ts";
import { checkTrace, ensureTlcJar, runTlc, toTla, writeTraceModule } from "./tlc.ts";

const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), "fixtures");
const TLC_TIMEOUT = 120_000;

const scratchDirs: string[] = [];
async function scratch(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "tlc-test-"));
  scratchDirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(scratchDirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

// Fetching the jar may take a while the first time on a fresh machine.
beforeAll(() => ensureTlcJar(), 600_000);

describe("runTlc", () => {
  it("passes a correct spec and reports the state counts", { timeout: TLC_TIMEOUT }, async () => {
    const r = await runTlc({ dir: FIXTURES, spec: "Counter.tla", config: "Counter.cfg", timeoutSec: 100 });
    expect(r.exitCode, r.output).toBe(0);
    expect(r.ok).toBe(true);
    expect(r.verdict).toBe("no error found");
    expect(r.distinctStates).toBe(6); // x = 0..5
    expect(r.statesGenerated).toBeGreaterThan(0);
    expect(r.depth).toBe(6);
    expect(r.violatedInvariant).toBeUndefined();
  });

  it("fails a broken spec with the invariant's name and a counterexample", { timeout: TLC_TIMEOUT }, async () => {
    const r = await runTlc({ dir: FIXTURES, spec: "CounterBroken.tla", config: "CounterBroken.cfg", timeoutSec: 100 });
    expect(r.exitCode, r.output).toBe(12);
    expect(r.ok).toBe(false);
    expect(r.verdict).toBe("invariant violated");
    expect(r.violatedInvariant).toBe("NeverMax");
    expect(r.counterexample).toMatch(/^State 1: <Initial predicate>\nx = 0/);
    expect(r.counterexample).toContain("x = 3"); // the violating state, Max = 3
    expect(r.counterexample).not.toMatch(/states generated/);
  });

  it("kills TLC on timeout and reports it as a failure", { timeout: TLC_TIMEOUT }, async () => {
    const dir = await scratch();
    await copyFile(path.join(FIXTURES, "Counter.tla"), path.join(dir, "Counter.tla"));
    await writeFile(path.join(dir, "Huge.cfg"), "CONSTANT Max = 1000000000\nINIT Init\nNEXT Next\n");
    const r = await runTlc({ dir, spec: "Counter.tla", config: "Huge.cfg", timeoutSec: 4 });
    expect(r.timedOut).toBe(true);
    expect(r.ok).toBe(false);
    expect(r.exitCode).toBeNull();
    expect(r.verdict).toMatch(/timed out after 4s/);
    expect(r.seconds).toBeLessThan(30);
  });

  it("reports a parse error as such", { timeout: TLC_TIMEOUT }, async () => {
    const dir = await scratch();
    await writeFile(path.join(dir, "Bad.tla"), "---- MODULE Bad ----\nVARIABLE x\nInit == x = \n====\n");
    await writeFile(path.join(dir, "Bad.cfg"), "INIT Init\n");
    const r = await runTlc({ dir, spec: "Bad.tla", config: "Bad.cfg", timeoutSec: 100 });
    expect(r.exitCode).toBe(150);
    expect(r.ok).toBe(false);
    expect(r.verdict).toBe("spec parse error");
  });
});

describe("checkTrace", () => {
  // The trace spec, the spec it checks against and a generated data module, side by side, as the
  // project does with ZabTraceData.tla.
  async function traceDir(trace: { x: number }[]): Promise<string> {
    const dir = await scratch();
    await copyFile(path.join(FIXTURES, "Counter.tla"), path.join(dir, "Counter.tla"));
    for (const f of ["CounterTrace.tla", "CounterTrace.cfg"]) {
      await copyFile(path.join(FIXTURES, "trace", f), path.join(dir, f));
    }
    await writeTraceModule(dir, "CounterTraceData", trace);
    return dir;
  }
  const check = (dir: string) =>
    checkTrace({ dir, traceSpec: "CounterTrace.tla", config: "CounterTrace.cfg", timeoutSec: 100, acceptInvariant: "TraceNotFinished" });

  it("accepts a trace the spec allows", { timeout: TLC_TIMEOUT }, async () => {
    const { accepted, result, reason } = await check(await traceDir([{ x: 0 }, { x: 1 }, { x: 2 }]));
    expect(accepted, `${reason}\n${result.output}`).toBe(true);
    expect(result.exitCode).toBe(12);
  });

  it("rejects a trace that skips a step, saying how far it got", { timeout: TLC_TIMEOUT }, async () => {
    const c = await check(await traceDir([{ x: 0 }, { x: 1 }, { x: 3 }, { x: 4 }]));
    expect(c.accepted).toBe(false);
    expect(c.result.exitCode).toBe(0); // -deadlock: the search just runs dry
    expect(c.matchedLines).toBe(2);
    expect(c.reason).toMatch(/cannot reach the end of the trace.*2 line/);
  });

  it("rejects a trace whose first line is not an initial state", { timeout: TLC_TIMEOUT }, async () => {
    const c = await check(await traceDir([{ x: 5 }, { x: 6 }]));
    expect(c.accepted).toBe(false);
    expect(c.matchedLines).toBe(0);
  });

  it("rejects a trace module that does not parse", { timeout: TLC_TIMEOUT }, async () => {
    const dir = await traceDir([{ x: 0 }]);
    await writeFile(path.join(dir, "CounterTraceData.tla"), "---- MODULE CounterTraceData ----\nTrace == <<\n====\n");
    const c = await check(dir);
    expect(c.accepted).toBe(false);
    expect(c.reason).toMatch(/spec parse error/);
  });
});

describe("scripts/tlc.ts", () => {
  it("runs each config against its module and reports the failing one", { timeout: TLC_TIMEOUT }, async () => {
    const summaries = await checkSpecs({ dir: FIXTURES, timeoutSec: 100 });
    expect(summaries.map((s) => [s.config, s.module, s.passed])).toEqual([
      ["Counter.cfg", "Counter.tla", true],
      ["CounterBroken.cfg", "CounterBroken.tla", false],
    ]);
  });

  it("exits non-zero when nothing is found", async () => {
    expect(await main(["--dir", await scratch()])).toBe(1);
  });
});

describe("toTla", () => {
  it("renders records, sequences, sets and escaped strings", () => {
    expect(toTla({ zxid: 7, ok: true, log: [1, 2n], peers: new Set(["a\"b", "c\\d\n"]) })).toBe(
      '[zxid |-> 7, ok |-> TRUE, log |-> <<1, 2>>, peers |-> {"a\\"b", "c\\\\d\\n"}]',
    );
    expect(toTla([])).toBe("<<>>");
  });

  it("refuses values TLC cannot represent", () => {
    expect(() => toTla(2 ** 31)).toThrow(/32-bit/);
    expect(() => toTla(1.5)).toThrow(/non-integer/);
    expect(() => toTla({ "not-ident": 1 })).toThrow(/identifier/);
  });
});
