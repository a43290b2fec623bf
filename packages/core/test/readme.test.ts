import { describe, expect, it } from 'vitest'
import { adminSchema } from '../src/admin/schema.js'
import { renderOptionsTable } from '../src/config/options-table.js'
import { routeBaseSchema } from '../src/router/schema.js'
import { serverSchema } from '../src/server/schema.js'
import { expectOptionsTables } from '../src/testing/readme.js'
import { upstreamSchema } from '../src/upstream/schema.js'

const README = new URL('../README.md', import.meta.url)
const tables = { server: serverSchema, upstream: upstreamSchema, route: routeBaseSchema, admin: adminSchema }

describe('README options tables', () => {
  it('match the zod schemas (regenerate with UPDATE_README=1 pnpm --filter @gw/core test)', () => {
    expectOptionsTables(README, tables)
  })

  it('renders defaults, requiredness and nested objects', () => {
    const table = renderOptionsTable(upstreamSchema)
    expect(table).toContain('| `url` | string |')
    expect(table).toContain('| `targets` | object[] |')
    expect(table).toContain('| `timeouts.connect` | number \\| string | `5000` |')
    expect(table).toContain('| `pool.connections` | number | `128` |')
  })
})
