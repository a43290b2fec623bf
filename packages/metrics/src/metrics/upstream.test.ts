import type { Exchange, GwResponse, Upstream } from '@gw/core'
import { createTestExchange } from '@gw/core/testing'
import type { ForwardOptions } from '@gw/core/upstream'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createPrometheusTelemetry } from '../prometheus/telemetry.js'
import { instrumentUpstream } from './upstream.js'

describe('instrumentUpstream', () => {
  it('passes forward options and WebSocket upgrades through to the wrapped upstream', async () => {
    const seen: { options?: ForwardOptions; upgraded?: Exchange } = {}
    const response: GwResponse = { status: 101, headers: {}, body: null }
    const inner: Upstream = {
      name: 'users',
      forward: (_ex, options) => {
        seen.options = options
        return Promise.resolve({ status: 200, headers: {}, body: null })
      },
      upgrade(ex) {
        seen.upgraded = ex
        return Promise.resolve(response)
      },
      close: () => Promise.resolve(),
    }
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false }, { registry: new Registry() })
    const wrapped = instrumentUpstream(inner, telemetry)
    const ex = createTestExchange()
    await wrapped.forward(ex, { retryNonIdempotent: true })
    expect(seen.options).toEqual({ retryNonIdempotent: true })
    expect(await wrapped.upgrade?.(ex)).toBe(response)
    expect(seen.upgraded).toBe(ex)
    const withoutUpgrade = instrumentUpstream({ ...inner, upgrade: undefined }, telemetry)
    expect(withoutUpgrade.upgrade).toBeUndefined()
  })
})
