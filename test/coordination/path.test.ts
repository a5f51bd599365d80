import { describe, expect, it } from "vitest"
import { basename, childPath, formatSequence, isValidPath, parentOf, validatePath } from "../../core/coordination/index.ts"

describe("validatePath (PathUtils.validatePath)", () => {
  it.each([
    "/",
    "/a",
    "/a/b",
    "/zookeeper/quota",
    "/a.b",
    "/...",
    "/a/.b",
    "/a/b.",
    "/a..",
    "/ü",
    "/with space",
    "/\u00a0",
  ])("accepts %j", (p) => expect(validatePath(p)).toBeUndefined())

  it.each([
    ["", /length/],
    ["a", /start with \//],
    ["a/b", /start with \//],
    ["/a/", /end with \//],
    ["//", /end with \//],
    ["//a", /empty node name/],
    ["/a//b", /empty node name/],
    ["/.", /relative/],
    ["/..", /relative/],
    ["/a/./b", /relative/],
    ["/a/../b", /relative/],
    ["/a/..", /relative/],
    ["/a\u0000b", /null character/],
    ["/a\u0001", /invalid character/],
    ["/a\u001f", /invalid character/],
    ["/a\u007f", /invalid character/],
    ["/a\u009f", /invalid character/],
    ["/a\ud800", /invalid character/],
    ["/\u{1F600}", /invalid character/],
    ["/a\uf8ff", /invalid character/],
    ["/a\ufff0", /invalid character/],
    ["/a\uffff", /invalid character/],
  ])("rejects %j", (p, reason) => {
    expect(validatePath(p)).toMatch(reason)
    expect(isValidPath(p)).toBe(false)
  })

  it("validates a sequential create's path with a digit appended", () => {
    expect(validatePath("/queue/", true)).toBeUndefined()
    expect(validatePath("/queue/")).toBeDefined()
    expect(validatePath("/", true)).toBeUndefined()
    expect(validatePath("//", true)).toBeDefined()
  })
})

describe("path helpers", () => {
  it("parentOf, basename and childPath", () => {
    expect(parentOf("/a")).toBe("/")
    expect(parentOf("/a/b/c")).toBe("/a/b")
    expect(basename("/a/b/c")).toBe("c")
    expect(childPath("/", "a")).toBe("/a")
    expect(childPath("/a", "b")).toBe("/a/b")
    expect(() => parentOf("/")).toThrow()
  })

  it("formats sequence numbers like Java's %010d", () => {
    expect(formatSequence(0)).toBe("0000000000")
    expect(formatSequence(42)).toBe("0000000042")
    expect(formatSequence(2147483647)).toBe("2147483647")
    expect(formatSequence(-1)).toBe("-000000001")
    expect(formatSequence(-2147483648)).toBe("-2147483648")
    expect(() => formatSequence(2147483648)).toThrow()
  })
})
