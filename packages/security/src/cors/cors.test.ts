import { type DecisionRecord, definePolicy, respond, type Telemetry, z } from '@gw/core'
import { createTestPipeline, runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { compileOrigins, cors } from './index.js'

const APP = 'https://app.example.com'
const preflight = (origin: string, method = 'PUT', headers?: string) => ({
  method: 'OPTIONS',
  url: '/api/items',
  headers: {
    origin,
    'access-control-request-method': method,
    ...(headers === undefined ? {} : { 'access-control-request-headers': headers }),
  },
})

const limit429 = definePolicy({
  name: 'limit-429',
  stage: 'limit',
  schema: z.object({}),
  create: () => ({ onRequest: () => respond(429, { error: 'slow down' }, { 'retry-after': '1' }) }),
})

function recordingTelemetry(): Telemetry & { records: DecisionRecord[] } {
  const records: DecisionRecord[] = []
  return { enabled: true, records, decision: (_ex, r) => records.push(r), count: () => {}, observe: () => {} }
}

describe('compileOrigins', () => {
  it('compares serialized origins exactly and normalises configured ones', () => {
    const m = compileOrigins(['https://Example.COM:443/', 'http://localhost:5173'])
    expect(m.matches('https://example.com')).toBe(true)
    expect(m.matches('https://example.com.evil.io')).toBe(false)
    expect(m.matches('https://evil-example.com')).toBe(false)
    expect(m.matches('http://example.com')).toBe(false)
    expect(m.matches('https://example.com:8443')).toBe(false)
    expect(m.matches('http://localhost:5173')).toBe(true)
    expect(m.matches('null')).toBe(false)
  })

  it('applies regular expressions to the whole origin, in code and as /pattern/ strings', () => {
    const m = compileOrigins([/https:\/\/[a-z]+\.example\.org/, '/^https://(?:www\\.)?example\\.net$/i'])
    expect(m.matches('https://api.example.org')).toBe(true)
    expect(m.matches('https://api.example.org.evil.io')).toBe(false)
    expect(m.matches('https://x.https://api.example.org')).toBe(false)
    expect(m.matches('https://WWW.example.net')).toBe(true)
  })

  it('allows null only when listed, also with *', () => {
    expect(compileOrigins(['*']).matches('null')).toBe(false)
    expect(compileOrigins(['*', 'null']).matches('null')).toBe(true)
    expect(compileOrigins(['*']).matches('https://anything.example')).toBe(true)
  })

  it('rejects entries that are not origins', () => {
    expect(() => compileOrigins(['https://example.com/path'])).toThrow(/not an origin/)
    expect(() => compileOrigins(['example.com'])).toThrow(/not an origin/)
    expect(() => compileOrigins(['/[/'])).toThrow(/invalid origin pattern/)
  })
})

describe('cors preflight', () => {
  it('answers an allowed preflight locally with 204 and only the configured values', async () => {
    const res = await runPipeline(
      [cors({ origins: [APP], credentials: true, maxAge: 300 })],
      preflight(APP, 'PUT', 'Content-Type, Authorization'),
    )
    expect(res.status).toBe(204)
    expect(res.upstreamCalls).toBe(0)
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST, PUT, DELETE, OPTIONS',
      'access-control-allow-headers': 'content-type, authorization, x-api-key, x-request-id',
      'access-control-max-age': '300',
      vary: 'Origin, Access-Control-Request-Method, Access-Control-Request-Headers',
    })
    expect(res.body.length).toBe(0)
  })

  it('refuses a disallowed or look-alike origin with 403 problem+json and no CORS headers', async () => {
    const telemetry = recordingTelemetry()
    for (const origin of ['https://app.example.com.evil.io', 'https://evil.example', 'null']) {
      const res = await runPipeline([cors({ origins: [APP] })], preflight(origin), { telemetry })
      expect(res.status).toBe(403)
      expect(res.headers['content-type']).toBe('application/problem+json')
      expect(res.json<{ code: string }>().code).toBe('GW_ERR_CORS_REJECTED')
      expect(res.headers['access-control-allow-origin']).toBeUndefined()
      expect(res.headers.vary).toContain('Origin')
      expect(res.upstreamCalls).toBe(0)
    }
    expect(telemetry.records.map((r) => r.reason)).toEqual([
      'origin-not-allowed',
      'origin-not-allowed',
      'origin-not-allowed',
    ])
  })

  it('refuses methods and headers that are not allowed; safelisted methods always pass', async () => {
    const policy = [cors({ origins: [APP], methods: ['GET', 'PUT'], allowedHeaders: ['content-type'] })]
    expect((await runPipeline(policy, preflight(APP, 'PATCH'))).status).toBe(403)
    expect((await runPipeline(policy, preflight(APP, 'put'))).status).toBe(403)
    expect((await runPipeline(policy, preflight(APP, 'POST'))).status).toBe(204)
    expect((await runPipeline(policy, preflight(APP, 'PUT', 'x-secret'))).status).toBe(403)
    expect((await runPipeline(policy, preflight(APP, 'PUT', 'Content-Type'))).status).toBe(204)
  })

  it('treats * in allowedHeaders as a wildcard without credentials, except for Authorization', async () => {
    const policy = [cors({ origins: [APP], allowedHeaders: ['*'] })]
    expect((await runPipeline(policy, preflight(APP, 'PUT', 'x-anything'))).status).toBe(204)
    expect((await runPipeline(policy, preflight(APP, 'PUT', 'authorization'))).status).toBe(403)
    expect(() => cors({ origins: [APP], credentials: true, allowedHeaders: ['*'] })).toThrow(/wildcard/)
  })

  it('answers * without credentials and reflects the origin with credentials', async () => {
    const open = await runPipeline([cors({ origins: '*' })], preflight('https://a.example'))
    expect(open.headers['access-control-allow-origin']).toBe('*')
    const creds = await runPipeline(
      [cors({ origins: ['*'], credentials: true })],
      preflight('https://a.example'),
    )
    expect(creds.headers['access-control-allow-origin']).toBe('https://a.example')
    expect(creds.headers['access-control-allow-credentials']).toBe('true')
  })

  it('is not a preflight without Origin or Access-Control-Request-Method', async () => {
    const res = await runPipeline([cors({ origins: [APP] })], {
      method: 'OPTIONS',
      url: '/x',
      headers: { origin: APP },
    })
    expect(res.upstreamCalls).toBe(1)
    expect(res.headers['access-control-allow-origin']).toBe(APP)
  })

  it('in report mode lets disallowed preflights through and still answers allowed ones', async () => {
    const denied = await runPipeline(
      [cors({ origins: [APP] }, { mode: 'report' })],
      preflight('https://evil.example'),
    )
    expect(denied.status).toBe(200)
    expect(denied.upstreamCalls).toBe(1)
    expect(denied.headers['access-control-allow-origin']).toBeUndefined()
    const allowed = await runPipeline([cors({ origins: [APP] }, { mode: 'report' })], preflight(APP))
    expect(allowed.status).toBe(204)
    expect(allowed.headers['access-control-allow-origin']).toBe(APP)
  })
})

