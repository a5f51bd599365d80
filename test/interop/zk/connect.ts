/**
 * Bare node-zookeeper-client helpers for tests that drive a real ensemble directly (leader kill,
 * log purge): connect and wait for the session, and promisify one call.
 */
import zookeeper from "node-zookeeper-client"

export type Client = ReturnType<typeof zookeeper.createClient>

/** Connects with no client-side retries (a test sees every connection loss) and waits for the session. */
export function connect(connectString: string, timeoutMs = 15_000): Promise<Client> {
  const c = zookeeper.createClient(connectString, { sessionTimeout: 10_000, spinDelay: 100, retries: 0 })
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no connection to ${connectString}`)), timeoutMs)
    c.once("connected", () => {
      clearTimeout(t)
      resolve(c)
    })
    c.connect()
  })
}

export const call = <T>(f: (cb: (e: unknown, r: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => f((e, r) => (e ? reject(e) : resolve(r))))
