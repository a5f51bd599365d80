/**
 * A real Sequent ensemble for interop tests: one OS process per node (adapters/cli/zk-node.ts),
 * on free loopback ports, data in a temp directory. `kill(i)` is a SIGKILL, so a test sees what a
 * crash really does; `restart(i)` starts the node again on the same data directory.
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { fileURLToPath } from "node:url"
import type { Member } from "../../../adapters/server/config.ts"
import { fourLetterWord, freePorts } from "../../support/net.ts"

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const nodeScript = path.join(repo, "adapters/cli/zk-node.ts")

export interface SequentEnsembleOptions {
  readonly voters?: number
  readonly observers?: number
  readonly tickMs?: number
  /** ZooKeeper tickTime; session timeouts are clamped to [2, 20] of these. */
  readonly tickTimeMs?: number
  readonly maxBuffer?: number
  readonly snapshotEvery?: number
  /** Print the nodes' output (for debugging a failing test). */
  readonly verbose?: boolean
}

export interface SequentEnsemble {
  readonly connectString: string
  /** "host:port" of each node's client port, by index (voters first, then observers). */
  readonly servers: readonly string[]
  readonly members: readonly Member[]
  readonly dataDir: string
  kill(i: number): Promise<void>
  restart(i: number): Promise<void>
  /** Index of the node that currently reports itself leader (via `srvr`), or -1. */
  leaderIndex(): Promise<number>
  /** Waits until every running node serves clients. */
  waitServing(timeoutMs?: number): Promise<void>
  stop(): Promise<void>
  /** The last lines each node printed. */
  output(i: number): string
}

/** Sends a four-letter word to "host:port"; "" when the node does not answer. */
const srvr = (server: string): Promise<string> => {
  const [host, port] = server.split(":")
  return fourLetterWord(host!, Number(port), "srvr", 2000).catch(() => "")
}

export async function startSequentEnsemble(o: SequentEnsembleOptions = {}): Promise<SequentEnsemble> {
  const voters = o.voters ?? 3
  const observers = o.observers ?? 0
  const n = voters + observers
  const ports = await freePorts(2 * n)
  const members: Member[] = Array.from({ length: n }, (_, i) => ({
    id: i + 1,
    host: "127.0.0.1",
    clientPort: ports[i]!,
    peerPort: ports[n + i]!,
    observer: i >= voters,
  }))
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "sequent-zk-"))
  const procs: (ChildProcess | undefined)[] = Array.from({ length: n })
  const outputs: string[] = Array.from({ length: n }, () => "")
  const servers = members.map((m) => `${m.host}:${m.clientPort}`)

  const spawnNode = (i: number): void => {
    const m = members[i]!
    const configFile = path.join(dataDir, `node-${m.id}.json`)
    writeFileSync(
      configFile,
      JSON.stringify({
        id: m.id,
        members,
        dataDir: path.join(dataDir, `node-${m.id}`),
        tickMs: o.tickMs ?? 50,
        tickTimeMs: o.tickTimeMs ?? 1000,
        ...(o.maxBuffer ? { maxBuffer: o.maxBuffer } : {}),
        ...(o.snapshotEvery ? { snapshotEvery: o.snapshotEvery } : {}),
      }),
    )
    const child = spawn(process.execPath, ["--import", "tsx", nodeScript, "--config", configFile], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    })
    const keep = (c: Buffer): void => {
      outputs[i] = (outputs[i] + c.toString()).slice(-20_000)
      if (o.verbose ?? process.env.SEQUENT_TEST_VERBOSE) process.stderr.write(c)
    }
    child.stdout!.on("data", keep)
    child.stderr!.on("data", keep)
    procs[i] = child
  }

  const ensemble: SequentEnsemble = {
    connectString: servers.join(","),
    servers,
    members,
    dataDir,
    async kill(i) {
      const p = procs[i]
      if (!p || p.exitCode !== null) return
      const exited = new Promise((r) => p.once("exit", r))
      p.kill("SIGKILL")
      await exited
      procs[i] = undefined
    },
    async restart(i) {
      await ensemble.kill(i)
      spawnNode(i)
    },
    async leaderIndex() {
      const answers = await Promise.all(servers.map((s, i) => (procs[i] ? srvr(s) : Promise.resolve(""))))
      return answers.findIndex((a) => a.includes("Mode: leader"))
    },
    async waitServing(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const answers = await Promise.all(servers.map((s, i) => (procs[i] ? srvr(s) : Promise.resolve("Mode: leader"))))
        if (answers.every((a) => /Mode: (leader|follower|observer)/.test(a))) return
        if (Date.now() > deadline) {
          throw new Error(`ensemble not serving after ${timeoutMs} ms:\n${answers.map((a, i) => `node ${i + 1}: ${a.split("\n")[1] ?? "no answer"}\n${outputs[i]!.slice(-1500)}`).join("\n")}`)
        }
        await new Promise((r) => setTimeout(r, 100))
      }
    },
    async stop() {
      await Promise.all(procs.map((_, i) => ensemble.kill(i)))
      rmSync(dataDir, { recursive: true, force: true })
    },
    output: (i) => outputs[i] ?? "",
  }
  for (let i = 0; i < n; i++) spawnNode(i)
  await ensemble.waitServing()
  return ensemble
}
