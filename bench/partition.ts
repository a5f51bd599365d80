/**
 * `npm run bench:log [-- --quick] [--dir D]`: the partition store on the real disk, next to the
 * machine's raw sequential speed measured in the same run with `dd`. Figures, not assertions.
 *
 * - append, no fsync per append (the default flush policy; one flush at the end, timed): MB/s
 *   and batches/s, against `dd conv=fdatasync` (raw sequential write, synced at the end) with
 *   1 MiB blocks and with blocks of one batch (one write per append, as the store does);
 * - append with fsync per append (flush.messages=1), against `dd oflag=dsync` with the same
 *   block size (one synchronous write per block);
 * - read by offset, as fetches do (1 MiB per read into a reused buffer), against
 *   `dd bs=1M` reading a file of the same size (both mostly from the page cache: the ratio is
 *   the store's overhead over raw reads, not disk speed);
 * - random reads by offset: batches/s.
 *
 * Batches are 100 records of 100 bytes (about 11 KiB, near a producer's default batch.size).
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import os from "node:os"
import path from "node:path"
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import { nodeFs } from "../adapters/disk/fs.ts"
import { PartitionStore, parseLogConfig } from "../adapters/disk/partition/index.ts"
import { encodeBatch, type KafkaRecord } from "../core/log/index.ts"

const { values: flags } = parseArgs({ options: { quick: { type: "boolean", default: false }, dir: { type: "string" } } })
const QUICK = flags.quick
const TOTAL_MB = QUICK ? 64 : 512
const SYNC_BATCHES = QUICK ? 300 : 2000
const RECORDS = 100
const RECORD_BYTES = 100

const root = mkdtempSync(path.join(flags.dir ?? os.tmpdir(), "sequent-bench-log-"))
const mb = (bytes: number, seconds: number): number => bytes / 1e6 / seconds
const f1 = (x: number): string => x.toFixed(1)
const fmt = (x: number): string => Math.round(x).toLocaleString("en-US")

function producerBatch(seed: number): Uint8Array {
  const records: KafkaRecord[] = []
  for (let i = 0; i < RECORDS; i++) {
    const value = new Uint8Array(RECORD_BYTES)
    for (let j = 0; j < RECORD_BYTES; j++) value[j] = (seed * 31 + i * 7 + j) & 0xff
    records.push({ offsetDelta: i, timestampDelta: i, key: null, value, headers: [] })
  }
  return encodeBatch({ baseTimestamp: 1_700_000_000_000 + seed, records })
}

/** Runs dd, timed from here (the process start is noise next to hundreds of MB). */
function ddTimed(args: string[]): { seconds: number } {
  const t0 = performance.now()
  execFileSync("dd", args, { stdio: "ignore" })
  return { seconds: (performance.now() - t0) / 1000 }
}

function appendRun(batches: number, flushEvery: boolean, dir: string): { seconds: number; bytes: number; store: PartitionStore } {
  const config = parseLogConfig({ "segment.bytes": String(128 * 1024 * 1024), ...(flushEvery ? { "flush.messages": "1" } : {}) })
  const { store } = PartitionStore.open(nodeFs, dir, { config, now: 0 })
  const templates = Array.from({ length: 16 }, (_, i) => producerBatch(i))
  let bytes = 0
  const t0 = performance.now()
  for (let i = 0; i < batches; i++) {
    const b = templates[i % templates.length]!
    store.appendAsLeader(b, 0, i)
    bytes += b.length
  }
  store.flush()
  const seconds = (performance.now() - t0) / 1000
  return { seconds, bytes, store }
}

console.log(`machine: ${os.cpus()[0]?.model ?? "unknown cpu"} (${os.cpus().length} cpus), node ${process.version}, directory ${root}${QUICK ? " (--quick)" : ""}`)
const batchBytes = producerBatch(0).length
console.log(`batches: ${RECORDS} records x ${RECORD_BYTES} bytes = ${fmt(batchBytes)} bytes each\n`)

