/**
 * Znode paths, validated exactly as ZooKeeper's PathUtils.validatePath does, so that a client
 * gets BADARGUMENTS from us for precisely the paths a real server rejects.
 */
import { assert } from "../consensus/assert.ts"

/**
 * Why `path` is not a valid znode path, or undefined when it is. With `sequential`, the check a
 * client makes before a sequential create: ZooKeeper appends a digit first, so "/queue/" is a
 * valid prefix there.
 */
export function validatePath(path: string, sequential = false): string | undefined {
  return pathError(sequential ? path + "1" : path)
}

function pathError(path: string): string | undefined {
  if (path.length === 0) return "path length must be > 0"
  if (path[0] !== "/") return "path must start with / character"
  if (path.length === 1) return undefined
  if (path[path.length - 1] === "/") return "path must not end with / character"
  // Walks UTF-16 code units like Java's char[]: every surrogate is rejected by the
  // \ud800-\uf8ff range, so characters outside the BMP are invalid, as in ZooKeeper.
  let last = 0x2f
  for (let i = 1; i < path.length; last = path.charCodeAt(i), i++) {
    const c = path.charCodeAt(i)
    const endsSegment = i + 1 === path.length || path.charCodeAt(i + 1) === 0x2f
    if (c === 0) return `null character not allowed @${i}`
    if (c === 0x2f && last === 0x2f) return `empty node name specified @${i}`
    if (c === 0x2e && last === 0x2e) {
      if (path.charCodeAt(i - 2) === 0x2f && endsSegment) return `relative paths not allowed @${i}`
    } else if (c === 0x2e) {
      if (last === 0x2f && endsSegment) return `relative paths not allowed @${i}`
    } else if (
      (c > 0x00 && c <= 0x1f) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0xd800 && c <= 0xf8ff) ||
      (c >= 0xfff0 && c <= 0xffff)
    ) {
      return `invalid character @${i}`
    }
  }
  return undefined
}

export function isValidPath(path: string): boolean {
  return pathError(path) === undefined
}

/** Parent of a valid non-root path: "/a" -> "/", "/a/b" -> "/a". */
export function parentOf(path: string): string {
  assert(path.length > 1 && path[0] === "/", `parentOf: ${JSON.stringify(path)} has no parent`)
  const slash = path.lastIndexOf("/")
  return slash === 0 ? "/" : path.slice(0, slash)
}

/** Last segment of a valid non-root path: "/a/b" -> "b". */
export function basename(path: string): string {
  assert(path.length > 1 && path[0] === "/", `basename: ${JSON.stringify(path)} has no name`)
  return path.slice(path.lastIndexOf("/") + 1)
}

/** Path of child `name` under `parent`. */
export function childPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`
}

/**
 * Java's String.format("%010d", n) for an int: zero-padded to 10 characters with the sign
 * counted in the width, so -1 is "-000000001" and Integer.MIN_VALUE is "-2147483648".
 */
export function formatSequence(n: number): string {
  assert(Number.isInteger(n) && n >= -2147483648 && n <= 2147483647, `sequence ${n} is not an int32`)
  return n < 0 ? "-" + String(-n).padStart(9, "0") : String(n).padStart(10, "0")
}
