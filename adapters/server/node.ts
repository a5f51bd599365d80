/**
 * A whole Sequent coordination node: a replica (consensus, disk, tree) and the ZooKeeper client
 * port in front of it.
 */
import { mkdirSync } from "node:fs"
import type { NodeConfig } from "./config.ts"
import { Replica } from "./replica.ts"
import { ZkServer } from "./zk-server.ts"

export interface RunningNode {
  readonly replica: Replica
  readonly zk: ZkServer
  stop(): Promise<void>
}

export async function startNode(config: NodeConfig, log: (line: string) => void = console.log): Promise<RunningNode> {
  const me = config.members.find((m) => m.id === config.id)!
  const prefixed = (line: string): void => log(`[node ${config.id}] ${line}`)
  mkdirSync(config.dataDir, { recursive: true })
  let zk: ZkServer | undefined
  const replica = new Replica(
    {
      id: config.id,
      voters: config.members.filter((m) => !m.observer).map((m) => m.id),
      observers: config.members.filter((m) => m.observer).map((m) => m.id),
      peers: config.members.map((m) => ({ id: m.id, host: m.host, port: m.peerPort })),
      dataDir: config.dataDir,
      tickMs: config.tickMs,
      snapshotEvery: config.snapshotEvery,
      log: prefixed,
    },
    {
      onApplied: (a) => zk?.applied(a),
      onServingChanged: (serving) => zk?.servingChanged(serving),
    },
  )
  zk = new ZkServer(config.id, () => replica, {
    host: config.clientBindHost ?? me.host,
    port: me.clientPort,
    tickTimeMs: config.tickTimeMs,
    maxBuffer: config.maxBuffer,
    writeTimeoutMs: 20 * config.tickMs + 10_000,
    log: prefixed,
  })
  await replica.start()
  await zk.start()
  prefixed(`${me.observer ? "observer" : "voter"} up: clients on ${me.host}:${me.clientPort}, peers on ${me.host}:${me.peerPort}, data in ${config.dataDir}`)
  const server = zk
  return {
    replica,
    zk: server,
    async stop() {
      await server.stop()
      await replica.stop()
    },
  }
}
