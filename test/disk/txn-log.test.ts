import { describe, expect, it } from "vitest"
import { FaultyFs, SimulatedCrash } from "../../adapters/disk/fs.ts"
import { CorruptLogError, RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, segmentName, TxnLog } from "../../adapters/disk/txn-log.ts"
import { bytes, rng, sameBytes } from "./helpers.ts"

const DIR = "/d"
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const payloads = (n: number, seed = 1): Uint8Array[] => {
  const r = rng(seed)
  return Array.from({ length: n }, () => bytes(r, 1 + Math.floor(r() * 30)))
}
const recordsOf = (fs: FaultyFs): Uint8Array[] => {
  const { log, recovery } = TxnLog.open(fs, DIR)
  log.close()
  return recovery.records
}

describe("FaultyFs", () => {
  it("keeps only fsynced content and fsynced names on power loss, everything on a process crash", () => {
    const fs = new FaultyFs()
    fs.mkdir("/a")
    fs.fsyncDir("/")
    fs.writeFile("/a/x", enc("synced"))
    fs.fsync("/a/x")
    fs.fsyncDir("/a")
    const h = fs.openAppend("/a/x")
    h.write(enc("+more"))
    fs.writeFile("/a/y", enc("y"))
    fs.fsync("/a/y") // content durable, name not
    fs.rename("/a/x", "/a/z")
    expect(fs.points).toBe(9)

    const power = fs.clone().crash("lose-unsynced")
    expect([...power.files()].map(([p, b]) => [p, new TextDecoder().decode(b)])).toEqual([["/a/x", "synced"]])
    const proc = fs.clone().crash("process")
    expect(new Map([...proc.files()].map(([p, b]) => [p, new TextDecoder().decode(b)]))).toEqual(
      new Map([
        ["/a/y", "y"],
        ["/a/z", "synced+more"],
      ]),
    )
    // Seeded crashes: prefixes of content ops and of directory ops, sometimes torn.
    const seen = new Set<string>()
    for (let seed = 0; seed < 200; seed++) {
      const c = fs.clone().crash(seed)
      seen.add(JSON.stringify([...c.files()].map(([p, b]) => [p, [...b]])))
    }
    expect(seen.size).toBeGreaterThan(6)
  })

  it("crashes at the requested point and refuses use afterwards", () => {
    const fs = new FaultyFs({ crashAt: 3 })
    fs.writeFile("/f", enc("1"))
    fs.fsync("/f")
    expect(() => fs.fsyncDir("/")).toThrow(SimulatedCrash)
    expect(() => fs.readFile("/f")).toThrow(SimulatedCrash)
    expect(fs.points).toBe(3)
    expect(fs.crash("lose-unsynced").exists("/f")).toBe(false) // the name was never made durable
  })
})

