import { describe, expect, it } from "vitest"
import type { Message, Output } from "../../core/consensus/index.ts"
import { HeldOutputs, type AsyncDurability } from "../../adapters/server/replica.ts"

/** A disk whose fsyncs complete when the test says so. */
class FakeDisk implements AsyncDurability {
  written = 0
  durableUpTo = 0
  readonly inflight: { upTo: number; done: (err: Error | null) => void }[] = []
  write(records: number): number {
    this.written += records
    return this.written
  }
  syncAsync(done: (err: Error | null) => void): void {
    this.inflight.push({ upTo: this.written, done })
  }
  /** Completes the oldest fsync under way. */
  complete(err: Error | null = null): void {
    const f = this.inflight.shift()!
    if (err === null) this.durableUpTo = Math.max(this.durableUpTo, f.upTo)
    f.done(err)
  }
}

const send = (to: number, message: Message): Output => ({ _tag: "Send", to, message })
const commit = (zxid: number): Output => send(2, { _tag: "Commit", epoch: 1, zxid })
const ack = (zxid: number): Output => send(1, { _tag: "Ack", epoch: 1, zxid })
const proposal = (zxid: number): Output => send(2, { _tag: "Proposal", epoch: 1, prevZxid: zxid - 1, txns: [{ zxid, data: new Uint8Array(1) }] })
const deliver = (zxid: number): Output => ({ _tag: "Deliver", txns: [{ zxid, data: new Uint8Array(1) }] })

function setup(early = true) {
  const disk = new FakeDisk()
  const acted: string[] = []
  const settled: string[] = []
  const label = (o: Output): string =>
    o._tag === "Send" ? `${o.message._tag}${"zxid" in o.message ? o.message.zxid : o.message._tag === "Proposal" ? o.message.txns[0]!.zxid : ""}` : o._tag === "Deliver" ? `Deliver${o.txns[0]!.zxid}` : o._tag
  const fatal: Error[] = []
  const held = new HeldOutputs<string>(
    disk,
    {
      act: (o) => acted.push(label(o)),
      settled: (s) => settled.push(s),
      fatal: (e) => void fatal.push(e),
    },
    early,
  )
  return { disk, acted, settled, held, fatal }
}

describe("HeldOutputs: a drain's outputs wait for the fsync that covers its writes", () => {
  it("holds drain N until an fsync started after its writes completes, and keeps order across drains", () => {
    const { disk, acted, settled, held } = setup()
    held.push(disk.write(1), [ack(1), deliver(1)], "d1")
    expect(acted).toEqual([])
    expect(disk.inflight.length).toBe(1) // one fsync, covering d1
    held.push(disk.write(1), [ack(2)], "d2") // written after that fsync started
    held.push(disk.write(0), [commit(1)], "d3") // writes nothing itself, but follows d2
    expect(disk.inflight.length).toBe(1) // still one at a time
    disk.complete()
    expect(acted).toEqual(["Ack1", "Deliver1"]) // d2 and d3 are not covered by it
    expect(settled).toEqual(["d1"])
    expect(disk.inflight.length).toBe(1) // the next fsync started for d2
    held.push(disk.write(1), [ack(3)], "d4")
    disk.complete() // started before d4's writes: covers d2 and d3 only
    expect(acted).toEqual(["Ack1", "Deliver1", "Ack2", "Commit1"])
    expect(settled).toEqual(["d1", "d3"])
    disk.complete()
    expect(acted).toEqual(["Ack1", "Deliver1", "Ack2", "Commit1", "Ack3"])
    expect(held.waiting).toBe(0)
    expect(disk.inflight.length).toBe(0)
  })

  it("releases at once what needs no fsync, but never ahead of a held batch", () => {
    const { disk, acted, held } = setup()
    held.push(disk.write(0), [commit(0)], "a")
    expect(acted).toEqual(["Commit0"])
    expect(disk.inflight.length).toBe(0)
    held.push(disk.write(1), [ack(1)], "b")
    held.push(disk.write(0), [commit(1)], "c")
    expect(acted).toEqual(["Commit0"])
    disk.complete()
    expect(acted).toEqual(["Commit0", "Ack1", "Commit1"])
  })

  it("a synchronous flush (a snapshot while releasing) releases the later batches too", () => {
    const { disk, acted, held } = setup()
    held.push(disk.write(1), [deliver(1)], "a")
    held.push(disk.write(1), [deliver(2)], "b")
    disk.durableUpTo = disk.written // as NodeStorage.flush does
    disk.complete()
    expect(acted).toEqual(["Deliver1", "Deliver2"])
  })

  it("sends a Proposal before the fsync, and nothing else", () => {
    const { disk, acted, held } = setup()
    held.push(disk.write(1), [proposal(1), send(3, { _tag: "Ping", epoch: 1, commitZxid: 0 }), commit(0), proposal(2), deliver(0)], "a")
    expect(acted).toEqual(["Proposal1", "Proposal2"])
    held.push(disk.write(1), [ack(1), proposal(3), commit(1)], "b")
    expect(acted).toEqual(["Proposal1", "Proposal2", "Proposal3"])
    disk.complete()
    expect(acted).toEqual(["Proposal1", "Proposal2", "Proposal3", "Ping", "Commit0", "Deliver0"])
    disk.complete()
    expect(acted).toEqual(["Proposal1", "Proposal2", "Proposal3", "Ping", "Commit0", "Deliver0", "Ack1", "Commit1"])
  })

  it("without early proposals, a Proposal is held like the rest", () => {
    const { disk, acted, held } = setup(false)
    held.push(disk.write(1), [proposal(1), commit(0)], "a")
    expect(acted).toEqual([])
    disk.complete()
    expect(acted).toEqual(["Proposal1", "Commit0"])
  })

  it("a failed fsync is fatal and releases nothing", () => {
    const { disk, acted, held, fatal } = setup()
    held.push(disk.write(1), [ack(1)], "a")
    disk.complete(new Error("EIO"))
    expect(fatal.map((e) => e.message)).toEqual(["EIO"])
    expect(acted).toEqual([])
    expect(held.waiting).toBe(1)
  })

  it("stop drops what is held and ignores a later completion", () => {
    const { disk, acted, held } = setup()
    held.push(disk.write(1), [ack(1)], "a")
    held.stop()
    disk.complete()
    expect(acted).toEqual([])
  })
})
