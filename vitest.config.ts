import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Once per run, the Redis and PostgreSQL servers that the tests share (or REDIS_URL, DATABASE_URL).
    globalSetup: ['test/global-setup.ts'],
    // argon2 hashing and real-port end-to-end tests take longer than unit tests
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // In CI, also a JSON report from which .ci/run prints its one-line summary (one per
    // Node version: scripts/test-node-versions.sh names each).
    reporters: process.env.CI ? ['default', ['json', { outputFile: process.env.CI_RESULTS_FILE ?? '.ci/results.json' }]] : ['default']
  }
})
