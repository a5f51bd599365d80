/**
 * The file-system operations durable storage needs, as a small synchronous interface with two
 * implementations:
 *
 * - `nodeFs`: the real thing (node:fs sync calls, `fsyncSync`, directory fsync by opening the
 *   directory read-only and fsyncing that descriptor).
 * - `FaultyFs`: in memory, modelling what a power loss leaves behind, so storage code can be
 *   crashed at every write/fsync point by a test.
 *
 * Paths are POSIX strings (`/data/log.0000000000000001`); `FaultyFs` keys its tree by them.
 */
import * as nfs from "node:fs"
import * as path from "node:path"

/** A file opened for appending. Writes go to the end of the file, not durable until `sync()`. */
export interface AppendHandle {
  write(data: Uint8Array): void
  /** fsync: every byte written through any handle of this file so far is durable on return. */
  sync(): void
  /**
   * fsync without blocking (optional; `TxnLog.syncAsync` falls back to `sync`): every byte
   * written through any handle of this file before the call is durable when `done(null)` runs.
   * The handle must stay open until `done` has run.
   */
  syncAsync?(done: (err: Error | null) => void): void
  close(): void
}

/** A file opened for positional reads (the fetch path: no whole-file reads). */
export interface ReadHandle {
  /**
   * Up to `length` bytes at `position` (fewer at the end of the file), into `into` when given
   * (at least `length` long: a hot path reuses its buffer instead of allocating one per read).
   */
  read(position: number, length: number, into?: Uint8Array): Uint8Array
  /** The file's current length. */
  size(): number
  close(): void
}

export interface FileSystem {
  /** `mkdir -p`. A new directory's name is durable only after its parent is `fsyncDir`ed. */
  mkdir(dir: string): void
  /** Names (not paths) of the entries of `dir`, in no particular order. */
  list(dir: string): string[]
  exists(file: string): boolean
  /** The whole content. Throws if the file does not exist. */
  readFile(file: string): Uint8Array
  /** Opens an existing `file` for positional reads. */
  openRead(file: string): ReadHandle
  /** The length of an existing file. */
  size(file: string): number
  /** Creates `file` or replaces its content. Not durable until `fsync` (and `fsyncDir` if new). */
  writeFile(file: string, data: Uint8Array): void
  /** Opens `file` for appending, creating it (empty) if missing. */
  openAppend(file: string): AppendHandle
  /** fsync of a file's content (not of its name: see `fsyncDir`). */
  fsync(file: string): void
  /** fsync of a directory: creations, renames and unlinks in it so far become durable. */
  fsyncDir(dir: string): void
  /** Atomic replace of `to` by `from` (same directory). Durable after `fsyncDir`. */
  rename(from: string, to: string): void
  truncate(file: string, length: number): void
  unlink(file: string): void
}

/**
 * `mkdir -p dir`, made durable: fsyncs the parent of every directory level it creates, and
 * always the parent of `dir` itself (in case an earlier attempt created it and crashed before
 * making it durable).
 */
export function ensureDir(fs: FileSystem, dir: string): void {
  const abs = path.resolve(dir)
  const missing: string[] = []
  for (let d = abs; !fs.exists(d); d = path.dirname(d)) missing.unshift(d)
  fs.mkdir(abs)
  const parents = new Set([...missing.map((d) => path.dirname(d)), path.dirname(abs)])
  for (const p of parents) fs.fsyncDir(p)
}

/**
 * Replaces `dir/name` with `data` atomically and durably: written as `name.tmp`, fsynced, renamed
 * over `name`, and the directory fsynced. A crash leaves the old content or the new, never a mix;
 * a leftover `.tmp` is the reader's to delete.
 */
export function writeFileAtomic(fs: FileSystem, dir: string, name: string, data: Uint8Array): void {
  const final = path.join(dir, name)
  const tmp = `${final}.tmp`
  fs.writeFile(tmp, data)
  fs.fsync(tmp)
  fs.rename(tmp, final)
  fs.fsyncDir(dir)
}

