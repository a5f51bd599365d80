/**
 * The replication simulator (cluster.ts): a bounded sweep of seeds must keep every invariant and
 * pass the client-history check, and each seeded bug of Kafka's history (core/replication's
 * ReplicationBugs, and unclean election) must be caught, by a named check, at a fixed seed.
 * Pre-KIP-279 truncation needs two quick leader changes with unreplicated writes in between,
 * which random schedules almost never produce (0 of 600 seeds): it is caught in KIP-279's own
 * story instead (test/replication/harness.ts), with the invariants checked after every step.
 * Replay any failure with `npm run sim -- --replication --seed N` (plus `--max-down 2`, `--bug`,
 * `--unclean` as the message says).
 */
import { describe, expect, it } from "vitest"
import { kip279Story, violation } from "../../replication/harness.ts"
import { runReplicationSim, type ReplicationSimOptions } from "./cluster.ts"

const sweep = (from: number, count: number, extra: Partial<ReplicationSimOptions> = {}) => {
  const totals = { steps: 0, ackedAll: 0, leaderChanges: 0, crashes: 0, truncations: 0, isrChanges: 0 }
  for (let seed = from; seed < from + count; seed++) {
    const r = runReplicationSim({ seed, ...extra })
    expect(r.violation, `seed ${seed}: ${r.violation?.check}: ${r.violation?.message}`).toBeUndefined()
    for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r[k]
  }
  return totals
}

describe("replication simulation", () => {
  it("keeps every invariant and the client history with one broker down at a time (60 seeds)", () => {
    const t = sweep(1, 60)
    console.log(`replication sim, 60 seeds: ${JSON.stringify(t)}`)
    // The sweep exercised what it is for.
    expect(t.ackedAll).toBeGreaterThan(1000)
    expect(t.leaderChanges).toBeGreaterThan(30)
    expect(t.truncations).toBeGreaterThan(10)
    expect(t.isrChanges).toBeGreaterThan(100)
  }, 120_000)

  it("and with two of three down at once, the ISR losing every member (40 seeds)", () => {
    const t = sweep(1001, 40, { maxDown: 2 })
    console.log(`replication sim, 40 seeds, max 2 down: ${JSON.stringify(t)}`)
    expect(t.ackedAll).toBeGreaterThan(500)
  }, 120_000)
})

describe("replication bug zoo (simulation)", () => {
  const zoo: { name: string; options: Partial<ReplicationSimOptions>; seed: number; check: string }[] = [
    { name: "pre-KIP-101: truncate to the high watermark on restart", options: { bugs: { truncateToHwOnRestart: true } }, seed: 3, check: "HwWithinIsrEnds" },
    { name: "acks=all answered with an ISR below min.insync.replicas", options: { bugs: { undersizedIsrAck: true } }, seed: 1, check: "AckedOnMinIsr" },
    { name: "unclean leader election", options: { unclean: true, maxDown: 2 }, seed: 13, check: "AckedWritesSurvive" },
  ]
  for (const z of zoo)
    it(`${z.name}: caught by ${z.check}`, () => {
      const clean = runReplicationSim({ seed: z.seed, ...z.options, bugs: {}, unclean: false })
      expect(clean.violation, "the same seed without the bug passes").toBeUndefined()
      const r = runReplicationSim({ seed: z.seed, ...z.options })
      expect(r.violation?.check, r.violation?.message).toBe(z.check)
      console.log(`bug zoo: ${z.name}: seed ${z.seed}, ${r.violation!.check} at step ${r.violation!.step}: ${r.violation!.message}`)
    })

  it("pre-KIP-279: truncate to the leader's epoch end without bounding it by our own: caught by LogsAgreeBelowHW in KIP-279's story", () => {
    const found: string[] = []
    kip279Story({ noKip279Min: true }, (c) => {
      const v = violation(c)
      if (v !== undefined && found.length === 0) found.push(`${v.name}: ${v.message}`)
    })
    expect(found[0]).toMatch(/^LogsAgreeBelowHW/)
    console.log(`bug zoo: pre-KIP-279 in KIP-279's story: ${found[0]}`)
    const clean: string[] = []
    kip279Story(undefined, (c) => {
      const v = violation(c)
      if (v !== undefined) clean.push(v.name)
    })
    expect(clean, "the story without the bug keeps every invariant").toEqual([])
  })
})
