/**
 * Server-to-server transport: length-prefixed frames over TCP, one outgoing connection to each
 * peer (dialled and re-dialled by us) and any number of incoming ones (dialled by them).
 *
 * Why this is all it does: the consensus core tolerates loss, duplication and reordering, so the
 * transport never retries or acknowledges a frame. A frame sent while the link is down, or while
 * the socket's buffer is over `maxQueuedBytes`, is dropped and `send` says so. Reconnection uses
 * capped exponential backoff.
 *
 * Wire: every frame is `u32 length | payload`. The first frame a dialler sends is a hello:
 * `u32 MAGIC | u32 senderId`, so the acceptor knows whose frames follow.
 */
import net from "node:net"

const MAGIC = 0x53514e54 // "SQNT"
const HELLO_BYTES = 8

export interface PeerAddress {
  readonly id: number
  readonly host: string
  readonly port: number
}

export interface PeerTransportOptions {
  readonly id: number
  readonly host: string
  readonly port: number
  readonly peers: readonly PeerAddress[]
  readonly onFrame: (from: number, payload: Buffer) => void
  /** Frames above this size are refused (they would come from a broken or hostile peer). */
  readonly maxFrameBytes?: number
  readonly maxQueuedBytes?: number
  readonly log?: (line: string) => void
}

interface Outgoing {
  readonly peer: PeerAddress
  socket: net.Socket | undefined
  connected: boolean
  backoffMs: number
  timer: NodeJS.Timeout | undefined
  /** The socket is corked until the end of this tick (see `send`). */
  corked: boolean
}

function uncork(o: Outgoing, socket: net.Socket): void {
  o.corked = false
  socket.uncork()
}

export class PeerTransport {
  private readonly server: net.Server
  private readonly outgoing = new Map<number, Outgoing>()
  private readonly incoming = new Set<net.Socket>()
  private closed = false
  private readonly maxFrame: number
  private readonly maxQueued: number

  constructor(private readonly opts: PeerTransportOptions) {
    this.maxFrame = opts.maxFrameBytes ?? 512 * 1024 * 1024
    this.maxQueued = opts.maxQueuedBytes ?? 64 * 1024 * 1024
    this.server = net.createServer((s) => this.accept(s))
    for (const peer of opts.peers) {
      if (peer.id === opts.id) continue
      this.outgoing.set(peer.id, { peer, socket: undefined, connected: false, backoffMs: 50, timer: undefined, corked: false })
    }
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject)
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off("error", reject)
        resolve()
      })
    })
    for (const o of this.outgoing.values()) this.dial(o)
  }

  /** Queue one frame for `to`; false when it was dropped (link down or congested). */
  send(to: number, payload: Uint8Array): boolean {
    const o = this.outgoing.get(to)
    if (o === undefined || !o.connected || o.socket === undefined) return false
    const socket = o.socket
    if (socket.writableLength > this.maxQueued) return false
    // Frames sent in one turn of the event loop (a replica's drain sends all of its messages in
    // one go) leave in one writev per peer instead of two writes per frame.
    if (!o.corked) {
      o.corked = true
      socket.cork()
      process.nextTick(uncork, o, socket)
    }
    const header = Buffer.allocUnsafe(4)
    header.writeUInt32BE(payload.length, 0)
    socket.write(header)
    socket.write(payload)
    return true
  }

  isConnected(to: number): boolean {
    return this.outgoing.get(to)?.connected ?? false
  }

  async close(): Promise<void> {
    this.closed = true
    for (const o of this.outgoing.values()) {
      if (o.timer) clearTimeout(o.timer)
      o.socket?.destroy()
    }
    for (const s of this.incoming) s.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private dial(o: Outgoing): void {
    if (this.closed) return
    o.timer = undefined
    const socket = net.connect({ host: o.peer.host, port: o.peer.port })
    o.socket = socket
    socket.setNoDelay(true)
    socket.on("connect", () => {
      o.connected = true
      o.backoffMs = 50
      const hello = Buffer.allocUnsafe(4 + HELLO_BYTES)
      hello.writeUInt32BE(HELLO_BYTES, 0)
      hello.writeUInt32BE(MAGIC, 4)
      hello.writeUInt32BE(this.opts.id, 8)
      socket.write(hello)
    })
    // We never expect data on an outgoing link; drain it so a misbehaving peer cannot stall us.
    socket.on("data", () => {})
    socket.on("error", () => {})
    socket.on("close", () => {
      o.connected = false
      if (o.socket === socket) o.socket = undefined
      if (this.closed) return
      o.timer = setTimeout(() => this.dial(o), o.backoffMs)
      o.backoffMs = Math.min(o.backoffMs * 2, 1000)
    })
  }

  private accept(socket: net.Socket): void {
    if (this.closed) return void socket.destroy()
    this.incoming.add(socket)
    socket.setNoDelay(true)
    let from: number | undefined
    let buffered: Buffer[] = []
    let size = 0
    const fail = (why: string): void => {
      this.opts.log?.(`peer link from ${from ?? socket.remoteAddress}: ${why}; closing`)
      socket.destroy()
    }
    socket.on("data", (chunk: Buffer) => {
      buffered.push(chunk)
      size += chunk.length
      let buf = buffered.length === 1 ? buffered[0]! : Buffer.concat(buffered, size)
      let at = 0
      while (buf.length - at >= 4) {
        const len = buf.readUInt32BE(at)
        if (len > this.maxFrame) return fail(`frame of ${len} bytes is over the ${this.maxFrame}-byte limit`)
        if (buf.length - at - 4 < len) break
        const payload = buf.subarray(at + 4, at + 4 + len)
        at += 4 + len
        if (from === undefined) {
          if (len !== HELLO_BYTES || payload.readUInt32BE(0) !== MAGIC) return fail("bad hello")
          const id = payload.readUInt32BE(4)
          if (!this.opts.peers.some((p) => p.id === id) || id === this.opts.id) return fail(`unknown peer id ${id}`)
          from = id
          continue
        }
        this.opts.onFrame(from, payload)
        if (socket.destroyed) return
      }
      buf = buf.subarray(at)
      buffered = buf.length > 0 ? [buf] : []
      size = buf.length
    })
    socket.on("error", () => {})
    socket.on("close", () => this.incoming.delete(socket))
  }
}
