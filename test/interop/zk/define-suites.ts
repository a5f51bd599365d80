// The ZooKeeper client-interop suites (node-zookeeper-client and the official Java client) as
// vitest suites against a server of either kind: Apache ZooKeeper (which proves the suites right)
// or Sequent (which must pass the same checks).
//
// A single server for most checks; a 3-server ensemble for the server-kill check.

import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { startCluster, type ZkCluster, type ZkClusterKind } from "./cluster.ts";
import { ensureJavaInterop, JAVA_INTEROP_CHECKS, runJavaInterop, type JavaInteropRun } from "./java.ts";
import { nodeClientChecks, runNodeClientCheck } from "./node-client-suite.ts";

const nodeTimeout = (name: string) => (nodeClientChecks.find((c) => c.name === name)?.timeoutMs ?? 20_000) + 15_000;

export function defineZkInteropSuites(kind: ZkClusterKind, title: string, skip = false): void {
describe.skipIf(skip)(title, () => {
  describe("standalone", () => {
    let zk: ZkCluster | undefined;
    const cluster = (): ZkCluster => {
      if (!zk) throw new Error(`${kind} did not start`);
      return zk;
    };
    beforeAll(async () => {
      // The Java build (Maven) and the server start overlap.
      const [cluster] = await Promise.all([startCluster(kind, { servers: 1 }), ensureJavaInterop()]);
      zk = cluster;
    }, 240_000);
    afterAll(async () => {
      await zk?.stop();
    }, 30_000);

    for (const check of nodeClientChecks.filter((c) => (c.minServers ?? 1) <= 1)) {
      it(`node-zookeeper-client: ${check.name}`, () => runNodeClientCheck(cluster(), check.name), nodeTimeout(check.name));
    }

    describe("Java client", () => {
      let run: JavaInteropRun | undefined;
      beforeAll(async () => {
        run = await runJavaInterop(cluster().connectString, { timeoutMs: 150_000 });
      }, 180_000);

      it("ran every check", () => {
        if (!run) throw new Error("ZkInterop did not run");
        expect(run.timedOut, "ZkInterop timed out").toBe(false);
        expect(run.results.map((r) => r.name), `stdout:\n${run.stdout}\nstderr:\n${run.stderr.slice(-4000)}`).toEqual([
          ...JAVA_INTEROP_CHECKS,
        ]);
        expect(run.exitCode, "exit code").toBe(run.results.every((r) => r.ok) ? 0 : 1);
      });
      for (const name of JAVA_INTEROP_CHECKS) {
        it(`java client: ${name}`, () => {
          const r = run?.results.find((x) => x.name === name);
          if (!r) throw new Error(`ZkInterop printed no line for ${name}`);
          if (!r.ok) throw new Error(r.reason);
        });
      }
    });
  });

  describe("3-server ensemble", () => {
    let zk: ZkCluster | undefined;
    beforeAll(async () => {
      zk = await startCluster(kind, { servers: 3 });
    }, 180_000);
    afterAll(async () => {
      await zk?.stop();
    }, 30_000);

    for (const check of nodeClientChecks.filter((c) => (c.minServers ?? 1) > 1)) {
      it(
        `node-zookeeper-client: ${check.name}`,
        () => {
          if (!zk) throw new Error(`the ${kind} ensemble did not start`);
          return runNodeClientCheck(zk, check.name);
        },
        nodeTimeout(check.name),
      );
    }
  });
});
}
