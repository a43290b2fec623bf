import { expectOptionsTables } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { concurrencyLimitSchema, limitSchema, rateLimitSchema } from '../src/index.js'
import { memoryStoreSchema, redisStoreSchema } from '../src/shared-schema.js'

const README = new URL('../README.md', import.meta.url)
const tables = {
  'rate-limit': rateLimitSchema,
  limit: limitSchema,
  'concurrency-limit': concurrencyLimitSchema,
  'store-memory': memoryStoreSchema,
  'store-redis': redisStoreSchema,
}

describe('README options tables', () => {
  it('match the zod schemas (regenerate with UPDATE_README=1 npx vitest run test/readme.test.ts)', () => {
    const expected = expectOptionsTables(README, tables)
    expect(expected).toContain('| `onStoreError` | `"open"` \\| `"closed"` | `"open"` |')
  })
})
