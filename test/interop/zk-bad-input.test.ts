/**
 * Hostile and broken clients against a real Sequent node over TCP. Each bad input must get
 * ZooKeeper's answer — an error code on the reply, or a closed connection — and the node must
 * keep serving everyone else with its data intact.
 */
import net from "node:net"
import fc from "fast-check"
import { afterAll, beforeAll, describe, expect, test } from "vitest"
import {
  FrameDecoder,
  Op,
  decodeConnectResponse,
  decodeReply,
  encodeConnectRequest,
  encodeRequest,
} from "../../adapters/tcp/zookeeper/protocol.ts"
import { fourLetterWord } from "../support/net.ts"
import { startSequentEnsemble, type SequentEnsemble } from "./zk/sequent.ts"

const MAX_BUFFER = 64 * 1024
let ens: SequentEnsemble
beforeAll(async () => {
  ens = await startSequentEnsemble({ voters: 1, maxBuffer: MAX_BUFFER })
}, 60_000)
afterAll(async () => ens?.stop())

/** A raw connection: send bytes, read frames, learn whether the server closed it. */
class Raw {
  readonly socket: net.Socket
  private readonly decoder = new FrameDecoder(16 * 1024 * 1024)
  private readonly frames: Uint8Array[] = []
  private waiters: Array<() => void> = []
  closed = false

  constructor(server: string) {
    const [host, port] = server.split(":")
    this.socket = net.connect({ host: host!, port: Number(port) })
    this.socket.on("data", (c) => {
      this.frames.push(...this.decoder.push(c))
      this.wake()
    })
    this.socket.on("close", () => {
      this.closed = true
      this.wake()
    })
    this.socket.on("error", () => {})
  }
  private wake(): void {
    const w = this.waiters
    this.waiters = []
    for (const f of w) f()
  }
  send(bytes: Uint8Array): void {
    this.socket.write(bytes)
  }
  /** The next frame, or undefined when the server closed the connection first. */
  async next(timeoutMs = 5000): Promise<Uint8Array | undefined> {
    const deadline = Date.now() + timeoutMs
    while (this.frames.length === 0 && !this.closed) {
      if (Date.now() > deadline) throw new Error("no reply and no close")
      await new Promise<void>((r) => {
        this.waiters.push(r)
        setTimeout(r, 50)
      })
    }
    return this.frames.shift()
  }
  async closedByServer(timeoutMs = 5000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
    return this.closed
  }
  async handshake(): Promise<bigint> {
    this.send(encodeConnectRequest({ protocolVersion: 0, lastZxidSeen: 0n, timeOut: 10_000, sessionId: 0n, passwd: new Uint8Array(16), readOnly: false }))
    const body = await this.next()
    if (body === undefined) throw new Error("server closed the connection during the handshake")
    return decodeConnectResponse(body).sessionId
  }
  end(): void {
    this.socket.destroy()
  }
}

const frameOf = (len: number, body: Uint8Array = new Uint8Array(0)): Uint8Array => {
  const b = Buffer.alloc(4 + body.length)
  b.writeInt32BE(len, 0)
  b.set(body, 4)
  return b
}

async function assertHealthy(): Promise<void> {
  const raw = new Raw(ens.servers[0]!)
  const session = await raw.handshake()
  expect(session).not.toBe(0n)
  raw.send(encodeRequest(1, Op.exists, { path: "/precious", watch: false }))
  const { header } = decodeReply((await raw.next())!)
  expect(header.err).toBe(0)
  raw.end()
  const [host, port] = ens.servers[0]!.split(":")
  expect(await fourLetterWord(host!, Number(port), "ruok")).toBe("imok")
}

