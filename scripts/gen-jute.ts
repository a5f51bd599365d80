/**
 * `npx tsx scripts/gen-jute.ts` regenerates adapters/tcp/zookeeper/records.generated.ts from
 * ZooKeeper's jute IDL (`../shared/reference/zookeeper/zookeeper.jute`, relative to the repo root;
 * Apache ZooKeeper 3.9, Apache License 2.0). The IDL itself is reference material and is not
 * committed; the generated TypeScript is.
 *
 * For each class of the modules in MODULES it emits a field table (name + jute type, in wire
 * order) and a TypeScript interface. `--check` exits 1 when the committed file is stale.
 *
 * Jute types and their TypeScript shapes: int -> number, long -> bigint (every long, so session
 * ids and zxids never lose precision), boolean -> boolean, buffer -> Uint8Array | null,
 * ustring -> string | null, vector<T> -> T[] | null, a record -> its interface (never null).
 * byte, float, double and map are not used by these modules and make the generator fail loudly.
 */
import { readFileSync, writeFileSync } from "node:fs"
import path from "node:path"
import { pathToFileURL } from "node:url"

export const MODULES = ["org.apache.zookeeper.data", "org.apache.zookeeper.proto", "org.apache.zookeeper.txn"] as const

type Primitive = "int" | "long" | "boolean" | "buffer" | "ustring"
type FieldType = Primitive | { vector: FieldType } | { record: string }

interface JuteClass {
  module: string
  name: string
  fields: Array<{ name: string; type: FieldType }>
}

const PRIMITIVES = new Set<string>(["int", "long", "boolean", "buffer", "ustring"])
const UNSUPPORTED = new Set<string>(["byte", "float", "double", "map"])

function tokenize(src: string): string[] {
  const noComments = src.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/\/\/[^\n]*/g, " ")
  const tokens = noComments.match(/[A-Za-z_][A-Za-z0-9_.]*|[{}<>;,]|\S/g) ?? []
  for (const t of tokens) if (!/^[A-Za-z_]/.test(t) && !"{}<>;,".includes(t)) throw new Error(`jute: unexpected character ${JSON.stringify(t)}`)
  return tokens
}

/** Parses the IDL into classes; record references are resolved to simple class names. */
export function parseJute(src: string): JuteClass[] {
  const tokens = tokenize(src)
  let i = 0
  const peek = (): string | undefined => tokens[i]
  const next = (): string => {
    const t = tokens[i++]
    if (t === undefined) throw new Error("jute: unexpected end of input")
    return t
  }
  const expect = (want: string): void => {
    const t = next()
    if (t !== want) throw new Error(`jute: expected ${JSON.stringify(want)}, got ${JSON.stringify(t)} (token ${i - 1})`)
  }
  const classes: JuteClass[] = []
  const refs: Array<{ cls: JuteClass; qualified: string }> = []

  const parseType = (module: string, cls: JuteClass): FieldType => {
    const t = next()
    if (PRIMITIVES.has(t)) return t as Primitive
    if (UNSUPPORTED.has(t)) throw new Error(`jute: type ${t} (in ${module}.${cls.name}) is not supported by the generator`)
    if (t === "vector") {
      expect("<")
      const inner = parseType(module, cls)
      expect(">")
      return { vector: inner }
    }
    if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(t)) throw new Error(`jute: bad type ${JSON.stringify(t)}`)
    const qualified = t.includes(".") ? t : `${module}.${t}`
    refs.push({ cls, qualified })
    return { record: qualified }
  }

  while (peek() !== undefined) {
    expect("module")
    const module = next()
    expect("{")
    while (peek() !== "}") {
      expect("class")
      const cls: JuteClass = { module, name: next(), fields: [] }
      expect("{")
      while (peek() !== "}") {
        const type = parseType(module, cls)
        const name = next()
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`jute: bad field name ${JSON.stringify(name)}`)
        expect(";")
        cls.fields.push({ name, type })
      }
      expect("}")
      classes.push(cls)
    }
    expect("}")
  }

  const byQualified = new Map(classes.map((c) => [`${c.module}.${c.name}`, c]))
  for (const r of refs) if (!byQualified.has(r.qualified)) throw new Error(`jute: ${r.cls.module}.${r.cls.name} refers to unknown record ${r.qualified}`)
  const simplify = (t: FieldType): FieldType =>
    typeof t === "string" ? t : "vector" in t ? { vector: simplify(t.vector) } : { record: byQualified.get(t.record)!.name }
  return classes.map((c) => ({ ...c, fields: c.fields.map((f) => ({ name: f.name, type: simplify(f.type) })) }))
}

