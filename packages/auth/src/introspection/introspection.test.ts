import { createManualClock, createRecordingLogger, createTestPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { type EchoBody, principalEcho } from '../../test/helpers/principal-echo.js'
import type { AuthFetch } from '../shared/fetch.js'
import { introspection } from './index.js'

const NOW = Date.UTC(2026, 0, 1)
const nowSec = NOW / 1000

interface Call {
  url: string
  headers: Record<string, string>
  body: URLSearchParams
}

/** An in-memory RFC 7662 server behind the injected transport (jose-style: no network in unit tests). */
function authorizationServer(
  tokens: Record<string, Record<string, unknown>>,
  behaviour: 'ok' | 'fail' | 'hang' = 'ok',
) {
  const calls: Call[] = []
  const http: AuthFetch = async (url, init) => {
    if (url.endsWith('/.well-known/openid-configuration')) {
      return json({ issuer: 'https://as.test', introspection_endpoint: 'https://as.test/introspect' })
    }
    calls.push({ url, headers: init.headers, body: new URLSearchParams(init.body) })
    if (behaviour === 'fail') return { ok: false, status: 500, json: async () => ({}) }
    if (behaviour === 'hang') {
      return new Promise((_resolve, reject) =>
        init.signal.addEventListener('abort', () => reject(init.signal.reason)),
      )
    }
    const token = new URLSearchParams(init.body).get('token') ?? ''
    return json(tokens[token] ?? { active: false })
  }
  return { http, calls }
}

function json(body: unknown) {
  return { ok: true, status: 200, json: async () => body }
}

const options = { issuer: 'https://as.test', clientId: 'gateway', clientSecret: 's3cret:&' }
const active = { active: true, sub: 'user-1', client_id: 'app', scope: 'read write', exp: nowSec + 300 }

async function pipeline(server: ReturnType<typeof authorizationServer>, extra: Record<string, unknown> = {}) {
  const clock = createManualClock(NOW)
  const log = createRecordingLogger()
  const p = await createTestPipeline(
    [introspection({ ...options, ...extra } as Parameters<typeof introspection>[0])],
    {
      clock,
      log,
      upstream: principalEcho,
      resources: { authFetch: server.http },
    },
  )
  return { clock, log, run: p.run }
}

describe('introspection', () => {
  it('discovers the endpoint, authenticates with client_secret_basic and sets the principal', async () => {
    const as = authorizationServer({ 'tok-1': active })
    const p = await pipeline(as)
    const res = await p.run({ headers: { authorization: 'Bearer tok-1' } })
    expect(res.status).toBe(200)
    expect(res.json<EchoBody>().principal).toMatchObject({
      subject: 'user-1',
      consumer: 'app',
      scopes: ['read', 'write'],
      method: 'introspection',
    })
    expect(as.calls[0]?.url).toBe('https://as.test/introspect')
    expect(as.calls[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('gateway:s3cret%3A%26').toString('base64')}`,
    )
    expect(Object.fromEntries(as.calls[0]!.body)).toEqual({ token: 'tok-1', token_type_hint: 'access_token' })
  })

  it('supports client_secret_post', async () => {
    const as = authorizationServer({ 'tok-1': active })
    const p = await pipeline(as, {
      clientAuth: 'client_secret_post',
      introspectionEndpoint: 'https://as.test/i2',
    })
    expect((await p.run({ headers: { authorization: 'Bearer tok-1' } })).status).toBe(200)
    expect(as.calls[0]?.url).toBe('https://as.test/i2')
    expect(as.calls[0]?.headers.authorization).toBeUndefined()
    expect(as.calls[0]?.body.get('client_secret')).toBe('s3cret:&')
  })

  it('answers 401 invalid_token for active:false and remembers it briefly', async () => {
    const as = authorizationServer({})
    const p = await pipeline(as)
    const res = await p.run({ headers: { authorization: 'Bearer junk' } })
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toContain('error="invalid_token"')
    await p.run({ headers: { authorization: 'Bearer junk' } })
    expect(as.calls).toHaveLength(1)
    p.clock.advance(10_000)
    await p.run({ headers: { authorization: 'Bearer junk' } })
    expect(as.calls).toHaveLength(2)
  })

  it('caches active results until exp, bounded by maxTtl', async () => {
    const as = authorizationServer({ 'tok-1': { ...active, exp: nowSec + 30 } })
    const p = await pipeline(as, { cache: { maxTtl: '20s' } })
    const send = () => p.run({ headers: { authorization: 'Bearer tok-1' } })
    await send()
    await send()
    expect(as.calls).toHaveLength(1)
    p.clock.advance(20_000)
    await send()
    expect(as.calls).toHaveLength(2)
    p.clock.advance(10_000)
    expect((await send()).status).toBe(401)
  })

  it('shares one call between concurrent requests with the same token', async () => {
    const as = authorizationServer({ 'tok-1': active })
    const p = await pipeline(as, { cache: { enabled: false } })
    const results = await Promise.all(
      [1, 2, 3].map(() => p.run({ headers: { authorization: 'Bearer tok-1' } })),
    )
    expect(results.map((r) => r.status)).toEqual([200, 200, 200])
    expect(as.calls).toHaveLength(1)
  })

  it('checks exp, nbf and audience of the response', async () => {
    const as = authorizationServer({
      old: { ...active, exp: nowSec - 1 },
      early: { ...active, nbf: nowSec + 60 },
      other: { ...active, aud: ['billing'] },
      mine: { ...active, aud: 'api' },
    })
    const p = await pipeline(as, { audience: 'api' })
    const status = async (t: string) => (await p.run({ headers: { authorization: `Bearer ${t}` } })).status
    expect([await status('old'), await status('early'), await status('other'), await status('mine')]).toEqual(
      [401, 401, 401, 200],
    )
  })

  it('answers 503 when the server fails or times out, or 401 with onError: unauthorized', async () => {
    const failing = await pipeline(authorizationServer({}, 'fail'))
    const res = await failing.run({ headers: { authorization: 'Bearer t' } })
    expect([res.status, res.json<{ code: string }>().code]).toEqual([503, 'GW_ERR_AUTH_UNAVAILABLE'])
    const hanging = await pipeline(authorizationServer({}, 'hang'), { timeout: 50, onError: 'unauthorized' })
    expect((await hanging.run({ headers: { authorization: 'Bearer t' } })).status).toBe(401)
  })

  it('fails at start-up when discovery names another issuer', async () => {
    const http: AuthFetch = async () =>
      json({ issuer: 'https://evil.test', introspection_endpoint: 'https://evil.test/i' })
    await expect(
      createTestPipeline([introspection(options)], { resources: { authFetch: http } }),
    ).rejects.toMatchObject({ code: 'GW_ERR_AUTH_UNAVAILABLE' })
  })

  it('requires an issuer or an endpoint', () => {
    expect(() => introspection({ clientId: 'a', clientSecret: 'b' })).toThrow('set issuer')
  })
})
