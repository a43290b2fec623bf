import { defineConfig } from 'vitest/config'

/** Runs the test files that docs/test/code-samples.test.ts extracted from the pages into .samples/. */
export default defineConfig({
  test: {
    include: ['.samples/**/*.test.ts'],
    testTimeout: 30_000,
  },
})