function tsType(t: FieldType): string {
  if (typeof t === "string") {
    switch (t) {
      case "int":
        return "number"
      case "long":
        return "bigint"
      case "boolean":
        return "boolean"
      case "buffer":
        return "Uint8Array | null"
      case "ustring":
        return "string | null"
    }
  }
  if ("vector" in t) {
    const inner = tsType(t.vector)
    return `${inner.includes("|") ? `(${inner})` : inner}[] | null`
  }
  return t.record
}

function specLiteral(t: FieldType): string {
  if (typeof t === "string") return JSON.stringify(t)
  if ("vector" in t) return `{ vector: ${specLiteral(t.vector)} }`
  return `{ record: ${JSON.stringify(t.record)} }`
}

function juteName(t: FieldType): string {
  if (typeof t === "string") return t
  if ("vector" in t) return `vector<${juteName(t.vector)}>`
  return t.record
}

/** The generated module's text, for the classes of MODULES in `src`. */
export function generate(src: string, sourceLabel: string): string {
  const all = parseJute(src)
  const wanted = new Set<string>(MODULES)
  const classes = all.filter((c) => wanted.has(c.module))
  const names = new Set<string>()
  for (const c of classes) {
    if (names.has(c.name)) throw new Error(`jute: class name ${c.name} appears twice; the generator keys records by simple name`)
    names.add(c.name)
  }
  const check = (t: FieldType, owner: string): void => {
    if (typeof t === "string") return
    if ("vector" in t) return check(t.vector, owner)
    if (!names.has(t.record)) throw new Error(`jute: ${owner} refers to ${t.record}, which is outside the generated modules`)
  }
  for (const c of classes) for (const f of c.fields) check(f.type, c.name)

  const out: string[] = []
  out.push(
    "/**",
    ` * GENERATED by scripts/gen-jute.ts from ${sourceLabel}`,
    " * (Apache ZooKeeper 3.9 jute IDL, Apache License 2.0). Do not edit by hand: change the generator",
    " * and run `npx tsx scripts/gen-jute.ts`.",
    " *",
    ` * Modules: ${MODULES.join(", ")}.`,
    " * Every record has a field table in RECORDS (wire order) and an interface of the same name.",
    " * jute long -> bigint everywhere; buffer, ustring and vector fields may be null.",
    " */",
    "",
    "export type RecordName =",
    ...classes.map((c) => `  | ${JSON.stringify(c.name)}`),
    "",
    "export type JutePrimitive = \"int\" | \"long\" | \"boolean\" | \"buffer\" | \"ustring\"",
    "export type JuteType = JutePrimitive | { readonly vector: JuteType } | { readonly record: RecordName }",
    "",
    "export interface FieldSpec {",
    "  readonly name: string",
    "  readonly type: JuteType",
    "}",
    "",
    "export interface RecordSpec {",
    "  readonly module: string",
    "  readonly fields: readonly FieldSpec[]",
    "}",
    "",
    "export const RECORDS: { readonly [N in RecordName]: RecordSpec } = {",
  )
  for (const c of classes) {
    out.push(`  ${c.name}: {`, `    module: ${JSON.stringify(c.module)},`, "    fields: [")
    for (const f of c.fields) out.push(`      { name: ${JSON.stringify(f.name)}, type: ${specLiteral(f.type)} },`)
    out.push("    ],", "  },")
  }
  out.push("}", "")
  for (const c of classes) {
    out.push(`/** ${c.module}.${c.name} */`, `export interface ${c.name} {`)
    for (const f of c.fields) out.push(`  /** jute ${juteName(f.type)} */`, `  ${f.name}: ${tsType(f.type)}`)
    out.push("}", "")
  }
  out.push("/** Record name -> its TypeScript shape (as decoded). */", "export interface RecordTypes {")
  for (const c of classes) out.push(`  ${c.name}: ${c.name}`)
  out.push("}", "")
  return out.join("\n")
}

export const REPO_ROOT = path.resolve(import.meta.dirname, "..")
export const JUTE_SOURCE = "../shared/reference/zookeeper/zookeeper.jute"
export const GENERATED_FILE = "adapters/tcp/zookeeper/records.generated.ts"

function main(): void {
  const src = readFileSync(path.resolve(REPO_ROOT, JUTE_SOURCE), "utf8")
  const text = generate(src, JUTE_SOURCE)
  const target = path.resolve(REPO_ROOT, GENERATED_FILE)
  if (process.argv.includes("--check")) {
    let current = ""
    try {
      current = readFileSync(target, "utf8")
    } catch {
      // missing counts as stale
    }
    if (current !== text) {
      console.error(`${GENERATED_FILE} is stale: run npx tsx scripts/gen-jute.ts`)
      process.exit(1)
    }
    console.log(`${GENERATED_FILE} is up to date`)
    return
  }
  writeFileSync(target, text)
  console.log(`wrote ${GENERATED_FILE}`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main()
