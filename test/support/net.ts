/** Loopback helpers shared by tests and benchmarks that start real servers. */
import net from "node:net"

/** `n` distinct free TCP ports on 127.0.0.1 (held open together so they are distinct). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = []
  try {
    for (let i = 0; i < n; i++) {
      const s = net.createServer()
      servers.push(s)
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject)
        s.listen(0, "127.0.0.1", () => resolve())
      })
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port)
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
