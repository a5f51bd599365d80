/**
 * zstd for record batches, through @bokuweb/zstd-wasm (libzstd built to wasm): compression at
 * Kafka's default level 3, decompression of any sequence of frames.
 *
 * The wasm module loads asynchronously (`initZstd`, or `loadKafkaCodecs` in index.ts), while
 * Kafka's codec interface is synchronous, so both directions need it loaded first.
 *
 * The wasm build exposes only one-shot ZSTD_decompress, which needs the output size up front,
 * and its wrapper sizes the output from the first frame's header alone. So frames are split
 * here and decompressed one by one: a frame whose header declares its size (one-shot writers:
 * ours, kafkajs plugins) in one call, a frame without (the Java client's zstd-jni stream) into
 * growing guesses, retried only on "destination too small".
 *
 * fzstd (pure JS) is not the fallback for those frames: a fuzz run found corrupt input on which
 * it never returns, so a batch with a valid CRC and crafted zstd bytes could hang the broker.
 */
import { compress as wasmCompress, decompress as wasmDecompress, init as wasmInit } from "@bokuweb/zstd-wasm"

const FRAME_MAGIC = 0xfd2fb528
const SKIPPABLE_MAGIC_MASK = 0xfffffff0
const SKIPPABLE_MAGIC = 0x184d2a50
/** Kafka's default (compression.zstd.level). */
export const ZSTD_LEVEL = 3
/**
 * The wasm heap stops at 2 GiB and the wrapper does not check malloc's result, so no output
 * buffer may come near that: a frame that decompresses past this is refused.
 */
const MAX_OUTPUT_BYTES = 256 << 20
/** wasm32 libzstd refuses larger windows (ZSTD_WINDOWLOG_MAX_32). */
const MAX_WINDOW_LOG = 30
/** ZSTD_error_dstSize_tooSmall, as the wrapper reports it ("... with code -70"). */
const DESTINATION_TOO_SMALL = 70

let loading: Promise<void> | undefined
let wasmReady = false

/** Loads the wasm module (once; later calls return the same promise). */
export function initZstd(): Promise<void> {
  loading ??= wasmInit().then(() => {
    wasmReady = true
  })
  return loading
}

function requireWasm(): void {
  if (!wasmReady) throw new Error("zstd: needs `await loadKafkaCodecs()` (or initZstd()) first: its wasm module loads asynchronously")
}

function corrupt(what: string): never {
  throw new Error(`zstd: ${what}`)
}

const readU32LE = (b: Uint8Array, i: number): number => (b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)) >>> 0

export function compressZstd(src: Uint8Array): Uint8Array {
  requireWasm()
  return wasmCompress(src, ZSTD_LEVEL)
}

interface FrameHeader {
  /** Bytes of the header (magic included). */
  readonly length: number
  readonly contentSize: number | "absent"
  readonly checksum: boolean
}

/** The frame header at `at`, or why there is none. */
function readFrameHeader(src: Uint8Array, at: number): FrameHeader | string {
  if (src.length - at < 5) return "truncated frame header"
  if (readU32LE(src, at) !== FRAME_MAGIC) return `bad frame magic 0x${readU32LE(src, at).toString(16)}`
  const descriptor = src[at + 4]!
  if ((descriptor & 0x08) !== 0) return "reserved frame header bit set"
  const singleSegment = (descriptor & 0x20) !== 0
  const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 3]!
  const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >>> 6]!
  const length = 5 + (singleSegment ? 0 : 1) + dictionaryIdBytes + sizeBytes
  if (src.length - at < length) return "truncated frame header"
  if (!singleSegment && 10 + (src[at + 5]! >>> 3) > MAX_WINDOW_LOG) return "window larger than 1 GiB"
  let contentSize: number | "absent" = "absent"
  if (sizeBytes > 0) {
    contentSize = 0
    for (let i = length - 1; i >= length - sizeBytes; i--) contentSize = contentSize * 256 + src[at + i]!
    if (sizeBytes === 2) contentSize += 256
  }
  return { length, contentSize, checksum: (descriptor & 0x04) !== 0 }
}

/**
 * What the header of the frame at the start of `src` says about its decompressed size: a byte
 * count, `"absent"` when the writer left it out, `undefined` when `src` does not start with a
 * zstd frame header.
 */
export function frameContentSize(src: Uint8Array): number | "absent" | undefined {
  const header = readFrameHeader(src, 0)
  return typeof header === "string" ? undefined : header.contentSize
}

