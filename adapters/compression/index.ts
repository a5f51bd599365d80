/**
 * The compression codecs of Kafka record batches, for `decodeRecords` / `encodeBatch` in
 * core/log, each writing what the Java client writes and reading what any client sends:
 *
 *   gzip    node:zlib
 *   snappy  xerial-framed blocks (snappyjs), raw blocks read too          ./snappy.ts
 *   lz4     LZ4 frame with 64 KiB independent blocks, any frame read       ./lz4.ts
 *   zstd    @bokuweb/zstd-wasm at level 3, frames with or without a size     ./zstd.ts
 *
 * All are usable at once except zstd, whose wasm module loads asynchronously:
 * `await loadKafkaCodecs()` before encoding or decoding zstd batches.
 */
import { Compression, type Codecs } from "../../core/log/record-batch.ts"
import { compressGzip, decompressGzip } from "./gzip.ts"
import { compressFrame, decompressFrame } from "./lz4.ts"
import { compressXerial, decompress as decompressSnappy } from "./snappy.ts"
import { compressZstd, decompressZstd, initZstd } from "./zstd.ts"

export const kafkaCodecs: Codecs = Object.freeze({
  [Compression.gzip]: { compress: compressGzip, decompress: decompressGzip },
  [Compression.snappy]: { compress: compressXerial, decompress: decompressSnappy },
  [Compression.lz4]: { compress: compressFrame, decompress: decompressFrame },
  [Compression.zstd]: { compress: compressZstd, decompress: decompressZstd },
})

/** `kafkaCodecs`, once zstd's wasm module has loaded. */
export async function loadKafkaCodecs(): Promise<Codecs> {
  await initZstd()
  return kafkaCodecs
}

export { xxhash32 } from "./xxhash32.ts"