// ---------------------------------------------------------------------------------------------
// The real file system

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0
  while (off < data.length) off += nfs.writeSync(fd, data, off, data.length - off)
}

export const nodeFs: FileSystem = {
  mkdir: (dir) => void nfs.mkdirSync(dir, { recursive: true }),
  list: (dir) => nfs.readdirSync(dir),
  exists: (file) => nfs.existsSync(file),
  readFile: (file) => {
    const b = nfs.readFileSync(file)
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
  },
  openRead: (file) => {
    const fd = nfs.openSync(file, "r")
    let open = true
    return {
      read: (position, length, into) => {
        const out = into ?? Buffer.allocUnsafe(length)
        let n = 0
        while (n < length) {
          const got = nfs.readSync(fd, out, n, length - n, position + n)
          if (got === 0) break
          n += got
        }
        return new Uint8Array(out.buffer, out.byteOffset, n)
      },
      size: () => nfs.fstatSync(fd).size,
      close: () => {
        if (open) nfs.closeSync(fd)
        open = false
      },
    }
  },
  size: (file) => nfs.statSync(file).size,
  writeFile: (file, data) => {
    const fd = nfs.openSync(file, "w")
    try {
      writeAll(fd, data)
    } finally {
      nfs.closeSync(fd)
    }
  },
  openAppend: (file) => {
    const fd = nfs.openSync(file, "a")
    let open = true
    return {
      write: (data) => writeAll(fd, data),
      sync: () => nfs.fsyncSync(fd),
      syncAsync: (done) => nfs.fsync(fd, done),
      close: () => {
        if (open) nfs.closeSync(fd)
        open = false
      },
    }
  },
  fsync: (file) => {
    const fd = nfs.openSync(file, "r+")
    try {
      nfs.fsyncSync(fd)
    } finally {
      nfs.closeSync(fd)
    }
  },
  fsyncDir: (dir) => {
    const fd = nfs.openSync(dir, "r")
    try {
      nfs.fsyncSync(fd)
    } finally {
      nfs.closeSync(fd)
    }
  },
  rename: (from, to) => nfs.renameSync(from, to),
  truncate: (file, length) => nfs.truncateSync(file, length),
  unlink: (file) => nfs.unlinkSync(file),
}

// ---------------------------------------------------------------------------------------------
// The fault-injecting in-memory file system

/** Thrown by a `FaultyFs` operation at the crash point, and by every operation after it. */
export class SimulatedCrash extends Error {
  override readonly name = "SimulatedCrash"
}

/**
 * How a crash treats what was not made durable:
 * - `"process"`: only the process died; the OS kept everything (page cache and directory ops).
 * - `"lose-unsynced"`: power loss where nothing unsynced survives.
 * - a number: power loss decided by a PRNG seeded with it: for each file a random prefix of its
 *   unsynced writes/truncates survives and the next write may be torn (a prefix of it survives,
 *   possibly followed by zeros up to its full length, as with delayed allocation); for each
 *   directory a random prefix of its unsynced creates/renames/unlinks survives (a journaling
 *   file system commits metadata in order).
 */
export type CrashMode = "process" | "lose-unsynced" | number

type ContentOp =
  | { readonly kind: "write"; readonly offset: number; readonly bytes: Uint8Array }
  | { readonly kind: "truncate"; readonly length: number }

interface Inode {
  /** Content as of the last fsync. */
  synced: Uint8Array
  /** Writes and truncates since the last fsync, in order: `current = synced + pending`. */
  pending: ContentOp[]
  current: Uint8Array
}

type Entry = { readonly kind: "file"; readonly inode: Inode } | { readonly kind: "dir" }
type MetaOp =
  | { readonly kind: "link"; readonly name: string; readonly entry: Entry }
  | { readonly kind: "unlink"; readonly name: string }
  | { readonly kind: "rename"; readonly from: string; readonly to: string }

