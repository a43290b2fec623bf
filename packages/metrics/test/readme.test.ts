import { readFileSync } from 'node:fs'
import { expectOptionsTables } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import {
  accessLogSchema,
  metricsErrors,
  metricsSchema,
  prometheusTelemetrySchema,
  traceContextSchema,
} from '../src/index.js'

const README = new URL('../README.md', import.meta.url)
const tables = {
  telemetry: prometheusTelemetrySchema,
  metrics: metricsSchema,
  'access-log': accessLogSchema,
  'trace-context': traceContextSchema,
}

describe('README', () => {
  it('options tables match the zod schemas (regenerate with UPDATE_README=1 pnpm --filter @gw/metrics test)', () => {
    expectOptionsTables(README, tables)
  })

  it('lists every error code', () => {
    const readme = readFileSync(README, 'utf8')
    for (const spec of Object.values(metricsErrors)) expect(readme).toContain(`\`${spec.code}\``)
  })
})
