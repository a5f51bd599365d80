/**
 * The Java client (kafka-clients, the version test/log/java/pom.xml pins, built from Maven
 * Central in the test run) reads cluster metadata through the Kafka endpoint: its ApiVersions v4
 * and Metadata v12 are flexible versions, so this checks the codec's compact types and tagged
 * fields against Kafka's own implementation. Skipped only when java or mvn is missing.
 *
 * As in server.test.ts, the Metadata handler is a test double: this tests the wire layer.
 */
import { spawn } from "node:child_process"
import path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { startKafkaServer, type KafkaServer } from "../../adapters/tcp/kafka/server.ts"
import { ensureKafkaBatches, missingJavaTool } from "../log/java-batches.ts"

const javaMissing = missingJavaTool()
if (javaMissing) console.warn(`[kafka-wire java-client] skipped: ${javaMissing} is not installed`)

let server: KafkaServer
const metadataVersions: number[] = []

beforeAll(async () => {
  server = await startKafkaServer({
    versions: new Map([[3, { min: 0, max: 12 }]]),
    handler: ({ header }) => {
      metadataVersions.push(header.apiVersion)
      return { throttleTimeMs: 0, brokers: [{ nodeId: 7, host: "127.0.0.1", port: server.port, rack: null }], clusterId: "java-wire", controllerId: 7, topics: [] }
    },
  })
})
afterAll(() => server.close())

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args)
    let stdout = ""
    let stderr = ""
    p.stdout.on("data", (d) => (stdout += d))
    p.stderr.on("data", (d) => (stderr += d))
    p.on("error", reject)
    p.on("exit", (code) => resolve({ code, stdout, stderr }))
  })
}

describe.skipIf(javaMissing !== undefined)("Java client through the Kafka endpoint", () => {
  it("describeCluster: ApiVersions v4 and Metadata v12 (flexible) understood by kafka-clients", async () => {
    const { classesDir, classpath } = await ensureKafkaBatches()
    const r = await run("java", ["-cp", [classesDir, classpath].join(path.delimiter), "sequent.WireProbe", `127.0.0.1:${server.port}`])
    expect(r.code, r.stderr + r.stdout).toBe(0)
    expect(r.stdout.trim().split("\n")).toEqual(["CLUSTER java-wire", "CONTROLLER 7", `NODE 7 127.0.0.1 ${server.port}`])
    expect(Math.max(...metadataVersions)).toBe(12)
  }, 600_000)
})