interface Dir {
  /** Entries as the running system sees them. */
  current: Map<string, Entry>
  /** Entries as of the last fsync of this directory. */
  durable: Map<string, Entry>
  /** Operations since that fsync, in order: `current = durable + pending`. */
  pending: MetaOp[]
}

export interface FaultyFsOptions {
  /**
   * Crash at mutating operation number `crashAt` (1-based): that operation does not happen and
   * throws `SimulatedCrash`, as does every later one. `points` counts operations so far.
   */
  crashAt?: number
}

/** mulberry32: a small deterministic PRNG, enough to pick crash outcomes (tests use it too). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function applyContent(base: Uint8Array, op: ContentOp): Uint8Array {
  if (op.kind === "truncate") {
    if (op.length <= base.length) return base.slice(0, op.length)
    const out = new Uint8Array(op.length)
    out.set(base)
    return out
  }
  const end = op.offset + op.bytes.length
  const out = new Uint8Array(Math.max(base.length, end))
  out.set(base)
  out.set(op.bytes, op.offset)
  return out
}

function applyMeta(entries: Map<string, Entry>, op: MetaOp): void {
  if (op.kind === "link") entries.set(op.name, op.entry)
  else if (op.kind === "unlink") entries.delete(op.name)
  else {
    const e = entries.get(op.from)
    if (e === undefined) return
    entries.delete(op.from)
    entries.set(op.to, e)
  }
}

const newDir = (): Dir => ({ current: new Map(), durable: new Map(), pending: [] })
const norm = (p: string): string => path.posix.resolve("/", p)

/**
 * An in-memory `FileSystem` that models crash consistency: file content is durable only up to
 * its last `fsync`, and names (creates, renames, unlinks, mkdirs) only up to the last
 * `fsyncDir` of their directory. `crash(mode)` returns the file system a reboot would find.
 * Every mutating operation is a numbered crash point (`points`), so a test can crash a
 * workload at each one in turn. Deterministic: randomness only comes from the crash seed.
 */
export class FaultyFs implements FileSystem {
  private readonly dirs = new Map<string, Dir>([["/", newDir()]])
  private crashed = false
  /** Mutating operations performed so far (the crash point counter). */
  points = 0
  crashAt: number | undefined

  constructor(options: FaultyFsOptions = {}) {
    this.crashAt = options.crashAt
  }

  /** True once the crash point was hit. */
  get hasCrashed(): boolean {
    return this.crashed
  }

  private point(): void {
    if (this.crashed) throw new SimulatedCrash("file system used after the crash")
    this.points++
    if (this.crashAt !== undefined && this.points >= this.crashAt) {
      this.crashed = true
      throw new SimulatedCrash(`crash at point ${this.points}`)
    }
  }

  private checkAlive(): void {
    if (this.crashed) throw new SimulatedCrash("file system used after the crash")
  }

  private dirOf(p: string): Dir {
    const d = this.dirs.get(p)
    if (d === undefined) throw new Error(`ENOENT: no such directory '${p}'`)
    return d
  }

  private lookup(file: string): { dir: Dir; name: string; entry: Entry | undefined } {
    const p = norm(file)
    const dir = this.dirOf(path.posix.dirname(p))
    const name = path.posix.basename(p)
    return { dir, name, entry: dir.current.get(name) }
  }

  private fileInode(file: string): Inode {
    const { entry } = this.lookup(file)
    if (entry === undefined) throw new Error(`ENOENT: no such file '${file}'`)
    if (entry.kind !== "file") throw new Error(`EISDIR: '${file}' is a directory`)
    return entry.inode
  }

  private contentOp(inode: Inode, op: ContentOp): void {
    inode.pending.push(op)
    inode.current = applyContent(inode.current, op)
  }

  private metaOp(dir: Dir, op: MetaOp): void {
    dir.pending.push(op)
    applyMeta(dir.current, op)
  }