/** Where the frame starting at `at` ends: walks the block headers. */
function frameEnd(src: Uint8Array, at: number, header: FrameHeader): number {
  let p = at + header.length
  for (;;) {
    if (src.length - p < 3) corrupt("frame ends inside a block header")
    const blockHeader = src[p]! | (src[p + 1]! << 8) | (src[p + 2]! << 16)
    const type = (blockHeader >>> 1) & 3
    if (type === 3) corrupt("reserved block type")
    p += 3 + (type === 1 ? 1 : blockHeader >>> 3)
    if (p > src.length) corrupt("block runs past the input")
    if ((blockHeader & 1) === 1) break
  }
  if (header.checksum) p += 4
  if (p > src.length) corrupt("frame ends inside its checksum")
  return p
}

/** libzstd's error code in the wrapper's message ("Failed to compress with code -70", whichever direction failed). */
const errorCode = (e: unknown): number => Math.abs(Number(/code (-?\d+)/.exec(String((e as Error)?.message))?.[1]))

function wasmDecompressOrThrow(frame: Uint8Array, capacityIfUnsized?: number): Uint8Array {
  try {
    return capacityIfUnsized === undefined ? wasmDecompress(frame) : wasmDecompress(frame, { defaultHeapSize: capacityIfUnsized })
  } catch (e) {
    const code = errorCode(e)
    if (code === DESTINATION_TOO_SMALL) throw new DestinationTooSmall()
    corrupt(`libzstd refuses the frame (error ${Number.isNaN(code) ? String(e) : code})`)
  }
}

class DestinationTooSmall extends Error {}

function decompressFrame(frame: Uint8Array, contentSize: number | "absent"): Uint8Array {
  if (typeof contentSize === "number") {
    if (contentSize > MAX_OUTPUT_BYTES) corrupt(`frame of ${contentSize} bytes is past the ${MAX_OUTPUT_BYTES}-byte limit`)
    try {
      return wasmDecompressOrThrow(frame)
    } catch (e) {
      if (e instanceof DestinationTooSmall) corrupt("frame holds more than its header says")
      throw e
    }
  }
  for (let capacity = Math.max(1 << 16, frame.length * 8); ; capacity = Math.min(capacity * 4, MAX_OUTPUT_BYTES)) {
    try {
      return wasmDecompressOrThrow(frame, capacity)
    } catch (e) {
      if (!(e instanceof DestinationTooSmall)) throw e
      if (capacity === MAX_OUTPUT_BYTES) corrupt(`frame decompresses past the ${MAX_OUTPUT_BYTES}-byte limit`)
    }
  }
}

/** Decompresses one or more frames (skippable frames skipped); nothing decompresses to nothing, as in zstd-jni. */
export function decompressZstd(src: Uint8Array): Uint8Array {
  requireWasm()
  const parts: Uint8Array[] = []
  let total = 0
  for (let at = 0; at < src.length; ) {
    if (src.length - at >= 8 && ((readU32LE(src, at) & SKIPPABLE_MAGIC_MASK) >>> 0) === SKIPPABLE_MAGIC) {
      at += 8 + readU32LE(src, at + 4)
      if (at > src.length) corrupt("skippable frame runs past the input")
      continue
    }
    const header = readFrameHeader(src, at)
    if (typeof header === "string") corrupt(header)
    const end = frameEnd(src, at, header)
    const part = decompressFrame(src.subarray(at, end), header.contentSize)
    parts.push(part)
    total += part.length
    if (total > MAX_OUTPUT_BYTES) corrupt(`frames decompress past the ${MAX_OUTPUT_BYTES}-byte limit`)
    at = end
  }
  if (parts.length === 1) return parts[0]!
  const out = new Uint8Array(total)
  let op = 0
  for (const p of parts) {
    out.set(p, op)
    op += p.length
  }
  return out
}

/**
 * `frame` with the content size taken out of its header, as zstd-jni's stream (the Java client)
 * writes frames: for tests and benchmarks of that path.
 */
export function withoutContentSize(frame: Uint8Array): Uint8Array {
  const size = frameContentSize(frame)
  const descriptor = frame[4]!
  if (typeof size !== "number" || (descriptor & 3) !== 0) throw new Error("expected a frame with a content size and no dictionary")
  const singleSegment = (descriptor & 0x20) !== 0
  const sizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >>> 6]!
  // A window of 2^(10 + exponent) bytes covering the whole content keeps it decodable.
  let exponent = 0
  while (2 ** (10 + exponent) < size) exponent++
  const window = singleSegment ? [exponent << 3] : [frame[5]!]
  const headerEnd = 5 + (singleSegment ? 0 : 1) + sizeBytes
  return new Uint8Array([...frame.subarray(0, 4), descriptor & 0b0000_0111, ...window, ...frame.subarray(headerEnd)])
}
