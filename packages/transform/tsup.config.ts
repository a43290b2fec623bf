import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'headers/index': 'src/headers/index.ts',
    'rewrite/index': 'src/rewrite/index.ts',
    'json-body/index': 'src/json-body/index.ts',
    'compress/index': 'src/compress/index.ts',
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['@gw/core', 'ioredis'],
})
