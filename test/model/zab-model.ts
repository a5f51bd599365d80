/**
 * Model-based testing of the consensus core (fast-check `commands`): clients propose values to a 3-voter + 1-observer
 * cluster while generated commands deliver, drop, duplicate and reorder messages, tick clocks,
 * crash and restart nodes. The model is one sequential log: after every command each node's
 * delivered sequence must be a prefix of it, and it only ever grows. Failing runs shrink to a
 * minimal command sequence.
 */
import fc from "fast-check"
import { expect } from "vitest"
import {
  makeConfig,
  recoverDurable,
  start,
  step,
  type Input,
  type Message,
  type NodeState,
  type Persist,
  type StepResult,
  type BugFlags,
} from "../../core/consensus/index.ts"

export const voters = [1, 2, 3]
export const observers = [4]
export const all = [...voters, ...observers]

/** The real system: nodes, their durable records, and an unordered network. */
export class Cluster {
  states = new Map<number, NodeState | undefined>()
  disks = new Map<number, Persist[]>(all.map((n) => [n, []]))
  net: { from: number; to: number; m: Message }[] = []
  delivered = new Map<number, string[]>(all.map((n) => [n, []]))

  constructor(readonly bugs?: BugFlags) {
    for (const id of all) this.boot(id)
  }

  boot(id: number): void {
    this.delivered.set(id, [])
    this.apply(id, start(makeConfig(id, voters, observers, { heartbeatTicks: 1, syncLimitTicks: 10, initLimitTicks: 14 }, this.bugs), recoverDurable(this.disks.get(id)!)))
  }

  apply(id: number, r: StepResult): void {
    for (const o of r.outputs) {
      if (o._tag === "Persist") this.disks.get(id)!.push(o)
      else if (o._tag === "Send") this.net.push({ from: id, to: o.to, m: o.message })
      else if (o._tag === "Deliver") this.delivered.get(id)!.push(...o.txns.map((t) => new TextDecoder().decode(t.data)))
    }
    this.states.set(id, r.state)
  }

  feed(id: number, input: Input): void {
    const s = this.states.get(id)
    if (s !== undefined) this.apply(id, step(s, input))
  }

  leader(): number | undefined {
    return voters.find((v) => {
      const s = this.states.get(v)
      return s?.role === "leading" && s.phase === "broadcast"
    })
  }
}

/** The model: the one sequential log every node's deliveries must follow. */
export interface Model {
  log: string[]
  proposed: Set<string>
  down: Set<number>
}

function checkAgainstModel(m: Model, c: Cluster): void {
  // Adopt the longest delivered sequence as the model's log if it extends it; then every node's
  // sequence must be a prefix of the log.
  for (const seq of c.delivered.values()) {
    if (seq.length > m.log.length) {
      expect(seq.slice(0, m.log.length)).toEqual(m.log)
      m.log = [...seq]
    }
  }
  for (const [id, seq] of c.delivered) {
    expect(seq, `node ${id} delivered a sequence that is not a prefix of the log`).toEqual(m.log.slice(0, seq.length))
  }
  for (const v of m.log) expect(m.proposed.has(v), `${v} delivered but never proposed`).toBe(true)
  expect(new Set(m.log).size, "a value was delivered twice").toBe(m.log.length)
}

type Cmd = fc.Command<Model, Cluster>

class Propose implements Cmd {
  constructor(readonly value: string, readonly n: number) {}
  check = () => true
  run(m: Model, c: Cluster): void {
    const l = c.leader()
    if (l === undefined) return
    // Values are unique per run, so "delivered twice" and "never proposed" are checkable.
    const batch = Array.from({ length: this.n }, (_, i) => `${this.value}${m.proposed.size + 1 + i}`)
    for (const v of batch) m.proposed.add(v)
    c.feed(l, { _tag: "Propose", data: batch.map((v) => new TextEncoder().encode(v)) })
    checkAgainstModel(m, c)
  }
  toString = () => `Propose(${this.value} x${this.n})`
}

/** Deliver a pending message chosen by index: any order, so the network reorders. */
class Deliver implements Cmd {
  constructor(readonly pick: number, readonly keep: boolean, readonly count: number) {}
  check = () => true
  run(m: Model, c: Cluster): void {
    for (let k = 0; k < this.count && c.net.length > 0; k++) {
      const i = (this.pick + k) % c.net.length
      const msg = c.net[i]!
      if (!this.keep) c.net.splice(i, 1) // keep = duplicate: the message stays deliverable
      c.feed(msg.to, { _tag: "Receive", from: msg.from, message: msg.m })
      checkAgainstModel(m, c)
    }
  }
  toString = () => `Deliver(${this.pick}${this.keep ? ", dup" : ""}, x${this.count})`
}

