/** Loopback helpers shared by tests and benchmarks that start real servers. */
import net from "node:net"

/**
 * `n` distinct free TCP ports on 127.0.0.1, drawn at random below the kernel's ephemeral range
 * (32768 and up on Linux). A port the kernel handed out with `listen(0)` could be handed out again,
 * to any outgoing connection, between our check and the server's bind; these never are, and the
 * random draw keeps concurrent test files apart. Each is checked by binding it, all held open
 * together so they are distinct.
 */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = []
  const ports: number[] = []
  try {
    for (let attempt = 0; ports.length < n; attempt++) {
      if (attempt > 50 * n) throw new Error(`could not find ${n} free ports`)
      const port = 20_000 + Math.floor(Math.random() * 12_000)
      if (ports.includes(port)) continue
      const s = net.createServer()
      const ok = await new Promise<boolean>((resolve) => {
        s.once("error", () => resolve(false))
        s.listen(port, "127.0.0.1", () => resolve(true))
      })
      if (!ok) continue
      servers.push(s)
      ports.push(port)
    }
    return ports
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
  }
}

/** Sends a four-letter-word command (Apache ZooKeeper needs `4lw.commands.whitelist`) and returns the reply. */
export function fourLetterWord(host: string, port: number, cmd: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port }, () => sock.end(cmd))
    const chunks: Buffer[] = []
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new Error(`${cmd} to ${host}:${port} timed out`))
    }, timeoutMs)
    sock.on("data", (d) => chunks.push(d))
    sock.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
    sock.on("close", () => {
      clearTimeout(timer)
      resolve(Buffer.concat(chunks).toString("utf8"))
    })
  })
}
