import { expectOptionsTables } from '@gw/core/testing'
import { describe, it } from 'vitest'
import { compressSchema, headersSchema, jsonBodySchema, rewriteSchema } from '../src/index.js'

const README = new URL('../README.md', import.meta.url)
const tables = {
  headers: headersSchema,
  rewrite: rewriteSchema,
  'json-body': jsonBodySchema,
  compress: compressSchema,
}

describe('README options tables', () => {
  it('match the zod schemas (regenerate with pnpm --filter @gw/transform docs)', () => {
    expectOptionsTables(README, tables)
  })
})
