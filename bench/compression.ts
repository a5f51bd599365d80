/**
 * `npx tsx bench/compression.ts [--ms N]`: throughput of the record batch codecs
 * (adapters/compression) on two 1 MiB inputs, as MB/s of uncompressed bytes, single-threaded.
 *
 *   json     newline-separated JSON events with repeating field names and values (log/event
 *            traffic; compresses well)
 *   records  100-byte records: a short key-like prefix and random hex digits (metrics or ids;
 *            compresses about 2:1)
 *
 * Beside the codecs in use are the alternatives they were chosen over, so the choice can be
 * re-checked: lz4js (frame, where installed) and snappyjs's own decoder; and zstd frames without
 * a content size in their header (as the Java client writes them), which take another path.
 */
import { createRequire } from "node:module"
import { performance } from "node:perf_hooks"
import { parseArgs } from "node:util"
import snappyjs from "snappyjs"
import { mulberry32 } from "../adapters/disk/fs.ts"
import { compressGzip, decompressGzip } from "../adapters/compression/gzip.ts"
import { compressFrame, decompressFrame } from "../adapters/compression/lz4.ts"
import { compressRaw, compressXerial, decompress as decompressSnappy } from "../adapters/compression/snappy.ts"
import { compressZstd, decompressZstd, initZstd, withoutContentSize } from "../adapters/compression/zstd.ts"

const { values: flags } = parseArgs({ options: { ms: { type: "string", default: "700" } } })
const MEASURE_MS = Number(flags.ms)
const MIB = 1 << 20

function jsonEvents(): Uint8Array {
  const random = mulberry32(1)
  const events = ["page_view", "click", "add_to_cart", "purchase", "search"]
  const lines: string[] = []
  let bytes = 0
  for (let i = 0; bytes < MIB; i++) {
    const line = JSON.stringify({
      id: `evt-${(1_000_000 + i).toString(36)}`,
      ts: 1_732_000_000_000 + i * 37 + Math.floor(random() * 30),
      user: { id: Math.floor(random() * 50_000), country: ["DE", "US", "FR", "JP", "BR"][Math.floor(random() * 5)] },
      event: events[Math.floor(random() * events.length)],
      path: `/products/${Math.floor(random() * 2000)}`,
      amount: Math.round(random() * 100_000) / 100,
      session: Math.floor(random() * 2 ** 32).toString(16),
    })
    lines.push(line)
    bytes += line.length + 1
  }
  return new TextEncoder().encode(lines.join("\n")).subarray(0, MIB)
}

function hexRecords(): Uint8Array {
  const random = mulberry32(2)
  const out = new Uint8Array(MIB)
  const hex = new TextEncoder().encode("0123456789abcdef")
  for (let at = 0; at + 100 <= MIB; at += 100) {
    const prefix = new TextEncoder().encode(`sensor-${Math.floor(random() * 64)}|`)
    out.set(prefix, at)
    for (let i = at + prefix.length; i < at + 100; i++) out[i] = hex[Math.floor(random() * 16)]!
  }
  return out
}

interface Candidate {
  name: string
  compress: (b: Uint8Array) => Uint8Array
  decompress: (b: Uint8Array) => Uint8Array
  /** What to decompress, when not what `compress` made. */
  prepare?: (compressed: Uint8Array) => Uint8Array
}

function throughput(fn: () => unknown, bytes: number): number {
  for (let i = 0; i < 3; i++) fn()
  const start = performance.now()
  let runs = 0
  while (performance.now() - start < MEASURE_MS) {
    fn()
    runs++
  }
  return (bytes * runs) / 1e6 / ((performance.now() - start) / 1000)
}

await initZstd()
const require = createRequire(import.meta.url)
let lz4js: { compress(b: Uint8Array): Uint8Array; decompress(b: Uint8Array): Uint8Array } | undefined
try {
  lz4js = require("lz4js")
} catch {
  // Not a dependency; compared only where it happens to be installed.
}

const candidates: Candidate[] = [
  { name: "gzip (node:zlib, level 6)", compress: compressGzip, decompress: decompressGzip },
  { name: "snappy xerial (snappyjs + ours)", compress: compressXerial, decompress: decompressSnappy },
  { name: "snappy raw, snappyjs decoder", compress: compressRaw, decompress: (b) => snappyjs.uncompress(b) },
  { name: "lz4 frame (ours)", compress: compressFrame, decompress: decompressFrame },
  ...(lz4js ? [{ name: "lz4 frame (lz4js)", compress: (b: Uint8Array) => lz4js!.compress(b), decompress: (b: Uint8Array) => lz4js!.decompress(b) }] : []),
  { name: "zstd level 3 (wasm)", compress: compressZstd, decompress: decompressZstd },
  { name: "zstd, no content size", compress: compressZstd, decompress: decompressZstd, prepare: withoutContentSize },
]

const datasets: [string, Uint8Array][] = [
  ["json", jsonEvents()],
  ["records", hexRecords()],
]

const rows: string[][] = [["codec", "data", "ratio", "compress MB/s", "decompress MB/s"]]
for (const c of candidates) {
  for (const [dataName, data] of datasets) {
    const compressed = (c.prepare ?? ((b) => b))(c.compress(data))
    const back = c.decompress(compressed)
    if (back.length !== data.length || !back.every((x, i) => x === data[i])) throw new Error(`${c.name} does not round-trip ${dataName}`)
    rows.push([
      c.name,
      dataName,
      (data.length / compressed.length).toFixed(2),
      c.prepare ? "" : throughput(() => c.compress(data), data.length).toFixed(0),
      throughput(() => c.decompress(compressed), data.length).toFixed(0),
    ])
  }
}

const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
for (const r of rows) console.log(r.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "))
console.log(`\nnode ${process.version}, ${MEASURE_MS} ms per figure, 1 MiB inputs`)
