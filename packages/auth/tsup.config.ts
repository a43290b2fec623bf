import { defineConfig } from 'tsup'

const families = ['jwt', 'api-key', 'basic', 'authorize', 'any-of', 'introspection', 'redis']

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    cli: 'src/cli.ts',
    ...Object.fromEntries(families.map((name) => [`${name}/index`, `src/${name}/index.ts`])),
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  external: ['@gw/core', 'ioredis'],
})
