import { gunzipSync } from 'node:zlib'
import { startFakeUpstream } from '@gw/core/testing'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CentralizedGateway, DEMO_API_KEY, type Env, startCentralizedGateway } from '../src/gateway.js'
import { rawRequest, testEnv, WITH_KEY } from './helpers/http.js'

const ORIGIN = 'https://app.example.com'
const JWT_SECRET = 'centralized-e2e-secret-at-least-32-bytes!'

async function start(
  extra: Env = {},
): Promise<{ app: CentralizedGateway; env: Env & { PROMETHEUS_PORT: string } }> {
  const env = await testEnv({ CORS_ORIGIN: ORIGIN, ...extra })
  const app = await startCentralizedGateway({ env, port: 0, host: '127.0.0.1' })
  return { app, env }
}

async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>
}

function expectSecurityHeaders(headers: Headers): void {
  expect(headers.get('x-content-type-options')).toBe('nosniff')
  expect(headers.get('x-frame-options')).toBe('DENY')
  expect(headers.get('strict-transport-security')).toMatch(/^max-age=31536000/)
  expect(headers.get('content-security-policy')).toContain("default-src 'self'")
  expect(headers.get('x-powered-by')).toBeNull()
}

describe('authentication, security headers and CORS', () => {
  let app: CentralizedGateway
  beforeAll(async () => {
    ;({ app } = await start())
  })
  afterAll(async () => {
    await app?.close()
  })

  it('answers 401 problem+json without credentials, with CORS and security headers on it', async () => {
    const res = await fetch(`${app.url}/api/products`, { headers: { origin: ORIGIN } })
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('www-authenticate')).toBe('ApiKey realm="gw"')
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expect(res.headers.get('access-control-expose-headers')).toContain('ratelimit')
    expectSecurityHeaders(res.headers)
    const body = await json(res)
    expect(body).toMatchObject({ status: 401, code: 'GW_ERR_AUTH_MISSING' })
    expect(body.requestId).toBe(res.headers.get('x-request-id'))
  })

  it('answers 200 with the demo API key and 401 with a wrong one', async () => {
    const ok = await fetch(`${app.url}/api/users/1`, { headers: { ...WITH_KEY, origin: ORIGIN } })
    expect(ok.status).toBe(200)
    expect(await json(ok)).toMatchObject({ id: 1, name: 'Ada Lovelace' })
    expect(ok.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expectSecurityHeaders(ok.headers)
    const wrong = await fetch(`${app.url}/api/users/1`, { headers: { 'x-api-key': 'gw_not_the_key' } })
    expect(wrong.status).toBe(401)
    expect(await json(wrong)).toMatchObject({ code: 'GW_ERR_AUTH_INVALID_API_KEY' })
  })

  it('does not accept a bearer token while JWT_SECRET is unset', async () => {
    const token = await new SignJWT({ sub: 'user-7' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(JWT_SECRET))
    const res = await fetch(`${app.url}/api/users/1`, { headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(401)
  })

  it("puts CORS and security headers on the gateway's own 404 too", async () => {
    const res = await fetch(`${app.url}/nope`, { headers: { origin: ORIGIN } })
    expect(res.status).toBe(404)
    expect(res.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expectSecurityHeaders(res.headers)
  })

  it('gives CORS headers to allowed origins only', async () => {
    const other = await fetch(`${app.url}/api/users/1`, {
      headers: { ...WITH_KEY, origin: 'https://evil.example' },
    })
    expect(other.status).toBe(200)
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('answers a CORS preflight locally (204, no credentials needed) and refuses other origins (403)', async () => {
    const preflight = await rawRequest(`${app.url}/api/products`, 'OPTIONS', {
      origin: ORIGIN,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type, x-api-key',
    })
    expect(preflight.status).toBe(204)
    expect(preflight.headers['access-control-allow-origin']).toBe(ORIGIN)
    expect(String(preflight.headers['access-control-allow-methods'])).toContain('POST')
    expect(String(preflight.headers['access-control-allow-headers'])).toContain('x-api-key')
    expect(preflight.headers['access-control-max-age']).toBe('600')
    const refused = await rawRequest(`${app.url}/api/products`, 'OPTIONS', {
      origin: 'https://evil.example',
      'access-control-request-method': 'POST',
    })
    expect(refused.status).toBe(403)
    expect(refused.headers['access-control-allow-origin']).toBeUndefined()
    expect(JSON.parse(refused.body.toString('utf8'))).toMatchObject({ code: 'GW_ERR_CORS_REJECTED' })
  })

  it('validates requests at the gateway: a non-JSON body is a 415 before authentication', async () => {
    const res = await fetch(`${app.url}/api/products`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello',
    })
    expect(res.status).toBe(415)
    expect(await json(res)).toMatchObject({ code: 'GW_ERR_UNSUPPORTED_MEDIA_TYPE' })
  })
})

describe('JWT (JWT_SECRET set)', () => {
  let app: CentralizedGateway
  let users: Awaited<ReturnType<typeof startFakeUpstream>>
  beforeAll(async () => {
    users = await startFakeUpstream()
    ;({ app } = await start({ JWT_SECRET, USERS_SERVICE_URL: users.url }))
  })
  afterAll(async () => {
    await app?.close()
    await users?.close()
  })

  const sign = (secret: string) =>
    new SignJWT({ sub: 'user-7', scope: 'users:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret))

  it('accepts an HS256 token signed with JWT_SECRET and forwards its subject as x-user-id', async () => {
    const res = await fetch(`${app.url}/api/users/7`, {
      headers: { authorization: `Bearer ${await sign(JWT_SECRET)}`, 'x-user-id': 'spoofed' },
    })
    expect(res.status).toBe(200)
    const seen = users.requests.at(-1)!
    expect(seen.url).toBe('/users/7')
    expect(seen.headers['x-user-id']).toBe('user-7')
  })

  it('still accepts the API key (any-of), and rejects a token signed with another secret', async () => {
    expect((await fetch(`${app.url}/api/products/1`, { headers: WITH_KEY })).status).toBe(200)
    const forged = await fetch(`${app.url}/api/products/1`, {
      headers: { authorization: `Bearer ${await sign('another-secret-that-is-also-32-bytes-long')}` },
    })
    expect(forged.status).toBe(401)
    expect(forged.headers.get('www-authenticate')).toContain('invalid_token')
  })

  it('challenges for both methods when no credential is sent', async () => {
    const res = await fetch(`${app.url}/api/orders`)
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="gw", ApiKey realm="gw"')
  })
})

/** One member of a RateLimit structured-field list, without its `t` (reset) parameter. */
function member(header: string | null, name: string): string | undefined {
  return header
    ?.split(', ')
    .find((item) => item.startsWith(`"${name}"`))
    ?.replace(/;t=\d+$/, '')
}

describe('per-ip rate limit', () => {
  let app: CentralizedGateway
  beforeAll(async () => {
    // A one-hour fixed window: the three requests cannot straddle a window boundary in practice.
    ;({ app } = await start({ RATE_LIMIT_MAX_REQUESTS: '3', RATE_LIMIT_WINDOW_MS: '3600000' }))
  })
  afterAll(async () => {
    await app?.close()
  })

  it('sends RateLimit headers, then 429 with Retry-After (and CORS and security headers) over the limit', async () => {
    const remaining: (string | undefined)[] = []
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${app.url}/api/products/1`, { headers: WITH_KEY })
      expect(res.status).toBe(200)
      // Both entries report: the route's per-principal limit and the gateway's per-ip limit.
      expect(res.headers.get('ratelimit-policy')).toBe('"per-principal";q=300;w=60, "per-ip";q=3;w=3600')
      remaining.push(member(res.headers.get('ratelimit'), 'per-ip'))
    }
    expect(remaining).toEqual(['"per-ip";r=2', '"per-ip";r=1', '"per-ip";r=0'])
    const limited = await fetch(`${app.url}/api/products/1`, { headers: { ...WITH_KEY, origin: ORIGIN } })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    expect(limited.headers.get('ratelimit')).toMatch(/^"per-ip";r=0;t=\d+$/)
    expect(limited.headers.get('access-control-allow-origin')).toBe(ORIGIN)
    expectSecurityHeaders(limited.headers)
    expect(await json(limited)).toMatchObject({ status: 429, code: 'GW_ERR_RATE_LIMITED' })
    // The limit is per ip, before authentication: anonymous requests count too.
    expect((await fetch(`${app.url}/api/users`)).status).toBe(429)
  })

  it('is off with RATE_LIMIT_ENABLED=false', async () => {
    const { app: off } = await start({ RATE_LIMIT_ENABLED: 'false', RATE_LIMIT_MAX_REQUESTS: '1' })
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${off.url}/api/products/1`, { headers: WITH_KEY })
        expect(res.status).toBe(200)
        expect(res.headers.get('ratelimit')).not.toContain('per-ip')
      }
    } finally {
      await off.close()
    }
  })
})

describe('response cache on product reads, and compression', () => {
  let app: CentralizedGateway
  beforeAll(async () => {
    ;({ app } = await start({ CACHE_TTL_SECONDS: '60' }))
  })
  afterAll(async () => {
    await app?.close()
  })

  it('serves the second read of a product from the cache (Cache-Status hit, Age)', async () => {
    const first = await fetch(`${app.url}/api/products/2`, { headers: WITH_KEY })
    expect(first.status).toBe(200)
    expect(first.headers.get('cache-status')).toMatch(
      /^gw; fwd=uri-miss; fwd-status=200; stored; ttl=(59|60)$/,
    )
    const body = await first.text()
    const second = await fetch(`${app.url}/api/products/2`, { headers: WITH_KEY })
    expect(second.status).toBe(200)
    expect(second.headers.get('cache-status')).toMatch(/^gw; hit; ttl=\d+$/)
    expect(Number(second.headers.get('age'))).toBeGreaterThanOrEqual(0)
    expect(await second.text()).toBe(body)
    // Authentication still runs before the cache: no key, no cached product.
    expect((await fetch(`${app.url}/api/products/2`)).status).toBe(401)
  })

  it('invalidates the cached list after a POST to it', async () => {
    await fetch(`${app.url}/api/products`, { headers: WITH_KEY })
    const cached = await fetch(`${app.url}/api/products`, { headers: WITH_KEY })
    expect(cached.headers.get('cache-status')).toMatch(/; hit;/)
    const created = await fetch(`${app.url}/api/products`, {
      method: 'POST',
      headers: { ...WITH_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Cache buster', price: 1 }),
    })
    expect(created.status).toBe(201)
    const after = await fetch(`${app.url}/api/products`, { headers: WITH_KEY })
    expect(after.headers.get('cache-status')).toMatch(/fwd=uri-miss/)
    const list = (await after.json()) as { items: { name: string }[] }
    expect(list.items.map((p) => p.name)).toContain('Cache buster')
  })

  it('does not cache other routes', async () => {
    await fetch(`${app.url}/api/users/1`, { headers: WITH_KEY })
    const again = await fetch(`${app.url}/api/users/1`, { headers: WITH_KEY })
    expect(again.headers.get('cache-status')).toBeNull()
  })

  it('gzips a body over 1 KiB when Accept-Encoding asks for it, and only then', async () => {
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${app.url}/api/products`, {
        method: 'POST',
        headers: { ...WITH_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `Bulk product ${i}`, price: 10 + i, category: 'bulk' }),
      })
      expect(res.status).toBe(201)
    }
    const url = `${app.url}/api/products?limit=100`
    const gzipped = await rawRequest(url, 'GET', { ...WITH_KEY, 'accept-encoding': 'gzip' })
    expect(gzipped.status).toBe(200)
    expect(gzipped.headers['content-encoding']).toBe('gzip')
    expect(String(gzipped.headers.vary)).toMatch(/accept-encoding/i)
    const list = JSON.parse(gunzipSync(gzipped.body).toString('utf8')) as { items: unknown[] }
    expect(list.items.length).toBeGreaterThanOrEqual(16)
    const plain = await rawRequest(url, 'GET', WITH_KEY)
    expect(plain.headers['content-encoding']).toBeUndefined()
    expect(plain.body.length).toBeGreaterThan(1024)
    expect(gzipped.body.length).toBeLessThan(plain.body.length)
    // A small body stays uncompressed.
    const small = await rawRequest(`${app.url}/api/products/1`, 'GET', {
      ...WITH_KEY,
      'accept-encoding': 'gzip',
    })
    expect(small.headers['content-encoding']).toBeUndefined()
  })
})

describe('metrics, access log and trace context', () => {
  let app: CentralizedGateway
  let env: Env & { PROMETHEUS_PORT: string }
  let users: Awaited<ReturnType<typeof startFakeUpstream>>
  const lines: Record<string, unknown>[] = []
  beforeAll(async () => {
    users = await startFakeUpstream()
    env = await testEnv({ LOG_LEVEL: 'info', USERS_SERVICE_URL: users.url })
    app = await startCentralizedGateway({
      env,
      port: 0,
      host: '127.0.0.1',
      logDestination: {
        write(line: string) {
          lines.push(JSON.parse(line) as Record<string, unknown>)
        },
      },
    })
  })
  afterAll(async () => {
    await app?.close()
    await users?.close()
  })

  it('exposes gw_http_requests_total per route on PROMETHEUS_PORT', async () => {
    for (const path of ['/api/users/1', '/api/products/1', '/api/orders/1']) {
      expect((await fetch(app.url + path, { headers: WITH_KEY })).status).toBe(200)
    }
    expect((await fetch(`${app.url}/api/orders/1`)).status).toBe(401)
    const scrape = await fetch(`http://127.0.0.1:${env.PROMETHEUS_PORT}/metrics`)
    expect(scrape.status).toBe(200)
    const text = await scrape.text()
    for (const route of ['users', 'products', 'orders']) {
      expect(text).toMatch(
        new RegExp(
          `gw_http_requests_total\\{route="${route}",method="GET",status_class="2xx",upstream="${route}"\\} [1-9]`,
        ),
      )
    }
    expect(text).toMatch(
      /gw_http_requests_total\{route="orders",method="GET",status_class="4xx",upstream="orders"\} 1/,
    )
    expect(text).toMatch(/gw_policy_decisions_total\{policy="api-key",outcome="deny"\} [1-9]/)
    expect(text).toContain('gw_upstream_request_duration_seconds_bucket')
    // Not on the public port.
    expect((await fetch(`${app.url}/metrics`, { headers: WITH_KEY })).status).toBe(404)
  })

  it('writes one access-log line per request, continues the trace and never logs the key', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736'
    const res = await fetch(`${app.url}/api/users/5`, {
      headers: {
        ...WITH_KEY,
        'x-request-id': 'log-line-1',
        'user-agent': 'e2e-agent/1.0',
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
    })
    expect(res.status).toBe(200)
    const forwarded = String(users.requests.at(-1)!.headers.traceparent)
    expect(forwarded).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`))
    expect(forwarded).not.toContain('00f067aa0ba902b7')
    await expect
      .poll(() => lines.find((l) => l.reqId === 'log-line-1' && l.msg === 'request completed'))
      .toBeTruthy()
    const line = lines.find((l) => l.reqId === 'log-line-1' && l.msg === 'request completed')!
    expect(line).toMatchObject({
      method: 'GET',
      route: 'users',
      path: '/api/users/5',
      status: 200,
      upstream: 'users',
      principal: 'demo',
      traceId,
      headers: { 'user-agent': 'e2e-agent/1.0' },
    })
    expect(typeof line.durationMs).toBe('number')
    expect(JSON.stringify(lines)).not.toContain(DEMO_API_KEY)
  })
})
