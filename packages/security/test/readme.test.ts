import { readFileSync, writeFileSync } from 'node:fs'
import type { z } from '@gw/core'
import { describe, expect, it } from 'vitest'
import { policies, securityErrors } from '../src/index.js'

interface OptionsTable {
  renderOptionsTable(schema: z.ZodType): string
  injectOptionsTable(markdown: string, name: string, table: string): string
}

// The generator is exported by @gw/core/config.
const generator = '@gw/core/config'
const README = new URL('../README.md', import.meta.url)

describe('README', () => {
  it('options tables match the zod schemas (regenerate with UPDATE_README=1 pnpm vitest run test/readme.test.ts)', async () => {
    const { renderOptionsTable, injectOptionsTable } = (await import(generator)) as OptionsTable
    const current = readFileSync(README, 'utf8')
    let expected = current
    for (const policy of policies)
      expected = injectOptionsTable(
        expected,
        policy.definition.name,
        renderOptionsTable(policy.definition.schema),
      )
    if (process.env.UPDATE_README === '1') writeFileSync(README, expected)
    else expect(current).toBe(expected)
  })

  it('documents every policy and every error code', () => {
    const text = readFileSync(README, 'utf8')
    for (const policy of policies) expect(text).toContain(`## ${policy.definition.name}`)
    for (const spec of Object.values(securityErrors)) expect(text).toContain(`\`${spec.code}\``)
  })
})
