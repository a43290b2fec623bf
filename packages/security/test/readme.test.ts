import { readFileSync } from 'node:fs'
import { expectOptionsTables } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { policies, securityErrors } from '../src/index.js'

const README = new URL('../README.md', import.meta.url)

describe('README', () => {
  it('options tables match the zod schemas (regenerate with UPDATE_README=1 pnpm vitest run test/readme.test.ts)', () => {
    expectOptionsTables(
      README,
      Object.fromEntries(policies.map((policy) => [policy.definition.name, policy.definition.schema])),
    )
  })

  it('documents every policy and every error code', () => {
    const text = readFileSync(README, 'utf8')
    for (const policy of policies) expect(text).toContain(`## ${policy.definition.name}`)
    for (const spec of Object.values(securityErrors)) expect(text).toContain(`\`${spec.code}\``)
  })
})
