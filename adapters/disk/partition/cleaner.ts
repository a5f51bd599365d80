/**
 * The log cleaner's file work for one pass over a compacted partition: build the offset map
 * (latest offset of every key) over the segments being cleaned, then rewrite each segment that
 * loses records. Which records survive is core/log/compaction.ts's rule.
 *
 * A cleaned segment is written as `<base>.log.cleaned`, fsynced, and renamed over `<base>.log`
 * (then the directory fsynced): a crash leaves the old segment or the new one, both valid, and
 * recovery deletes a leftover `.cleaned`. The index is written after the rename; one written for
 * the old content no longer matches the file's length and is rebuilt on open.
 *
 * Each segment keeps its last batch (emptied if need be), so it still ends where the next
 * segment starts, and each producer's last batch, whose sequence numbers idempotent producers
 * are checked against.
 */
import { addToOffsetMap, cleanBatch, lastOffset, type Codecs, type OffsetMap } from "../../../core/log/index.ts"
import type { FileSystem } from "../fs.ts"
import { CorruptLogError } from "./errors.ts"
import { CLEANED_SUFFIX, type ScanProblem, type Segment } from "./segment.ts"

/** Cleaning reads only durable segments: damage there is corruption, never a torn tail. */
function refuse(seg: Segment, problem: ScanProblem | undefined): void {
  if (problem !== undefined) throw new CorruptLogError(`${seg.logPath} at byte ${problem.position}: ${problem.reason} (found while cleaning)`)
}

export interface CompactionStats {
  readonly segmentsCleaned: number
  readonly recordsRemoved: number
  readonly batchesDropped: number
  readonly bytesBefore: number
  readonly bytesAfter: number
}

export function compactSegments(fs: FileSystem, dir: string, segments: readonly Segment[], codecs: Codecs, deleteHorizon: number): CompactionStats {
  const latest: OffsetMap = new Map()
  const lastOfProducer = new Map<number, number>()
  for (const seg of segments) {
    const scan = seg.rescan(true, (_h, _pos, bytes) => {
      const h = addToOffsetMap(latest, bytes, codecs)
      if (h.producerId >= 0) lastOfProducer.set(h.producerId, h.baseOffset)
    })
    refuse(seg, scan.problem)
  }
  const rule = { latest, deleteHorizon }
  let segmentsCleaned = 0
  let recordsRemoved = 0
  let batchesDropped = 0
  let bytesBefore = 0
  let bytesAfter = 0
  for (const seg of segments) {
    const out: Uint8Array[] = []
    let changed = false
    let removed = 0
    let dropped = 0
    const end = seg.nextOffset
    const scan = seg.rescan(false, (h, _pos, bytes) => {
      const keep = lastOffset(h) + 1 === end || lastOfProducer.get(h.producerId) === h.baseOffset
      const c = cleanBatch(bytes, rule, codecs, keep)
      if (c.kind === "unchanged") out.push(bytes.slice())
      else {
        changed = true
        if (c.kind === "dropped") dropped++
        else {
          out.push(c.bytes)
          removed += c.removed
        }
        if (c.kind === "dropped") removed += h.recordsCount
      }
    })
    refuse(seg, scan.problem)
    if (!changed) continue
    const before = seg.size
    const cleaned = seg.logPath + CLEANED_SUFFIX
    if (fs.exists(cleaned)) fs.unlink(cleaned)
    const h = fs.openAppend(cleaned)
    for (const chunk of out) h.write(chunk)
    h.sync()
    h.close()
    seg.closeHandles()
    fs.rename(cleaned, seg.logPath)
    fs.fsyncDir(dir)
    seg.generation++
    seg.rescan(false)
    seg.syncedSize = seg.size
    seg.saveIndex()
    segmentsCleaned++
    recordsRemoved += removed
    batchesDropped += dropped
    bytesBefore += before
    bytesAfter += seg.size
  }
  return { segmentsCleaned, recordsRemoved, batchesDropped, bytesBefore, bytesAfter }
}
