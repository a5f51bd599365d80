import { mkdir, rm, stat } from "node:fs/promises"
import path from "node:path"

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/**
 * Cross-process mutex: `mkdir` is atomic, so exactly one caller creates the lock directory.
 * Vitest runs test files in parallel workers; two `mvn` runs writing the same files could tear
 * them. A lock older than `staleMs` is taken to be left by a killed process.
 */
export async function withDirLock<T>(lock: string, staleMs: number, fn: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(lock), { recursive: true })
  for (;;) {
    try {
      await mkdir(lock)
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e
      const st = await stat(lock).catch(() => undefined)
      if (st && Date.now() - st.mtimeMs > staleMs) await rm(lock, { recursive: true, force: true })
      else await sleep(250)
    }
  }
  try {
    return await fn()
  } finally {
    await rm(lock, { recursive: true, force: true })
  }
}
