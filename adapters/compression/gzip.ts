/**
 * gzip as every Kafka client writes it: one gzip member (Java's GZIPOutputStream, level 6 as here).
 * gunzip also reads members back to back.
 */
import { gunzipSync, gzipSync } from "node:zlib"

export const compressGzip = (src: Uint8Array): Uint8Array => gzipSync(src)

export const decompressGzip = (src: Uint8Array): Uint8Array => gunzipSync(src)