try {
  // --- sequential append, no fsync per append
  const batches = Math.floor((TOTAL_MB * 1024 * 1024) / batchBytes)
  const a = appendRun(batches, false, path.join(root, "nosync"))
  const ddFile = path.join(root, "dd.out")
  const rawWrite = ddTimed(["if=/dev/zero", `of=${ddFile}`, "bs=1M", `count=${Math.round(a.bytes / 1024 / 1024)}`, "conv=fdatasync"])
  const rawWriteMBs = mb(statSync(ddFile).size, rawWrite.seconds)
  // The same bytes in writes of one batch each, as the store makes them (one per append).
  const ddSmall = path.join(root, "dd-small.out")
  const rawSmall = ddTimed(["if=/dev/zero", `of=${ddSmall}`, `bs=${batchBytes}`, `count=${batches}`, "conv=fdatasync"])
  const rawSmallMBs = mb(statSync(ddSmall).size, rawSmall.seconds)
  rmSync(ddSmall)

  // --- append with fsync per append
  const s = appendRun(SYNC_BATCHES, true, path.join(root, "sync"))
  const ddSync = path.join(root, "dd-sync.out")
  const rawSync = ddTimed(["if=/dev/zero", `of=${ddSync}`, `bs=${batchBytes}`, `count=${SYNC_BATCHES}`, "oflag=dsync"])
  const rawSyncWritesPerS = SYNC_BATCHES / rawSync.seconds

  // --- sequential reads by offset, 1 MiB per read
  const store = a.store
  let offset = store.logStartOffset
  let readBytes = 0
  let reads = 0
  const t0 = performance.now()
  const buffer = Buffer.allocUnsafe(1024 * 1024) // reused, as a fetch path does once bytes are sent
  while (offset < store.logEndOffset) {
    const slice = store.read(offset, { maxBytes: 1024 * 1024, into: buffer })
    readBytes += store.readSlice(slice).length
    offset = slice.nextOffset
    reads++
  }
  const readSeconds = (performance.now() - t0) / 1000
  const rawRead = ddTimed([`if=${ddFile}`, "of=/dev/null", "bs=1M"])
  const rawReadMBs = mb(statSync(ddFile).size, rawRead.seconds)

  // --- random reads by offset (one batch each)
  const randomReads = QUICK ? 5_000 : 50_000
  let x = 12345
  const t1 = performance.now()
  for (let i = 0; i < randomReads; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    const o = store.logStartOffset + (x % (store.logEndOffset - store.logStartOffset))
    store.readSlice(store.read(o, { maxBytes: 1, into: buffer }))
  }
  const randomSeconds = (performance.now() - t1) / 1000
  store.close(0)
  s.store.close(0)

  const rows: [string, string, string, string, string][] = [
    ["append (no fsync; one flush at the end)", `${f1(mb(a.bytes, a.seconds))} MB/s`, `${fmt(batches / a.seconds)} batches/s`, `dd bs=1M conv=fdatasync: ${f1(rawWriteMBs)} MB/s`, `${(mb(a.bytes, a.seconds) / rawWriteMBs).toFixed(2)}x`],
    ["  same appends", "", "", `dd bs=${batchBytes} conv=fdatasync: ${f1(rawSmallMBs)} MB/s`, `${(mb(a.bytes, a.seconds) / rawSmallMBs).toFixed(2)}x`],
    ["append, fsync per append (flush.messages=1)", `${f1(mb(s.bytes, s.seconds))} MB/s`, `${fmt(SYNC_BATCHES / s.seconds)} batches/s`, `dd bs=${batchBytes} oflag=dsync: ${fmt(rawSyncWritesPerS)} writes/s`, `${(SYNC_BATCHES / s.seconds / rawSyncWritesPerS).toFixed(2)}x`],
    ["sequential read by offset (1 MiB fetches)", `${f1(mb(readBytes, readSeconds))} MB/s`, `${fmt(reads / readSeconds)} reads/s`, `dd bs=1M read: ${f1(rawReadMBs)} MB/s`, `${(mb(readBytes, readSeconds) / rawReadMBs).toFixed(2)}x`],
    ["random read by offset (one batch)", `${f1(mb(randomReads * batchBytes, randomSeconds))} MB/s`, `${fmt(randomReads / randomSeconds)} batches/s`, "", ""],
  ]
  const widths = [0, 1, 2, 3, 4].map((c) => Math.max(...rows.map((r) => r[c]!.length), ["", "store", "rate", "raw (same run)", "ratio"][c]!.length))
  const line = (r: string[]): string => r.map((v, c) => v.padEnd(widths[c]!)).join("  ")
  console.log(line(["", "store", "rate", "raw (same run)", "ratio"]))
  for (const r of rows) console.log(line(r))
  console.log(`\n${fmt(a.bytes / 1024 / 1024)} MiB appended in ${a.store.segmentCount} segments; ${fmt(SYNC_BATCHES)} fsynced appends`)
} finally {
  rmSync(root, { recursive: true, force: true })
}