class Drop implements Cmd {
  constructor(readonly pick: number) {}
  check = () => true
  run(_m: Model, c: Cluster): void {
    if (c.net.length > 0) c.net.splice(this.pick % c.net.length, 1)
  }
  toString = () => `Drop(${this.pick})`
}

class Tick implements Cmd {
  constructor(readonly node: number, readonly times: number) {}
  check = () => true
  run(m: Model, c: Cluster): void {
    for (let i = 0; i < this.times; i++) c.feed(this.node, { _tag: "Tick" })
    checkAgainstModel(m, c)
  }
  toString = () => `Tick(${this.node} x${this.times})`
}

class Crash implements Cmd {
  constructor(readonly node: number) {}
  // Never more than a minority of voters down, or nothing could be committed.
  check = (m: Readonly<Model>) => !m.down.has(this.node) && (observers.includes(this.node) || [...m.down].filter((d) => voters.includes(d)).length === 0)
  run(m: Model, c: Cluster): void {
    m.down.add(this.node)
    c.states.set(this.node, undefined)
    c.net = c.net.filter((x) => x.to !== this.node)
  }
  toString = () => `Crash(${this.node})`
}

class Restart implements Cmd {
  constructor(readonly node: number) {}
  check = (m: Readonly<Model>) => m.down.has(this.node)
  run(m: Model, c: Cluster): void {
    m.down.delete(this.node)
    c.boot(this.node)
    checkAgainstModel(m, c)
  }
  toString = () => `Restart(${this.node})`
}

/** A calm stretch: every live node ticks and every pending message is delivered, in order. */
class Settle implements Cmd {
  constructor(readonly rounds: number) {}
  check = () => true
  run(m: Model, c: Cluster): void {
    for (let r = 0; r < this.rounds; r++) {
      for (const id of all) c.feed(id, { _tag: "Tick" })
      const batch = c.net
      c.net = []
      for (const x of batch) c.feed(x.to, { _tag: "Receive", from: x.from, message: x.m })
      checkAgainstModel(m, c)
    }
  }
  toString = () => `Settle(${this.rounds})`
}

const node = fc.constantFrom(...all)
export const commands = [
  fc.tuple(fc.string({ minLength: 1, maxLength: 3, unit: fc.constantFrom("a", "b", "c") }), fc.integer({ min: 1, max: 3 })).map(([v, n]) => new Propose(v, n)),
  fc.tuple(fc.nat(), fc.boolean(), fc.integer({ min: 1, max: 30 })).map(([p, keep, n]) => new Deliver(p, keep, n)),
  fc.tuple(fc.nat(), fc.constant(false), fc.integer({ min: 20, max: 80 })).map(([p, keep, n]) => new Deliver(p, keep, n)),
  fc.nat().map((p) => new Drop(p)),
  fc.tuple(node, fc.integer({ min: 1, max: 8 })).map(([n, t]) => new Tick(n, t)),
  node.map((n) => new Crash(n)),
  node.map((n) => new Restart(n)),
  // Calm stretches and proposals are listed twice: they are what lets runs commit at all.
  fc.integer({ min: 1, max: 12 }).map((r) => new Settle(r)),
  fc.integer({ min: 1, max: 12 }).map((r) => new Settle(r)),
  fc.tuple(fc.constantFrom("p", "q", "r"), fc.integer({ min: 1, max: 3 })).map(([v, n]) => new Propose(v, n)),
]


/** Runs the model-based property; throws (with fast-check's shrunk counterexample) on failure. */
export function runModelCheck(opts: { bugs?: BugFlags; numRuns: number; seed?: number }): { runs: number; runsThatCommitted: number } {
  let runs = 0
  let runsThatCommitted = 0
  fc.assert(
    fc.property(fc.commands(commands, { maxCommands: 120 }), (cmds) => {
      const model: Model = { log: [], proposed: new Set<string>(), down: new Set<number>() }
      runs++
      fc.modelRun(() => ({ model, real: new Cluster(opts.bugs) }), cmds)
      if (model.log.length > 0) runsThatCommitted++
    }),
    { numRuns: opts.numRuns, ...(opts.seed === undefined ? {} : { seed: opts.seed }) },
  )
  return { runs, runsThatCommitted }
}