  private create(file: string): Inode {
    const { dir, name, entry } = this.lookup(file)
    if (entry !== undefined) {
      if (entry.kind !== "file") throw new Error(`EISDIR: '${file}' is a directory`)
      return entry.inode
    }
    const inode: Inode = { synced: new Uint8Array(0), pending: [], current: new Uint8Array(0) }
    this.metaOp(dir, { kind: "link", name, entry: { kind: "file", inode } })
    return inode
  }

  mkdir(dir: string): void {
    const p = norm(dir)
    if (this.dirs.has(p)) return
    this.mkdir(path.posix.dirname(p))
    this.point()
    const parent = this.dirOf(path.posix.dirname(p))
    const name = path.posix.basename(p)
    if (parent.current.has(name)) throw new Error(`EEXIST: '${p}' exists and is not a directory`)
    this.metaOp(parent, { kind: "link", name, entry: { kind: "dir" } })
    this.dirs.set(p, newDir())
  }

  list(dir: string): string[] {
    this.checkAlive()
    return [...this.dirOf(norm(dir)).current.keys()]
  }

  exists(file: string): boolean {
    this.checkAlive()
    const p = norm(file)
    if (this.dirs.has(p)) return true
    const d = this.dirs.get(path.posix.dirname(p))
    return d !== undefined && d.current.has(path.posix.basename(p))
  }

  readFile(file: string): Uint8Array {
    this.checkAlive()
    return this.fileInode(file).current.slice()
  }

  openRead(file: string): ReadHandle {
    this.checkAlive()
    const inode = this.fileInode(file) // like a descriptor, it follows the inode across renames
    return {
      read: (position, length, into) => {
        this.checkAlive()
        const bytes = inode.current.subarray(position, position + length)
        if (into === undefined) return bytes.slice()
        into.set(bytes)
        return into.subarray(0, bytes.length)
      },
      size: () => inode.current.length,
      close: () => {},
    }
  }

  size(file: string): number {
    this.checkAlive()
    return this.fileInode(file).current.length
  }

  writeFile(file: string, data: Uint8Array): void {
    this.point()
    const inode = this.create(file)
    if (inode.current.length > 0) this.contentOp(inode, { kind: "truncate", length: 0 })
    if (data.length > 0) this.contentOp(inode, { kind: "write", offset: 0, bytes: data.slice() })
  }

  openAppend(file: string): AppendHandle {
    this.checkAlive()
    if (this.lookup(file).entry === undefined) {
      this.point()
      this.create(file)
    }
    const inode = this.fileInode(file) // the handle follows the inode across renames and unlinks
    let open = true
    const check = (): void => {
      if (!open) throw new Error(`write to a closed handle of '${file}'`)
    }
    return {
      write: (data) => {
        check()
        this.point()
        if (data.length > 0) this.contentOp(inode, { kind: "write", offset: inode.current.length, bytes: data.slice() })
      },
      sync: () => {
        check()
        this.point()
        this.syncInode(inode)
      },
      close: () => {
        open = false
      },
    }
  }

  private syncInode(inode: Inode): void {
    inode.synced = inode.current
    inode.pending = []
  }

  fsync(file: string): void {
    this.point()
    this.syncInode(this.fileInode(file))
  }

  fsyncDir(dir: string): void {
    this.point()
    const d = this.dirOf(norm(dir))
    d.durable = new Map(d.current)
    d.pending = []
  }

  rename(from: string, to: string): void {
    this.point()
    const a = this.lookup(from)
    const b = this.lookup(to)
    if (a.dir !== b.dir) throw new Error("FaultyFs: rename across directories is not modelled")
    if (a.entry === undefined) throw new Error(`ENOENT: no such file '${from}'`)
    if (a.entry.kind !== "file") throw new Error("FaultyFs: renaming directories is not modelled")
    this.metaOp(a.dir, { kind: "rename", from: a.name, to: b.name })
  }

  truncate(file: string, length: number): void {
    this.point()
    this.contentOp(this.fileInode(file), { kind: "truncate", length })
  }

  unlink(file: string): void {
    this.point()
    const { dir, name, entry } = this.lookup(file)
    if (entry === undefined) throw new Error(`ENOENT: no such file '${file}'`)
    if (entry.kind !== "file") throw new Error(`EISDIR: '${file}' is a directory`)
    this.metaOp(dir, { kind: "unlink", name })
  }

