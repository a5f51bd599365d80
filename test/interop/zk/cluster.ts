// What the ZooKeeper interop suites need from a server under test, so the same suites run
// against real Apache ZooKeeper (the ground truth) and against Sequent.

import { startApacheZooKeeper } from "./apache.ts";
import { startSequentEnsemble } from "./sequent.ts";

export interface ZkCluster {
  /** Comma-separated "host:port" list of every server, as ZooKeeper clients take it. */
  readonly connectString: string;
  /** "host:port" of each server, by index (the index kill/restart take). */
  readonly servers: readonly string[];
  /** Hard-kills server i (no goodbye to clients or peers). */
  kill(i: number): Promise<void>;
  /** (Re)starts server i with its old state and resolves once it serves clients again. */
  restart(i: number): Promise<void>;
  /** Stops every server and frees what the cluster used. */
  stop(): Promise<void>;
}

export type ZkClusterKind = "apache" | "sequent";

export interface StartClusterOptions {
  /** 1 = a single (standalone) server; 3 = a three-server ensemble. Default 1. */
  servers?: number;
  /** Base tick in ms (session timeouts are negotiated to [2, 20] ticks). Default 2000. */
  tickTime?: number;
}

export async function startCluster(kind: ZkClusterKind, opts: StartClusterOptions = {}): Promise<ZkCluster> {
  switch (kind) {
    case "apache":
      return startApacheZooKeeper({
        ...(opts.servers !== undefined ? { servers: opts.servers } : {}),
        ...(opts.tickTime !== undefined ? { tickTime: opts.tickTime } : {}),
      });
    case "sequent": {
      const ens = await startSequentEnsemble({
        voters: opts.servers ?? 1,
        ...(opts.tickTime !== undefined ? { tickTimeMs: opts.tickTime } : {}),
      });
      return {
        connectString: ens.connectString,
        servers: [...ens.servers],
        kill: (i) => ens.kill(i),
        restart: async (i) => {
          await ens.restart(i);
          await ens.waitServing();
        },
        stop: () => ens.stop(),
      };
    }
  }
}
