import { expectOptionsTables } from '@gw/core/testing'
import { describe, it } from 'vitest'
import {
  anyOfSchema,
  apiKeySchema,
  authorizeSchema,
  basicSchema,
  introspectionSchema,
  jwtSchema,
} from '../src/index.js'

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
  it('match the zod schemas (regenerate with pnpm --filter @gw/auth docs)', () => {
    expectOptionsTables(README, tables)
  })
})