  /**
   * The file system a reboot finds after a crash now (whether or not the crash point was hit).
   * This instance is dead afterwards; the returned one has no crash point set.
   */
  crash(mode: CrashMode = "lose-unsynced"): FaultyFs {
    this.crashed = true
    const rand = typeof mode === "number" ? mulberry32(mode) : undefined
    const out = new FaultyFs()
    const inodes = new Map<Inode, Inode>()

    const survivingContent = (inode: Inode): Uint8Array => {
      if (mode === "process") return inode.current
      if (rand === undefined) return inode.synced
      const n = inode.pending.length
      const k = Math.floor(rand() * (n + 1))
      let content = inode.synced
      for (let i = 0; i < k; i++) content = applyContent(content, inode.pending[i]!)
      const next = inode.pending[k]
      if (next !== undefined && next.kind === "write" && next.bytes.length > 1 && rand() < 0.5) {
        const keep = 1 + Math.floor(rand() * (next.bytes.length - 1))
        const torn = new Uint8Array(rand() < 0.5 ? keep : next.bytes.length) // zero-filled tail
        torn.set(next.bytes.subarray(0, keep))
        content = applyContent(content, { kind: "write", offset: next.offset, bytes: torn })
      }
      return content
    }
    const rebuild = (p: string, target: Dir): void => {
      const d = this.dirs.get(p)!
      let entries: Map<string, Entry>
      if (mode === "process") entries = d.current
      else {
        entries = new Map(d.durable)
        const k = rand === undefined ? 0 : Math.floor(rand() * (d.pending.length + 1))
        for (let i = 0; i < k; i++) applyMeta(entries, d.pending[i]!)
      }
      for (const name of [...entries.keys()].sort()) {
        const e = entries.get(name)!
        const child = p === "/" ? `/${name}` : `${p}/${name}`
        if (e.kind === "dir") {
          const sub = newDir()
          out.dirs.set(child, sub)
          target.current.set(name, e)
          rebuild(child, sub)
        } else {
          let inode = inodes.get(e.inode)
          if (inode === undefined) {
            const content = survivingContent(e.inode)
            inode = { synced: content, pending: [], current: content }
            inodes.set(e.inode, inode)
          }
          target.current.set(name, { kind: "file", inode })
        }
      }
      target.durable = new Map(target.current)
    }
    rebuild("/", out.dirs.get("/")!)
    return out
  }

  /**
   * An independent, live copy of this file system (even of one that hit its crash point),
   * unsynced state included, with the point counter at 0 and no crash point: to crash the same
   * state several ways, or to crash recovery itself.
   */
  clone(): FaultyFs {
    const out = new FaultyFs()
    const inodes = new Map<Inode, Inode>()
    const inode = (i: Inode): Inode => {
      let c = inodes.get(i)
      if (c === undefined) {
        c = { synced: i.synced, pending: [...i.pending], current: i.current } // contents are never mutated in place
        inodes.set(i, c)
      }
      return c
    }
    const entry = (e: Entry): Entry => (e.kind === "dir" ? e : { kind: "file", inode: inode(e.inode) })
    const entries = (m: Map<string, Entry>): Map<string, Entry> => new Map([...m].map(([k, e]) => [k, entry(e)]))
    out.dirs.clear()
    for (const [p, d] of this.dirs)
      out.dirs.set(p, {
        current: entries(d.current),
        durable: entries(d.durable),
        pending: d.pending.map((op) => (op.kind === "link" ? { ...op, entry: entry(op.entry) } : op)),
      })
    return out
  }

  /** Test helper: all files and their current content, by path. */
  files(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>()
    for (const [p, d] of this.dirs)
      for (const [name, e] of d.current)
        if (e.kind === "file") out.set(p === "/" ? `/${name}` : `${p}/${name}`, e.inode.current)
    return out
  }
}
