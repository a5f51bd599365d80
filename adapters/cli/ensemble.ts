/**
 * `npm start`: a local Sequent ensemble in the foreground — 3 voters and an observer, each its
 * own process (so any one can be killed), serving ZooKeeper clients on 2181, 2182, 2183 (and
 * 2184 for the observer), with data under ./data/node-N. Ctrl-C or SIGTERM stops them all.
 *
 *   npm start                      # 3 voters + 1 observer
 *   npm start -- --single          # one node on 2181
 *   npm start -- --voters 5 --observers 0 --data ./data --client-port 2181 --peer-port 2888
 */
import { spawn, type ChildProcess } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { localEnsemble } from "../server/config.ts"

const { values } = parseArgs({
  options: {
    single: { type: "boolean", default: false },
    voters: { type: "string", default: "3" },
    observers: { type: "string", default: "1" },
    data: { type: "string", default: "./data" },
    "client-port": { type: "string", default: "2181" },
    "peer-port": { type: "string", default: "2888" },
  },
})
const count = (v: string, what: string, min: number): number => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < min) {
    console.error(`--${what} must be an integer >= ${min}, got ${v}`)
    process.exit(2)
  }
  return n
}
const voters = values.single ? 1 : count(values.voters, "voters", 1)
const observers = values.single ? 0 : count(values.observers, "observers", 0)
const members = localEnsemble(voters, observers, {
  client: count(values["client-port"], "client-port", 1),
  peer: count(values["peer-port"], "peer-port", 1),
})
const nodeScript = path.join(path.dirname(fileURLToPath(import.meta.url)), "zk-node.ts")

const children = new Map<number, ChildProcess>()
let stopping = false
for (const m of members) {
  const dataDir = path.resolve(values.data, `node-${m.id}`)
  mkdirSync(dataDir, { recursive: true })
  const configFile = path.join(dataDir, "sequent.json")
  writeFileSync(configFile, JSON.stringify({ id: m.id, members, dataDir }, null, 2))
  const child = spawn(process.execPath, ["--import", "tsx", nodeScript, "--config", configFile], { stdio: "inherit" })
  children.set(m.id, child)
  child.on("exit", (code, signal) => {
    children.delete(m.id)
    if (!stopping) console.error(`node ${m.id} exited (${signal ?? `code ${code}`}); the others keep running`)
    if (stopping && children.size === 0) process.exit(0)
  })
}

const connect = members.filter((m) => !m.observer).map((m) => `${m.host}:${m.clientPort}`).join(",")
const obs = members.filter((m) => m.observer).map((m) => `${m.host}:${m.clientPort}`)
console.log(`Sequent ensemble: ${voters} voter(s)${observers ? `, ${observers} observer(s)` : ""}; data in ${path.resolve(values.data)}`)
console.log(`ZooKeeper connect string: ${connect}`)
if (obs.length > 0) console.log(`observers also serve clients: ${obs.join(",")}`)
console.log("Ctrl-C stops the ensemble.")

const stop = (signal: NodeJS.Signals): void => {
  if (stopping) return
  stopping = true
  console.log(`${signal}: stopping ${children.size} node(s)`)
  for (const c of children.values()) c.kill("SIGTERM")
  if (children.size === 0) process.exit(0)
  setTimeout(() => {
    for (const c of children.values()) c.kill("SIGKILL")
    process.exit(1)
  }, 10_000).unref()
}
process.on("SIGINT", () => stop("SIGINT"))
process.on("SIGTERM", () => stop("SIGTERM"))
