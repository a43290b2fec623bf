import { readFileSync, writeFileSync } from 'node:fs'
import type { z } from '@gw/core'
import { describe, expect, it } from 'vitest'
import {
  anyOfSchema,
  apiKeySchema,
  authorizeSchema,
  basicSchema,
  introspectionSchema,
  jwtSchema,
} from '../src/index.js'

interface OptionsTableModule {
  renderOptionsTable(schema: z.core.$ZodType): string
  injectOptionsTable(markdown: string, name: string, table: string): string
}

const README = new URL('../README.md', import.meta.url)
const tables = {
  jwt: jwtSchema,
  'api-key': apiKeySchema,
  introspection: introspectionSchema,
  basic: basicSchema,
  authorize: authorizeSchema,
  'any-of': anyOfSchema,
}

describe('README options tables', () => {
  it('match the zod schemas (regenerate with pnpm --filter @gw/auth docs)', async () => {
    const generator = '@gw/core/config'
    const { renderOptionsTable, injectOptionsTable } = (await import(generator)) as OptionsTableModule
    const current = readFileSync(README, 'utf8')
    let expected = current
    for (const [name, schema] of Object.entries(tables)) {
      expect(current).toContain(`<!-- options:${name} -->`)
      expected = injectOptionsTable(expected, name, renderOptionsTable(schema))
    }
    if (process.env.UPDATE_README === '1') writeFileSync(README, expected)
    else expect(current).toBe(expected)
  })
})