describe("TxnLog", () => {
  it("appends, syncs, reopens; rolls segments past the threshold", () => {
    const fs = new FaultyFs()
    const { log } = TxnLog.open(fs, DIR, { segmentBytes: 100 })
    const ps = payloads(40)
    log.append(ps.slice(0, 10))
    log.sync()
    for (const p of ps.slice(10)) log.append([p])
    log.sync()
    expect(log.segments.length).toBeGreaterThan(3)
    const after = fs.crash("lose-unsynced")
    const { log: l2, recovery } = TxnLog.open(after, DIR, { segmentBytes: 100 })
    expect(recovery.records).toEqual(ps)
    expect(recovery.truncatedBytes).toBe(0)
    expect(recovery.segments).toEqual(log.segments)
    expect(l2.sizeBytes).toBe(log.sizeBytes)
  })

  it("truncates a torn tail at every cut point, reports the bytes dropped, and appends after it", () => {
    const base = new FaultyFs()
    const { log } = TxnLog.open(base, DIR)
    const ps = payloads(5)
    log.append(ps)
    log.sync()
    const file = `${DIR}/${segmentName(1)}`
    const full = base.readFile(file)
    const ends: number[] = []
    let off = SEGMENT_HEADER_BYTES
    for (const p of ps) ends.push((off += RECORD_HEADER_BYTES + p.length))
    expect(full.length).toBe(ends[ends.length - 1])
    for (let cut = SEGMENT_HEADER_BYTES; cut <= full.length; cut++) {
      for (const zeros of [false, true]) {
        const fs = base.clone()
        // Keep `cut` bytes; optionally zero-fill the rest (what delayed allocation leaves).
        const content = new Uint8Array(zeros ? full.length : cut)
        content.set(full.subarray(0, cut))
        fs.writeFile(file, content)
        const kept = ends.filter((e) => e <= cut).length
        const boundary = kept === 0 ? SEGMENT_HEADER_BYTES : ends[kept - 1]!
        const { log: l, recovery } = TxnLog.open(fs, DIR)
        expect(recovery.records).toEqual(ps.slice(0, kept))
        expect(recovery.truncatedBytes).toBe(content.length - boundary)
        expect(fs.readFile(file).length).toBe(boundary)
        l.append([enc("next")])
        l.sync()
        expect(recordsOf(fs.crash("lose-unsynced"))).toEqual([...ps.slice(0, kept), enc("next")])
      }
    }
  })

  it("throws on a bad record in a closed segment, with valid records after it", () => {
    const fs = new FaultyFs()
    const { log } = TxnLog.open(fs, DIR, { segmentBytes: 120 })
    log.append(payloads(30))
    log.sync()
    expect(log.segments.length).toBeGreaterThan(2)
    const file = `${DIR}/${log.segments[0]!}`
    const b = fs.readFile(file)
    b[Math.floor((SEGMENT_HEADER_BYTES + b.length) / 2)]! ^= 0x40
    fs.writeFile(file, b)
    expect(() => TxnLog.open(fs, DIR)).toThrow(CorruptLogError)
    expect(() => TxnLog.open(fs, DIR)).toThrow(/closed segment/)
  })

  it("throws on a bad segment header and on a missing segment", () => {
    const fs = new FaultyFs()
    const { log } = TxnLog.open(fs, DIR, { segmentBytes: 60 })
    log.append(payloads(20))
    log.sync()
    const [s1, s2] = log.segments
    const broken = fs.clone()
    const b = broken.readFile(`${DIR}/${s2!}`)
    b[9]! ^= 1
    broken.writeFile(`${DIR}/${s2!}`, b)
    expect(() => TxnLog.open(broken, DIR)).toThrow(/bad segment header/)
    const gap = fs.clone()
    gap.unlink(`${DIR}/${s2!}`)
    expect(() => TxnLog.open(gap, DIR)).toThrow(/is missing/)
    const headless = fs.clone()
    headless.unlink(`${DIR}/${s1!}`)
    expect(() => TxnLog.open(headless, DIR)).toThrow(/no base segment/)
  })

  it("rewrite replaces the history atomically: old or new, never both", () => {
    const fs = new FaultyFs()
    const { log } = TxnLog.open(fs, DIR, { segmentBytes: 80 })
    const old = payloads(12, 1)
    log.append(old)
    log.sync()
    const fresh = payloads(3, 2)
    const oldSegments = log.segments
    expect(oldSegments.length).toBeGreaterThan(1)
    const p0 = fs.points
    log.rewrite(fresh)
    const points = fs.points - p0
    log.append([enc("after")])
    log.sync()
    expect(recordsOf(fs.clone().crash("lose-unsynced"))).toEqual([...fresh, enc("after")])
    // The old segments are gone.
    expect(log.segments).not.toContain(oldSegments[oldSegments.length - 1])
    expect(fs.list(DIR).filter((n) => n.startsWith("log.")).sort()).toEqual(log.segments)

    // Crash the rewrite at each of its points, every way.
    for (let k = 1; k <= points; k++) {
      for (const mode of ["process", "lose-unsynced", 1, 2, 3, 4] as const) {
        const f = new FaultyFs()
        const { log: l } = TxnLog.open(f, DIR, { segmentBytes: 80 })
        l.append(old)
        l.sync()
        f.crashAt = f.points + k
        expect(() => l.rewrite(fresh)).toThrow(SimulatedCrash)
        const got = recordsOf(f.crash(mode))
        const isOld = got.length === old.length && got.every((g, i) => sameBytes(g, old[i]!))
        const isNew = got.length === fresh.length && got.every((g, i) => sameBytes(g, fresh[i]!))
        expect(isOld || isNew, `crash at rewrite point ${k}, mode ${mode}`).toBe(true)
      }
    }
  })
})
