// Builds and runs KafkaBatches (test/log/java), which makes record batches with the Java Kafka
// client's own batch builder and reads batches back with the Java client's reader.
//
// The build is `mvn compile dependency:build-classpath` on java/pom.xml with the build directory
// under node_modules/.cache, cached by the hash of the pom and the Java source (as
// test/interop/zk/java.ts does), so only a changed program is rebuilt.

import { execFileSync, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { readFile, readdir, rm, writeFile } from "node:fs/promises"
import path from "node:path"
import { fileURLToPath } from "node:url"

import { readCachedClasspath, runMaven, sha256Hex, withDirLock } from "../interop/zk/apache.ts"

const here = path.dirname(fileURLToPath(import.meta.url))
const JAVA_DIR = path.join(here, "java")
const POM = path.join(JAVA_DIR, "pom.xml")
const SOURCE_DIR = path.join(JAVA_DIR, "src", "main", "java")
const MAIN_CLASS = "sequent.KafkaBatches"
const CACHE_DIR = path.resolve(here, "..", "..", "node_modules", ".cache", "sequent-kafka-batches")

export type JavaCodec = "none" | "gzip" | "snappy" | "lz4" | "zstd"

export interface JavaRecord {
  readonly timestamp: number
  readonly key: Uint8Array | null
  readonly value: Uint8Array | null
  readonly headers: readonly { readonly key: string; readonly value: Uint8Array | null }[]
}

export interface JavaBatchSpec {
  readonly name: string
  readonly codec: JavaCodec
  readonly baseOffset: number
  /** Set as an idempotent or transactional producer sets it (MemoryRecordsBuilder.setProducerState). */
  readonly producer?: { readonly id: number; readonly epoch: number; readonly baseSequence: number; readonly transactional: boolean }
  readonly records: readonly JavaRecord[]
}

/** A record as the Java client read it from a batch (absolute offset and timestamp). */
export interface JavaReadRecord extends JavaRecord {
  readonly offset: number
}

export interface JavaRun {
  /** Batches the Java client built, by spec name. */
  readonly built: Map<string, Uint8Array>
  /** What the Java client read from each batch handed to it, by name. */
  readonly read: Map<string, { codec: string; records: JavaReadRecord[] } | { error: string }>
}

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...(await sourceFiles(p)))
    else if (e.name.endsWith(".java")) out.push(p)
  }
  return out.sort()
}

async function buildKey(): Promise<string> {
  const parts = [await readFile(POM, "utf8")]
  for (const f of await sourceFiles(SOURCE_DIR)) parts.push(path.relative(JAVA_DIR, f), await readFile(f, "utf8"))
  return sha256Hex(parts.join("\0")).slice(0, 16)
}

export interface KafkaBatchesBuild {
  classesDir: string
  classpath: string
}

let built: Promise<KafkaBatchesBuild> | undefined

/** Compiles KafkaBatches unless an up-to-date build is cached (fetching kafka-clients on first use). */
export function ensureKafkaBatches(): Promise<KafkaBatchesBuild> {
  built ??= build().catch((e: unknown) => {
    built = undefined
    throw e
  })
  return built
}

async function build(): Promise<KafkaBatchesBuild> {
  const dir = path.join(CACHE_DIR, `java-${await buildKey()}`)
  const classesDir = path.join(dir, "target", "classes")
  const cpFile = path.join(dir, "classpath.txt")
  const ready = async () =>
    existsSync(path.join(dir, "ok")) && existsSync(path.join(classesDir, ...MAIN_CLASS.split(".")) + ".class") ? await readCachedClasspath(cpFile) : undefined
  const cached = await ready()
  if (cached) return { classesDir, classpath: cached }
  return withDirLock(path.join(CACHE_DIR, "java-build.lock"), 10 * 60_000, async () => {
    const again = await ready()
    if (again) return { classesDir, classpath: again }
    await rm(dir, { recursive: true, force: true })
    await runMaven([
      "-f",
      POM,
      `-Dsequent.buildDir=${path.join(dir, "target")}`,
      "compile",
      "dependency:build-classpath",
      `-Dmdep.outputFile=${cpFile}`,
      "-Dmdep.includeScope=runtime",
    ])
    const cp = await readCachedClasspath(cpFile)
    if (!cp) throw new Error(`building KafkaBatches left no usable classpath in ${cpFile}`)
    await writeFile(path.join(dir, "ok"), new Date().toISOString() + "\n")
    return { classesDir, classpath: cp }
  })
}

