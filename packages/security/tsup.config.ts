import { defineConfig } from 'tsup'

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'security-headers/index': 'src/security-headers/index.ts',
    'cors/index': 'src/cors/index.ts',
    'request-validation/index': 'src/request-validation/index.ts',
    'ip-filter/index': 'src/ip-filter/index.ts',
    'attack-filter/index': 'src/attack-filter/index.ts',
    'bot-filter/index': 'src/bot-filter/index.ts',
    'openapi-validation/index': 'src/openapi-validation/index.ts',
    // Internal (not in package.json "exports"): built so bench/libinjection.mjs can load it.
    'libinjection/index': 'src/libinjection/index.ts',
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['@gw/core', 'ioredis', 'ajv'],
})
