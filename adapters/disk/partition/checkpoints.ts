/**
 * A partition's checkpoint files, text as in Kafka (a version line, then entries), each replaced
 * atomically (writeFileAtomic), so a crash leaves the old file or the new one:
 *
 * - `partition.checkpoint`: the recovery point (everything before it was fsynced: recovery scans
 *   from there), the high watermark, and the log start offset:
 *       0
 *       recovery-point 1200
 *       high-watermark 1180
 *       log-start-offset 300
 *   Kafka keeps these three in per-directory files; one file per partition here, since a
 *   partition directory is the unit this store opens.
 * - `leader-epoch-checkpoint`: Kafka's own format, the epoch cache:
 *       0
 *       2
 *       3 0
 *       5 1042
 *
 * A file that exists but does not parse is refused loudly: it was written atomically, so damage
 * means the disk is bad, and guessing could resurrect deleted records.
 */
import * as path from "node:path"
import { epochCacheProblem, type EpochEntry } from "../../../core/log/index.ts"
import { writeFileAtomic, type FileSystem } from "../fs.ts"
import { CorruptLogError } from "./errors.ts"

export const OFFSETS_CHECKPOINT = "partition.checkpoint"
export const EPOCH_CHECKPOINT = "leader-epoch-checkpoint"

export interface OffsetsCheckpoint {
  readonly recoveryPoint: number
  readonly highWatermark: number
  readonly logStartOffset: number
}

const text = new TextEncoder()
const untext = new TextDecoder()

export function writeOffsetsCheckpoint(fs: FileSystem, dir: string, c: OffsetsCheckpoint): void {
  const body = `0\nrecovery-point ${c.recoveryPoint}\nhigh-watermark ${c.highWatermark}\nlog-start-offset ${c.logStartOffset}\n`
  writeFileAtomic(fs, dir, OFFSETS_CHECKPOINT, text.encode(body))
}

export function readOffsetsCheckpoint(fs: FileSystem, dir: string): OffsetsCheckpoint | undefined {
  const file = path.join(dir, OFFSETS_CHECKPOINT)
  if (!fs.exists(file)) return undefined
  const lines = untext.decode(fs.readFile(file)).split("\n").filter((l) => l !== "")
  const bad = (why: string): never => {
    throw new CorruptLogError(`${file}: ${why}`)
  }
  if (lines[0] !== "0") bad(`unknown version '${lines[0] ?? ""}'`)
  const values = new Map<string, number>()
  for (const line of lines.slice(1)) {
    const m = /^([a-z-]+) (\d+)$/.exec(line)
    if (m === null) bad(`malformed line '${line}'`)
    values.set(m![1]!, Number(m![2]))
  }
  const get = (k: string): number => values.get(k) ?? bad(`no ${k}`)
  return { recoveryPoint: get("recovery-point"), highWatermark: get("high-watermark"), logStartOffset: get("log-start-offset") }
}

export function writeEpochCheckpoint(fs: FileSystem, dir: string, cache: readonly EpochEntry[]): void {
  const body = `0\n${cache.length}\n${cache.map((e) => `${e.epoch} ${e.startOffset}\n`).join("")}`
  writeFileAtomic(fs, dir, EPOCH_CHECKPOINT, text.encode(body))
}

export function readEpochCheckpoint(fs: FileSystem, dir: string): EpochEntry[] {
  const file = path.join(dir, EPOCH_CHECKPOINT)
  if (!fs.exists(file)) return []
  const lines = untext.decode(fs.readFile(file)).split("\n").filter((l) => l !== "")
  const bad = (why: string): never => {
    throw new CorruptLogError(`${file}: ${why}`)
  }
  if (lines[0] !== "0") bad(`unknown version '${lines[0] ?? ""}'`)
  const count = Number(lines[1])
  if (!Number.isInteger(count) || lines.length !== count + 2) bad(`count '${lines[1] ?? ""}' does not match ${lines.length - 2} entries`)
  const cache = lines.slice(2).map((line) => {
    const m = /^(\d+) (\d+)$/.exec(line)
    return m === null ? bad(`malformed entry '${line}'`) : { epoch: Number(m[1]), startOffset: Number(m[2]) }
  })
  const problem = epochCacheProblem(cache)
  if (problem !== undefined) bad(problem)
  return cache
}
