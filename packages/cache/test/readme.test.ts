import { readFileSync } from 'node:fs'
import { expectOptionsTables } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { cacheSchema } from '../src/http-cache/schema.js'
import { policies } from '../src/index.js'
import { cachePurgeSchema } from '../src/purge/schema.js'

const README = new URL('../README.md', import.meta.url)
const tables = { cache: cacheSchema, 'cache-purge': cachePurgeSchema }

describe('README', () => {
  it('options tables match the zod schemas (regenerate with UPDATE_README=1 npx vitest run test/readme.test.ts)', () => {
    expectOptionsTables(README, tables)
  })

  it('documents every policy the package exports', () => {
    const current = readFileSync(README, 'utf8')
    for (const policy of policies) expect(current).toContain(`## \`${policy.definition.name}\` policy`)
  })
})
