import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { cacheSchema } from '../src/http-cache/schema.js'
import { policies } from '../src/index.js'
import { cachePurgeSchema } from '../src/purge/schema.js'

interface OptionsTableModule {
  renderOptionsTable(schema: unknown): string
  injectOptionsTable(markdown: string, name: string, table: string): string
}
const generator = '@gw/core/config'
const { injectOptionsTable, renderOptionsTable } = (await import(generator)) as OptionsTableModule
const README = new URL('../README.md', import.meta.url)
const tables = { cache: cacheSchema, 'cache-purge': cachePurgeSchema }

describe('README', () => {
  it('options tables match the zod schemas (regenerate with UPDATE_README=1 npx vitest run test/readme.test.ts)', () => {
    const current = readFileSync(README, 'utf8')
    let expected = current
    for (const [name, schema] of Object.entries(tables))
      expected = injectOptionsTable(expected, name, renderOptionsTable(schema))
    if (process.env.UPDATE_README === '1') writeFileSync(README, expected)
    else expect(current).toBe(expected)
  })

  it('documents every policy the package exports', () => {
    const current = readFileSync(README, 'utf8')
    for (const policy of policies) expect(current).toContain(`## \`${policy.definition.name}\` policy`)
  })
})
