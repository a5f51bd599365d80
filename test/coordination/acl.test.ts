import { describe, expect, it } from "vitest"
import {
  Perms,
  checkAcl,
  digestId,
  fixupAcl,
  ipMatches,
  isValidAclId,
  redactAcl,
  type ACL,
  type Id,
} from "../../core/coordination/index.ts"

const world: Id = { scheme: "world", id: "anyone" }
const alice: Id = { scheme: "digest", id: digestId("alice:secret") }
const bob: Id = { scheme: "digest", id: digestId("bob:pw") }
const ip = (id: string): Id => ({ scheme: "ip", id })
const acl = (perms: number, id: Id): ACL => ({ perms, id })

describe("digestId", () => {
  it("is user:base64(sha1(user:password)) (ZooKeeper's documented example)", () => {
    expect(digestId("super:test")).toBe("super:D/InIHSb7yEEbrWz8b9l71RjZJU=")
  })
  it("keeps everything after the first colon in the hashed secret", () => {
    expect(digestId("u:a:b").startsWith("u:")).toBe(true)
    expect(digestId("u:a:b")).not.toBe(digestId("u:a"))
  })
})

describe("checkAcl", () => {
  it.each([
    ["world:anyone grants its perms to everyone", [acl(Perms.READ, world)], [], Perms.READ, true],
    ["but only those perms", [acl(Perms.READ, world)], [], Perms.WRITE, false],
    ["an empty ACL allows everything", [], [], Perms.ADMIN, true],
    ["digest matches the exact id", [acl(Perms.ALL, alice)], [alice], Perms.WRITE, true],
    ["digest does not match another user", [acl(Perms.ALL, alice)], [bob], Perms.WRITE, false],
    ["no ids, no access", [acl(Perms.ALL, alice)], [], Perms.READ, false],
    ["perm bits are checked per entry", [acl(Perms.READ, alice), acl(Perms.WRITE, bob)], [alice], Perms.WRITE, false],
    ["any entry may grant", [acl(Perms.READ, alice), acl(Perms.WRITE, bob)], [bob], Perms.WRITE, true],
    ["ip exact", [acl(Perms.READ, ip("10.1.2.3"))], [ip("10.1.2.3")], Perms.READ, true],
    ["ip exact mismatch", [acl(Perms.READ, ip("10.1.2.3"))], [ip("10.1.2.4")], Perms.READ, false],
    ["ip CIDR", [acl(Perms.READ, ip("10.0.0.0/8"))], [ip("10.200.3.4")], Perms.READ, true],
    ["ip CIDR outside", [acl(Perms.READ, ip("10.0.0.0/8"))], [ip("11.0.0.1")], Perms.READ, false],
    ["schemes must agree", [acl(Perms.READ, ip("10.0.0.1"))], [{ scheme: "digest", id: "10.0.0.1" }], Perms.READ, false],
    ["super bypasses every ACL", [acl(Perms.READ, alice)], [{ scheme: "super", id: "" }], Perms.ADMIN, true],
  ] as const)("%s", (_name, entries, auth, perm, expected) => {
    expect(checkAcl(entries, auth, perm)).toBe(expected)
  })
})

describe("ipMatches (IPAuthenticationProvider.matches)", () => {
  it.each([
    ["192.168.1.7", "192.168.1.0/24", true],
    ["192.168.2.7", "192.168.1.0/24", false],
    ["192.168.1.7", "192.168.1.7/32", true],
    ["1.2.3.4", "0.0.0.0/0", true],
    ["10.0.0.129", "10.0.0.128/25", true],
    ["10.0.0.127", "10.0.0.128/25", false],
    ["10.0.0.1", "10.0.0.1/33", false],
    ["10.0.0.1", "10.0.0.1/x", false],
    ["10.0.0.1", "10.0.0", false],
    ["10.0.0.256", "10.0.0.0/8", false],
    ["::ffff:10.0.0.1", "10.0.0.0/8", true],
    ["::1", "::1", true],
    ["2001:db8::1", "2001:db8::/32", true],
    ["2001:db9::1", "2001:db8::/32", false],
    ["::1", "127.0.0.1", false],
  ])("%s in %s: %s", (addr, expr, expected) => expect(ipMatches(addr, expr)).toBe(expected))
})

describe("fixupAcl (PrepRequestProcessor.fixupACL)", () => {
  it("rejects an empty list", () => expect(fixupAcl([], [alice])).toBeUndefined())

  it("drops exact duplicates, keeping order", () => {
    expect(fixupAcl([acl(Perms.ALL, world), acl(Perms.READ, alice), acl(Perms.ALL, world)], [])).toEqual([
      acl(Perms.ALL, world),
      acl(Perms.READ, alice),
    ])
  })

  it("expands auth to the requester's digest ids, not its ip id", () => {
    const auth = [ip("10.0.0.1"), alice, bob]
    expect(fixupAcl([acl(Perms.ALL, { scheme: "auth", id: "" })], auth)).toEqual([acl(Perms.ALL, alice), acl(Perms.ALL, bob)])
  })

  it("rejects auth when the requester has no authenticated id", () => {
    expect(fixupAcl([acl(Perms.ALL, { scheme: "auth", id: "" })], [ip("10.0.0.1")])).toBeUndefined()
    expect(fixupAcl([acl(Perms.ALL, { scheme: "auth", id: "" })], [])).toBeUndefined()
  })

  it.each([
    [{ scheme: "world", id: "someone" }, false],
    [{ scheme: "nope", id: "x" }, false],
    [{ scheme: "super", id: "" }, false],
    [{ scheme: "digest", id: "user" }, false],
    [{ scheme: "digest", id: "user:" }, false],
    [{ scheme: "digest", id: "a:b:c" }, false],
    [{ scheme: "digest", id: "user:hash" }, true],
    [{ scheme: "digest", id: "user:hash:" }, true], // Java's split drops the trailing empty part
    [{ scheme: "ip", id: "10.0.0.1" }, true],
    [{ scheme: "ip", id: "10.0.0.0/8" }, true],
    [{ scheme: "ip", id: "10.0.0.0/40" }, false],
    [{ scheme: "ip", id: "host.example" }, false],
  ])("id %j valid: %s", (id, valid) => {
    expect(fixupAcl([acl(Perms.READ, id)], [alice]) !== undefined).toBe(valid)
    if (id.scheme !== "world") expect(isValidAclId(id)).toBe(valid)
  })
})

describe("redactAcl", () => {
  it("hides digest hashes and leaves other ids alone", () => {
    expect(redactAcl([acl(Perms.ALL, alice), acl(Perms.READ, ip("10.0.0.1"))])).toEqual([
      acl(Perms.ALL, { scheme: "digest", id: "alice:x" }),
      acl(Perms.READ, ip("10.0.0.1")),
    ])
  })
})
