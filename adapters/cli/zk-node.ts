/**
 * Run one Sequent coordination node in the foreground.
 *
 *   tsx adapters/cli/zk-node.ts --config sequent.json
 *   tsx adapters/cli/zk-node.ts --id 2 --data-dir ./data/node-2 \
 *       --members 1=127.0.0.1:2888:2181,2=127.0.0.1:2889:2182,3=127.0.0.1:2890:2183,4=127.0.0.1:2891:2184:observer
 *
 * A member is `id=host:peerPort:clientPort[:observer]`. Stops cleanly on SIGINT or SIGTERM.
 */
import { readFileSync } from "node:fs"
import { parseArgs } from "node:util"
import { parseNodeConfig } from "../server/config.ts"
import { startNode } from "../server/node.ts"

const usage = "usage: zk-node --config FILE | --id N --data-dir DIR --members id=host:peerPort:clientPort[:observer],..."

function fail(message: string): never {
  console.error(message)
  process.exit(2)
}

function configFromFlags(): unknown {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      id: { type: "string" },
      "data-dir": { type: "string" },
      members: { type: "string" },
      "tick-ms": { type: "string" },
      "tick-time-ms": { type: "string" },
      "max-buffer": { type: "string" },
    },
  })
  if (values.config !== undefined) {
    try {
      return JSON.parse(readFileSync(values.config, "utf8"))
    } catch (e) {
      fail(`cannot read config ${values.config}: ${(e as Error).message}`)
    }
  }
  if (values.id === undefined || values.members === undefined || values["data-dir"] === undefined) fail(usage)
  const members = values.members.split(",").map((spec) => {
    const m = /^(\d+)=([^:]+):(\d+):(\d+)(:observer)?$/.exec(spec.trim())
    if (m === null) fail(`bad member "${spec}"; ${usage}`)
    return { id: Number(m[1]), host: m[2], peerPort: Number(m[3]), clientPort: Number(m[4]), observer: m[5] !== undefined }
  })
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v))
  return Object.fromEntries(
    Object.entries({
      id: Number(values.id),
      members,
      dataDir: values["data-dir"],
      tickMs: num(values["tick-ms"]),
      tickTimeMs: num(values["tick-time-ms"]),
      maxBuffer: num(values["max-buffer"]),
    }).filter(([, v]) => v !== undefined),
  )
}

const config = parseNodeConfig(configFromFlags())
if (config instanceof Error) fail(config.message)
const node = await startNode(config).catch((e: Error) => fail(`node ${config.id} failed to start: ${e.message}`))
let stopping = false
const stop = (signal: string) => {
  if (stopping) return
  stopping = true
  console.log(`[node ${config.id}] ${signal}: stopping`)
  node.stop().then(
    () => process.exit(0),
    (e: Error) => fail(`stop failed: ${e.message}`),
  )
}
process.on("SIGINT", () => stop("SIGINT"))
process.on("SIGTERM", () => stop("SIGTERM"))
