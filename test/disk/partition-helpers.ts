/** Shared by the partition-store tests: batches with recognisable content. */
import { encodeBatch, decodeRecords, type Codecs, type KafkaRecord } from "../../core/log/index.ts"
import type { PartitionStore } from "../../adapters/disk/partition/index.ts"

const enc = new TextEncoder()
const dec = new TextDecoder()

export interface BatchSpec {
  /** Records in the batch. */
  readonly count: number
  readonly timestamp: number
  /** Key and value of record `i`; value null makes a tombstone. */
  readonly key?: (i: number) => string | null
  readonly value?: (i: number) => string | null
  readonly producerId?: number
}

/** A producer's batch (base offset 0, as clients send it). */
export function batch(spec: BatchSpec, codecs: Codecs = {}, compression: 0 | 1 | 2 | 3 | 4 = 0): Uint8Array {
  const records: KafkaRecord[] = []
  for (let i = 0; i < spec.count; i++) {
    const k = spec.key?.(i) ?? null
    const v = spec.value === undefined ? `value-${spec.timestamp}-${i}` : spec.value(i)
    records.push({ offsetDelta: i, timestampDelta: i, key: k === null ? null : enc.encode(k), value: v === null ? null : enc.encode(v), headers: [] })
  }
  return encodeBatch({ baseTimestamp: spec.timestamp, records, compression, ...(spec.producerId === undefined ? {} : { producerId: spec.producerId, producerEpoch: 0, baseSequence: 0 }) }, codecs)
}

/** Every record in the store from its log start: offset, key, value, timestamp. */
export function allRecords(store: PartitionStore, codecs: Codecs = {}): { offset: number; key: string | null; value: string | null; timestamp: number }[] {
  const out: { offset: number; key: string | null; value: string | null; timestamp: number }[] = []
  for (const { bytes } of store.batches()) {
    const { header, records } = decodeRecords(bytes, codecs)
    for (const r of records) {
      const offset = header.baseOffset + r.offsetDelta
      if (offset < store.logStartOffset) continue
      out.push({ offset, key: r.key === null ? null : dec.decode(r.key), value: r.value === null ? null : dec.decode(r.value), timestamp: header.baseTimestamp + r.timestampDelta })
    }
  }
  return out
}
