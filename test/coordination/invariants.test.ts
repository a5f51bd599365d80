/** The invariants are only worth checking if they notice broken trees: break one field at a time. */
import { describe, expect, it } from "vitest"
import { CreateMode, checkTreeInvariants, treeInvariants } from "../../core/coordination/index.ts"
import type { Znode } from "../../core/coordination/znode.ts"
import { Harness } from "./helpers.ts"

function tree(): Harness {
  const h = new Harness()
  const s = h.session()
  h.create("/a")
  h.create("/a/b")
  h.create("/e", { mode: CreateMode.EPHEMERAL }, { session: s })
  expect(checkTreeInvariants(h.tree)).toEqual([])
  return h
}

/** Tests reach behind the read-only view to corrupt a node on purpose. */
const raw = (h: Harness, path: string) => h.tree.node(path) as Znode

describe("tree invariants", () => {
  it.each<[keyof typeof treeInvariants, (h: Harness) => void]>([
    ["PathsFormATree", (h) => raw(h, "/a").children.delete("b")],
    ["NumChildrenMatches", (h) => raw(h, "/a").children.add("ghost")],
    ["EphemeralsHaveLiveSessions", (h) => void (raw(h, "/a/b").ephemeralOwner = 12345n)],
    ["EphemeralsHaveNoChildren", (h) => void (raw(h, "/a").ephemeralOwner = h.tree.sessions()[0]!.id)],
    ["ParentPzxidCoversChildren", (h) => void (raw(h, "/a").pzxid = 0)],
    ["ZxidsNotInFuture", (h) => void (raw(h, "/a/b").mzxid = h.zxid + 1)],
    ["CversionCoversChildren", (h) => void (raw(h, "/a").cversion = 0)],
  ])("%s notices", (name, corrupt) => {
    const h = tree()
    corrupt(h)
    expect(treeInvariants[name](h.tree)).toBeDefined()
    expect(checkTreeInvariants(h.tree).some((v) => v.startsWith(`${name}:`))).toBe(true)
  })
})
