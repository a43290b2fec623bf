import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'prometheus/index': 'src/prometheus/index.ts',
    'metrics/index': 'src/metrics/index.ts',
    'access-log/index': 'src/access-log/index.ts',
    'trace-context/index': 'src/trace-context/index.ts',
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['@gw/core', 'ioredis', '@opentelemetry/api'],
})
