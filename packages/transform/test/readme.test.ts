import { readFileSync, writeFileSync } from 'node:fs'
import type { z } from '@gw/core'
import { describe, expect, it } from 'vitest'
import { compressSchema, headersSchema, jsonBodySchema, rewriteSchema } from '../src/index.js'

interface OptionsTable {
  renderOptionsTable(schema: z.ZodType): string
  injectOptionsTable(markdown: string, name: string, table: string): string
}

// The generator is exported by @gw/core/config.
const generator = '@gw/core/config'
const README = new URL('../README.md', import.meta.url)
const tables = {
  headers: headersSchema,
  rewrite: rewriteSchema,
  'json-body': jsonBodySchema,
  compress: compressSchema,
}

describe('README options tables', () => {
  it('match the zod schemas (regenerate with pnpm --filter @gw/transform docs)', async () => {
    const { renderOptionsTable, injectOptionsTable } = (await import(generator)) as OptionsTable
    const current = readFileSync(README, 'utf8')
    let expected = current
    for (const [name, schema] of Object.entries(tables))
      expected = injectOptionsTable(expected, name, renderOptionsTable(schema))
    if (process.env.UPDATE_README === '1') writeFileSync(README, expected)
    else expect(current).toBe(expected)
  })
})
