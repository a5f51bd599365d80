/**
 * Spec-level bug zoo for replication: known replication mistakes written into the TLA+ spec
 * (spec/zoo/ReplicationZoo.tla), each of which TLC must catch with the CI model of
 * spec/Replication.cfg, named by the invariant that catches it. The implementation-level zoo
 * (the same mistakes as ReplicationBugs flags in core/replication) is in
 * test/sim/replication/sim.test.ts.
 *
 * Two mutants change the model's bounds. A stale answer must still be in flight when the
 * follower has caught up, which needs more fetch traffic than the CI model allows. The pre-KIP-279
 * hole needs a follower holding records of an epoch the leader never saw after records of an
 * earlier one: three leader epochs. The spec's follower always fetches with its last epoch, so
 * there the hole is a livelock (the follower truncates too little, its next fetch diverges again,
 * for ever), which DivergenceMakesProgress states as a safety property; in the simulator, where
 * it loses data, the KIP-279 story catches it by LogsAgreeBelowHW.
 */
import { copyFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises"
import { tmpdir } from "node:os"
import path from "node:path"
import { describe, expect, it } from "vitest"
import { runTlc } from "../tlc/tlc.ts"

const spec = path.resolve(import.meta.dirname, "../../spec")

interface Mutant {
  readonly name: string
  /** What the mistake is, in Kafka's history. */
  readonly story: string
  /** `Op <- Mutant` overrides of Replication's choice points, and model bounds (`Op = n`). */
  readonly overrides: readonly string[]
  /** Constants of the CI model given other values. */
  readonly constants?: Readonly<Record<string, string>>
  readonly caughtBy: string
}

const mutants: readonly Mutant[] = [
  {
    name: "TruncateToHw",
    story: "pre-KIP-101: a restarted replica truncates to its HW before fetching",
    overrides: ["RestartLog <- TruncateToHw"],
    caughtBy: "HwWithinIsrEnds",
  },
  {
    name: "AnyIsr",
    story: "acks=all answered (and the HW trusted) with an ISR below min.insync.replicas",
    overrides: ["EnoughIsr <- AnyIsr"],
    caughtBy: "AckedOnMinIsr",
  },
  {
    name: "CommittedIsrOnly",
    story: "pre-KIP-497: the HW over the committed ISR, ignoring an expansion in flight",
    overrides: ["MaximalIsr <- CommittedIsrOnly"],
    caughtBy: "HwWithinIsrEnds",
  },
  {
    name: "Unclean",
    story: "unclean.leader.election.enable: a replica outside the ISR elected",
    overrides: [],
    constants: { Unclean: "TRUE" },
    caughtBy: "LeaderHasCommitted",
  },
  {
    name: "LeaderEndOnly",
    story: "pre-KIP-279: the follower truncates to the leader's end of the diverging epoch only",
    overrides: ["TruncationPoint <- LeaderEndOnly"],
    constants: { MaxEpoch: "3" },
    caughtBy: "DivergenceMakesProgress",
  },
  {
    name: "OffsetOnly",
    story: "a fetch answer matched by its offset alone (the bug TLC found in PROTOCOL.md)",
    // The stale answer must still be in flight when the follower has caught up: more fetch
    // traffic than the CI model allows, and no ISR changes beyond the leader changes.
    overrides: ["AnswersFetch <- OffsetOnly", "ResponseMayMatch <- AnyOffsetMayMatch", "MaxFetchTraffic = 5", "ExtraIsrChanges = 0"],
    caughtBy: "HwWithinIsrEnds",
  },
]

/** The CI config with the mutant's overrides and constants. */
async function mutantConfig(m: Mutant): Promise<string> {
  let cfg = await readFile(path.join(spec, "Replication.cfg"), "utf8")
  for (const [name, value] of Object.entries(m.constants ?? {})) {
    const line = new RegExp(`^(\\s*${name}\\s*=\\s*)\\S+\\s*$`, "m")
    expect(cfg, `Replication.cfg has no constant ${name}`).toMatch(line)
    cfg = cfg.replace(line, `$1${value}`)
  }
  const spec_ = /^SPECIFICATION\s+\S+\s*$/m
  expect(cfg).toMatch(spec_)
  return cfg.replace(spec_, (s) => [s.trim(), ...m.overrides.map((o) => `CONSTANT ${o}`)].join("\n"))
}

describe("replication spec mutants are caught by TLC", () => {
  for (const m of mutants) {
    it(`${m.name} (${m.story}) is caught by ${m.caughtBy}`, async () => {
      const dir = await mkdtemp(path.join(tmpdir(), "replication-mutant-"))
      try {
        await copyFile(path.join(spec, "Replication.tla"), path.join(dir, "Replication.tla"))
        await copyFile(path.join(spec, "zoo", "ReplicationZoo.tla"), path.join(dir, "ReplicationZoo.tla"))
        await writeFile(path.join(dir, "ReplicationZoo.cfg"), await mutantConfig(m))
        const r = await runTlc({ dir, spec: "ReplicationZoo.tla", config: "ReplicationZoo.cfg", timeoutSec: 600, workers: 1 })
        console.log(`replication spec mutant ${m.name}: ${r.verdict}, ${r.violatedInvariant ?? "-"} after ${r.distinctStates} distinct states, ${r.seconds.toFixed(1)}s`)
        expect(r.exitCode, r.output.slice(-2000)).toBe(12)
        expect(r.violatedInvariant).toBe(m.caughtBy)
        expect(r.counterexample).toMatch(/State 1/)
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    }, 700_000)
  }
})