/** The first of java and mvn that is not installed, if any (an environment limit, not a bug). */
export function missingJavaTool(): string | undefined {
  for (const tool of ["java", "mvn"]) {
    try {
      execFileSync(tool, ["-version"], { stdio: "ignore" })
    } catch {
      return tool
    }
  }
  return undefined
}

/** The kafka-clients version the pom pins. */
export async function kafkaClientsVersion(): Promise<string> {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(await readFile(POM, "utf8"))
  if (!m?.[1]) throw new Error(`${POM} has no <kafka.version>`)
  return m[1]
}

const bytesToken = (b: Uint8Array | null): string => (b === null ? "-" : "x" + Buffer.from(b).toString("hex"))

function tokenBytes(t: string): Uint8Array | null {
  if (t === "-") return null
  if (!t.startsWith("x")) throw new Error(`bad bytes token ${t}`)
  return new Uint8Array(Buffer.from(t.slice(1), "hex"))
}

function specLines(spec: JavaBatchSpec): string[] {
  const p = spec.producer
  const lines = [`BATCH ${spec.name} ${spec.codec} ${spec.baseOffset} ${p?.id ?? -1} ${p?.epoch ?? -1} ${p?.baseSequence ?? -1} ${p?.transactional ? 1 : 0}`]
  for (const r of spec.records) {
    const headers = r.headers.map((h) => `${bytesToken(new TextEncoder().encode(h.key))}=${bytesToken(h.value)}`)
    lines.push(["RECORD", r.timestamp, bytesToken(r.key), bytesToken(r.value), ...headers].join(" "))
  }
  lines.push("END")
  return lines
}

function parseOutput(stdout: string): JavaRun {
  const built = new Map<string, Uint8Array>()
  const records = new Map<string, JavaReadRecord[]>()
  const read: JavaRun["read"] = new Map()
  for (const line of stdout.split("\n")) {
    const f = line.split(" ")
    if (f[0] === "BATCH") built.set(f[1]!, new Uint8Array(Buffer.from(f[2]!, "hex")))
    else if (f[0] === "RECORD") {
      const headers = f.slice(6).map((kv) => {
        const [k, v] = kv.split("=") as [string, string]
        return { key: new TextDecoder().decode(tokenBytes(k)!), value: tokenBytes(v) }
      })
      const list = records.get(f[1]!) ?? []
      list.push({ offset: Number(f[2]), timestamp: Number(f[3]), key: tokenBytes(f[4]!), value: tokenBytes(f[5]!), headers })
      records.set(f[1]!, list)
    } else if (f[0] === "DECODED") read.set(f[1]!, { codec: f[2]!, records: records.get(f[1]!) ?? [] })
    else if (f[0] === "ERROR") read.set(f[1]!, { error: f.slice(2).join(" ") })
  }
  return { built, read }
}

/**
 * Runs KafkaBatches once: builds every spec with the Java client and reads every batch in
 * `toRead` with it. Rejects if the JVM fails (not for batches the Java client refuses: those
 * come back as errors in `read`).
 */
export async function runKafkaBatches(specs: readonly JavaBatchSpec[], toRead: ReadonlyMap<string, Uint8Array>, timeoutMs = 60_000): Promise<JavaRun> {
  const { classesDir, classpath } = await ensureKafkaBatches()
  const input = [...specs.flatMap(specLines), ...[...toRead].map(([name, b]) => `DECODE ${name} ${Buffer.from(b).toString("hex")}`)].join("\n") + "\n"
  const args = ["-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", [classesDir, classpath].join(path.delimiter), MAIN_CLASS]
  return new Promise((resolve, reject) => {
    const child = spawn("java", args, { stdio: ["pipe", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs)
    child.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`KafkaBatches exited with ${code ?? signal}:\n${stderr}`))
      else resolve(parseOutput(stdout))
    })
    child.stdin.end(input)
  })
}
