import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Simulation sweeps and TLC runs are CPU-bound; two workers match the CI machine.
    maxWorkers: 2,
    testTimeout: 120_000,
    reporters: ["default", "./test/summary-reporter.ts"],
  },
})
