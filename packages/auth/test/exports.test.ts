import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as auth from '../src/index.js'

describe('package exports', () => {
  it('lists every policy in `policies` with a unique kebab-case name', () => {
    const names = auth.policies.map((p) => p.definition.name)
    expect(names).toEqual(['jwt', 'api-key', 'introspection', 'basic', 'authorize', 'any-of'])
  })

  it('declares a subpath export for each policy family', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, unknown>
    }
    for (const sub of ['jwt', 'api-key', 'basic', 'authorize', 'any-of', 'introspection', 'redis']) {
      expect(pkg.exports[`./${sub}`]).toEqual({
        types: `./dist/${sub}/index.d.ts`,
        import: `./dist/${sub}/index.js`,
      })
    }
  })
})
