import { readFileSync, writeFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { concurrencyLimitSchema, limitSchema, rateLimitSchema } from '../src/index.js'
import { memoryStoreSchema, redisStoreSchema } from '../src/shared-schema.js'

interface OptionsTable {
  renderOptionsTable(schema: unknown): string
  injectOptionsTable(markdown: string, name: string, table: string): string
}

const README = new URL('../README.md', import.meta.url)
const OPTIONS_TABLE = '@gw/core/config'

describe('README options tables', () => {
  it('match the zod schemas (regenerate with UPDATE_README=1 npx vitest run test/readme.test.ts)', async () => {
    const { renderOptionsTable, injectOptionsTable } = (await import(OPTIONS_TABLE)) as OptionsTable
    const tables = {
      'rate-limit': rateLimitSchema,
      limit: limitSchema,
      'concurrency-limit': concurrencyLimitSchema,
      'store-memory': memoryStoreSchema,
      'store-redis': redisStoreSchema,
    }
    const current = readFileSync(README, 'utf8')
    let expected = current
    for (const [name, schema] of Object.entries(tables))
      expected = injectOptionsTable(expected, name, renderOptionsTable(schema))
    if (process.env.UPDATE_README === '1') writeFileSync(README, expected)
    else expect(current).toBe(expected)
    expect(expected).toContain('| `onStoreError` | `"open"` \\| `"closed"` | `"open"` |')
  })
})
