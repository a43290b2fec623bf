import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts', 'src/redis/index.ts', 'src/testing.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['@gw/core', '@gw/core/testing', 'ioredis', 'vitest'],
})
