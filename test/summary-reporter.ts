/**
 * Prints one closing line, `Tests: N passed, N failed, N skipped`, that CI systems read
 * regardless of the test runner.
 */
import type { Reporter, TestModule } from "vitest/node"

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    let passed = 0
    let failed = 0
    let skipped = 0
    for (const m of modules) {
      for (const t of m.children.allTests()) {
        const state = t.result().state
        if (state === "passed") passed++
        else if (state === "failed") failed++
        else skipped++
      }
      if (m.state() === "failed" && [...m.children.allTests()].length === 0) failed++ // a file that failed to load
      // A suite whose hook (beforeAll, say) failed leaves its tests "skipped": count the suite.
      for (const s of m.children.allSuites()) {
        if (s.state() === "failed" && [...s.children.allTests()].every((t) => t.result().state !== "failed")) failed++
      }
    }
    console.log(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped`)
  }
}