describe("bad input never crashes the server", () => {
  test("setup: a node to protect", async () => {
    const raw = new Raw(ens.servers[0]!)
    await raw.handshake()
    raw.send(encodeRequest(1, Op.create, { path: "/precious", data: new Uint8Array([1, 2, 3]), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0 }))
    expect(decodeReply((await raw.next())!).header.err).toBe(0)
    raw.end()
  })

  test("a frame longer than jute.maxbuffer closes the connection", async () => {
    const raw = new Raw(ens.servers[0]!)
    raw.send(frameOf(MAX_BUFFER + 1))
    expect(await raw.closedByServer()).toBe(true)
    await assertHealthy()
  })

  test("a negative frame length closes the connection", async () => {
    const raw = new Raw(ens.servers[0]!)
    raw.send(frameOf(-5))
    expect(await raw.closedByServer()).toBe(true)
    await assertHealthy()
  })

  test("a connect request that does not decode closes the connection", async () => {
    const raw = new Raw(ens.servers[0]!)
    raw.send(frameOf(3, new Uint8Array([0, 0, 0])))
    expect(await raw.closedByServer()).toBe(true)
    await assertHealthy()
  })

  test("an oversized create (data over jute.maxbuffer) is refused and nothing is created", async () => {
    const raw = new Raw(ens.servers[0]!)
    await raw.handshake()
    raw.send(encodeRequest(1, Op.create, { path: "/huge", data: new Uint8Array(MAX_BUFFER + 10), acl: [{ perms: 31, id: { scheme: "world", id: "anyone" } }], flags: 0 }))
    expect(await raw.next()).toBeUndefined()
    expect(raw.closed).toBe(true)
    const check = new Raw(ens.servers[0]!)
    await check.handshake()
    check.send(encodeRequest(1, Op.exists, { path: "/huge", watch: false }))
    expect(decodeReply((await check.next())!).header.err).toBe(-101)
    check.end()
  })

  test("an unknown opcode gets UNIMPLEMENTED and the session goes on", async () => {
    const raw = new Raw(ens.servers[0]!)
    await raw.handshake()
    const unknown = Buffer.alloc(8)
    unknown.writeInt32BE(7, 0)
    unknown.writeInt32BE(999, 4)
    raw.send(frameOf(8, unknown))
    const r = decodeReply((await raw.next())!)
    expect(r.header.xid).toBe(7)
    expect(r.header.err).toBe(-6)
    raw.send(encodeRequest(8, Op.exists, { path: "/precious", watch: false }))
    const ok = decodeReply((await raw.next())!)
    expect([ok.header.xid, ok.header.err]).toEqual([8, 0])
    raw.end()
  })

  test("a request body that does not decode gets MARSHALLINGERROR, in order", async () => {
    const raw = new Raw(ens.servers[0]!)
    await raw.handshake()
    // getData whose path claims 1000 bytes but carries 2
    const body = Buffer.alloc(8 + 4 + 2)
    body.writeInt32BE(5, 0)
    body.writeInt32BE(Op.getData, 4)
    body.writeInt32BE(1000, 8)
    raw.send(frameOf(body.length, body))
    const r = decodeReply((await raw.next())!)
    expect([r.header.xid, r.header.err]).toEqual([5, -5])
    raw.end()
  })

  test("a frame cut off mid-way and a vanished client leave no trace", async () => {
    const raw = new Raw(ens.servers[0]!)
    await raw.handshake()
    raw.send(frameOf(100, new Uint8Array(10)))
    raw.end()
    await assertHealthy()
  })

  test("random bytes after a handshake: answered or closed, never a crash", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 0, maxLength: 64 }), { minLength: 1, maxLength: 5 }), async (bodies) => {
        const raw = new Raw(ens.servers[0]!)
        await raw.handshake()
        for (const b of bodies) raw.send(frameOf(b.length, b))
        // Whatever happens, it happens quickly: replies or a close.
        await new Promise((r) => setTimeout(r, 20))
        raw.end()
      }),
      { numRuns: 60, seed: 42 },
    )
    await assertHealthy()
    const raw = new Raw(ens.servers[0]!)
    await raw.handshake()
    raw.send(encodeRequest(1, Op.getData, { path: "/precious", watch: false }))
    const r = decodeReply((await raw.next())!, "GetDataResponse")
    expect(r.header.err).toBe(0)
    expect([...r.response!.data!]).toEqual([1, 2, 3])
    raw.end()
  }, 60_000)
})
