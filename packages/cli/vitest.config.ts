import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Tests spawn the CLI (several node processes each): on a busy machine a spawn alone can take seconds.
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