describe('cors on actual responses', () => {
  it('reflects an allowed origin, adds credentials, exposed headers and Vary: Origin', async () => {
    const res = await runPipeline(
      [cors({ origins: [APP], credentials: true, exposedHeaders: ['x-request-id', 'ratelimit-remaining'] })],
      { url: '/api', headers: { origin: APP } },
      { upstream: { status: 200, headers: { vary: 'Accept-Encoding' }, body: 'ok' } },
    )
    expect(res.headers['access-control-allow-origin']).toBe(APP)
    expect(res.headers['access-control-allow-credentials']).toBe('true')
    expect(res.headers['access-control-expose-headers']).toBe('x-request-id, ratelimit-remaining')
    expect(res.headers.vary).toBe('Accept-Encoding, Origin')
  })

  it('adds no CORS headers for a disallowed origin but still Vary: Origin; same without Origin', async () => {
    const denied = await runPipeline([cors({ origins: [APP] })], {
      headers: { origin: 'https://evil.example' },
    })
    expect(denied.status).toBe(200)
    expect(denied.headers['access-control-allow-origin']).toBeUndefined()
    expect(denied.headers.vary).toBe('Origin')
    const none = await runPipeline([cors({ origins: [APP] })])
    expect(none.headers['access-control-allow-origin']).toBeUndefined()
    expect(none.headers.vary).toBe('Origin')
  })

  it('replaces CORS headers set by the upstream', async () => {
    const res = await runPipeline(
      [cors({ origins: [APP] })],
      { headers: { origin: 'https://evil.example' } },
      {
        upstream: {
          status: 200,
          headers: { 'access-control-allow-origin': '*', 'access-control-allow-credentials': 'true' },
          body: 'x',
        },
      },
    )
    expect(res.headers['access-control-allow-origin']).toBeUndefined()
    expect(res.headers['access-control-allow-credentials']).toBeUndefined()
  })

  it('with * sends a static * (no Vary) only when null is allowed too; otherwise Vary: Origin', async () => {
    const both = await createTestPipeline([cors({ origins: ['*', 'null'] })])
    const a = await both.run({ headers: { origin: 'https://a.example' } })
    expect(a.headers['access-control-allow-origin']).toBe('*')
    expect(a.headers.vary).toBeUndefined()
    expect((await both.run({ headers: { origin: 'null' } })).headers['access-control-allow-origin']).toBe('*')
    const star = await createTestPipeline([cors({ origins: '*' })])
    const b = await star.run({ headers: { origin: 'https://a.example' } })
    expect(b.headers['access-control-allow-origin']).toBe('*')
    expect(b.headers.vary).toBe('Origin')
    const n = await star.run({ headers: { origin: 'null' } })
    expect(n.headers['access-control-allow-origin']).toBeUndefined()
  })

  it('keeps Vary: * untouched', async () => {
    const res = await runPipeline(
      [cors({ origins: [APP] })],
      { headers: { origin: APP } },
      {
        upstream: { status: 200, headers: { vary: '*' }, body: 'x' },
      },
    )
    expect(res.headers.vary).toBe('*')
  })

  it('decorates local replies of later policies (429) so browsers can read them', async () => {
    const res = await runPipeline([cors({ origins: [APP], exposedHeaders: ['retry-after'] }), limit429()], {
      headers: { origin: APP },
    })
    expect(res.status).toBe(429)
    expect(res.headers['access-control-allow-origin']).toBe(APP)
    expect(res.headers['access-control-expose-headers']).toBe('retry-after')
  })

  it('accepts a predicate function and a comma-separated string (CORS_ORIGIN)', async () => {
    const fn = await runPipeline(
      [cors({ origins: (o) => o.endsWith('.example.com') && o.startsWith('https://') })],
      {
        headers: { origin: 'https://x.example.com' },
      },
    )
    expect(fn.headers['access-control-allow-origin']).toBe('https://x.example.com')
    const list = await createTestPipeline([cors({ origins: 'https://a.example, https://b.example' })])
    expect(
      (await list.run({ headers: { origin: 'https://b.example' } })).headers['access-control-allow-origin'],
    ).toBe('https://b.example')
    expect(
      (await list.run({ headers: { origin: 'https://c.example' } })).headers['access-control-allow-origin'],
    ).toBe(undefined)
  })
})
