/**
 * Assertions stay on in production: a violated assumption in a consensus core must stop the
 * node loudly rather than let it keep acknowledging on corrupt state (TigerBeetle's rule).
 */
export class AssertionError extends Error {
  override readonly name = "AssertionError"
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message)
}
