import { createRecordingLogger } from '@gw/core/testing'
import { SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { anyOf, apiKey, authorize, basic, hashApiKey, hashPassword, jwt } from '../src/index.js'
import { type Harness, rawRequest, startHarness } from './helpers/gateway.js'

const SECRET = 'integration-secret-with-at-least-32-bytes'
const KEY = 'gw_integration-key'
const sign = (claims: Record<string, unknown>) =>
  new SignJWT({ sub: 'user-1', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET))

let h: Harness
const log = createRecordingLogger()

beforeAll(async () => {
  h = await startHarness({
    logger: log,
    routes: [
      {
        path: '/jwt/*',
        upstream: 'api',
        policies: [
          jwt({
            algorithms: ['HS256'],
            secret: SECRET,
            forwardClaims: { sub: 'x-user-id' },
            stripCredential: true,
          }),
        ],
      },
      {
        path: '/orders/*',
        upstream: 'api',
        policies: [jwt({ algorithms: ['HS256'], secret: SECRET }), authorize({ scopes: ['orders:read'] })],
      },
      {
        path: '/either/*',
        upstream: 'api',
        policies: [
          anyOf({
            policies: [
              jwt({ algorithms: ['HS256'], secret: SECRET }),
              apiKey({
                consumers: [{ id: 'partner', plan: 'pro', keys: [hashApiKey(KEY)] }],
                consumerHeader: 'x-consumer',
              }),
            ],
          }),
        ],
      },
      {
        path: '/admin/*',
        upstream: 'api',
        policies: [
          basic({
            users: [{ username: 'ops', passwordHash: await hashPassword('hunter2!', { log2Cost: 14 }) }],
          }),
        ],
      },
    ],
  })
})

afterAll(() => h.close())

describe('gateway end to end', () => {
  it('jwt: forwards an authenticated request with the claim header and without the token', async () => {
    const token = await sign({})
    const res = await fetch(`${h.url}/jwt/hello`, {
      headers: { authorization: `Bearer ${token}`, 'x-user-id': 'evil' },
    })
    expect(res.status).toBe(200)
    const echoed = (await res.json()) as { headers: Record<string, string> }
    expect(echoed.headers['x-user-id']).toBe('user-1')
    expect(echoed.headers.authorization).toBeUndefined()
  })

  it('jwt: 401 with problem+json and a challenge, upstream untouched', async () => {
    const before = h.upstream.requests.length
    const res = await fetch(`${h.url}/jwt/hello`, { headers: { authorization: 'Bearer nope.nope.nope' } })
    expect(res.status).toBe(401)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"')
    const body = (await res.json()) as { code: string; requestId: string }
    expect(body.code).toBe('GW_ERR_AUTH_INVALID_TOKEN')
    expect(body.requestId).toBe(res.headers.get('x-request-id'))
    expect(h.upstream.requests.length).toBe(before)
  })

  it('jwt: two Authorization headers are refused with 400, never first-wins', async () => {
    const token = await sign({})
    const res = await rawRequest(`${h.url}/jwt/hello`, [
      ['Authorization', `Bearer ${token}`],
      ['Authorization', 'Bearer other.token.here'],
    ])
    expect(res.status).toBe(400)
    expect(JSON.parse(res.body)).toMatchObject({ code: 'GW_ERR_AUTH_DUPLICATE_CREDENTIALS' })
  })

  it('authorize: 403 insufficient_scope, then 200 with the scope', async () => {
    const without = await fetch(`${h.url}/orders/1`, {
      headers: { authorization: `Bearer ${await sign({ scope: 'profile' })}` },
    })
    expect(without.status).toBe(403)
    expect(without.headers.get('www-authenticate')).toContain(
      'error="insufficient_scope", error_description="The access token lacks the scope this resource requires", scope="orders:read"',
    )
    const withScope = await fetch(`${h.url}/orders/1`, {
      headers: { authorization: `Bearer ${await sign({ scope: 'orders:read' })}` },
    })
    expect(withScope.status).toBe(200)
  })

  it('any-of: JWT or API key; the consumer header reaches the upstream', async () => {
    const viaKey = await fetch(`${h.url}/either/x`, { headers: { 'x-api-key': KEY, 'x-consumer': 'evil' } })
    expect(viaKey.status).toBe(200)
    expect(((await viaKey.json()) as { headers: Record<string, string> }).headers['x-consumer']).toBe(
      'partner',
    )
    const viaJwt = await fetch(`${h.url}/either/x`, {
      headers: { authorization: `Bearer ${await sign({})}` },
    })
    expect(viaJwt.status).toBe(200)
    const none = await fetch(`${h.url}/either/x`)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="gw", ApiKey realm="gw"')
  })

  it('basic: 200 with the right password, 401 with a Basic challenge otherwise', async () => {
    const good = await fetch(`${h.url}/admin/x`, {
      headers: { authorization: `Basic ${Buffer.from('ops:hunter2!').toString('base64')}` },
    })
    expect(good.status).toBe(200)
    const bad = await fetch(`${h.url}/admin/x`, {
      headers: { authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}` },
    })
    expect(bad.status).toBe(401)
    expect(bad.headers.get('www-authenticate')).toBe('Basic realm="gw", charset="UTF-8"')
  })

  it('writes audit events with request id, route and client ip, and never the credentials', async () => {
    const token = await sign({ sub: 'audited' })
    const res = await fetch(`${h.url}/jwt/audit`, { headers: { authorization: `Bearer ${token}` } })
    const reqId = res.headers.get('x-request-id')
    const event = log.entries.find((e) => e.fields.event === 'auth.success' && e.fields.subject === 'audited')
    expect(event?.fields).toMatchObject({ policy: 'jwt', reqId, ip: '127.0.0.1' })
    expect(String(event?.fields.route)).toContain('/jwt/*')
    const dump = log.dump()
    expect(dump).not.toContain(token.split('.')[2])
    expect(dump).not.toContain(KEY)
    expect(dump).not.toContain('hunter2!')
  })
})
