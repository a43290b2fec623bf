import { describe, expect, it } from 'vitest'
import { createGateway } from '../../src/index.js'
import {
  createRecordingTelemetry,
  createTestExchange,
  runPipeline,
  startFakeUpstream,
} from '../../src/testing/index.js'
import { requireTenant, tenantKey } from './require-tenant.js'

describe('require-tenant (the worked example of docs/writing-a-policy.md)', () => {
  it('unit: sets the tenant state for a known tenant', async () => {
    const entry = requireTenant({ tenants: ['acme'] })
    const handlers = await entry.definition.create(entry.options, {} as never)
    const ex = createTestExchange({ headers: { 'x-tenant': 'acme' } })
    expect(handlers.onRequest!(ex)).toBeUndefined()
    expect(ex.get(tenantKey)).toBe('acme')
  })

  it('pipeline: 400 without the header, 403 for an unknown tenant, 200 and a response header otherwise', async () => {
    const policies = () => [requireTenant({ tenants: ['acme'] })]
    const missing = await runPipeline(policies(), { url: '/' })
    expect(missing.status).toBe(400)
    expect(missing.json()).toMatchObject({
      code: 'GW_ERR_TENANT_MISSING',
      detail: 'Send the tenant in the x-tenant header',
    })
    const unknown = await runPipeline(policies(), { headers: { 'x-tenant': 'evil' } })
    expect(unknown.status).toBe(403)
    expect(unknown.upstreamCalls).toBe(0)
    const ok = await runPipeline(policies(), { headers: { 'x-tenant': 'acme' } })
    expect(ok.status).toBe(200)
    expect(ok.headers['x-served-tenant']).toBe('acme')
  })

  it('report mode lets unknown tenants through and records one would-be denial', async () => {
    const telemetry = createRecordingTelemetry()
    const res = await runPipeline(
      [requireTenant({ tenants: ['acme'] }, { mode: 'report' })],
      { headers: { 'x-tenant': 'evil' } },
      { telemetry },
    )
    expect(res.status).toBe(200)
    expect(telemetry.decisions).toEqual([
      {
        requestId: res.exchange.id,
        policy: 'require-tenant',
        outcome: 'report',
        rule: 'tenants',
        key: 'evil',
        reason: 'unknown-tenant',
      },
    ])
  })

  it('rejects bad options with their path', () => {
    expect(() => requireTenant({ tenants: [] as unknown as [string] })).toThrow(
      /require-tenant\.options\.tenants: /,
    )
  })

  it('end to end through a real gateway', async () => {
    const upstream = await startFakeUpstream()
    const gw = await createGateway({
      server: { host: '127.0.0.1', port: 0 },
      upstreams: { api: { url: upstream.url } },
      policies: [requireTenant({ tenants: ['acme'] })],
      routes: [{ path: '/api/*', upstream: 'api' }],
    })
    await gw.listen()
    try {
      expect((await fetch(`${gw.url}/api/x`)).status).toBe(400)
      const ok = await fetch(`${gw.url}/api/x`, { headers: { 'x-tenant': 'acme' } })
      expect(ok.status).toBe(200)
      expect(ok.headers.get('x-served-tenant')).toBe('acme')
    } finally {
      await gw.close()
      await upstream.close()
    }
  })
})
