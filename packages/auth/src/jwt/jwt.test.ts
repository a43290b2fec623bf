import { GatewayError, noopLogger, noopTelemetry, principalKey, type SetupContext } from '@gw/core'
import {
  createManualClock,
  createRecordingLogger,
  createTestExchange,
  createTestPipeline,
} from '@gw/core/testing'
import { type CryptoKey, exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { type EchoBody, principalEcho } from '../../test/helpers/principal-echo.js'
import { authErrors } from '../errors.js'
import { type JwtOptions, jwt } from './index.js'

async function jwkOf(key: CryptoKey) {
  const jwk = await exportJWK(key)
  return { ...jwk, kty: jwk.kty ?? '' }
}

const SECRET = 'a-very-long-test-secret-of-at-least-32-bytes!'
const secretBytes = new TextEncoder().encode(SECRET)
const NOW = Date.UTC(2026, 0, 1)
const nowSec = NOW / 1000

function claims(extra: JWTPayload = {}): JWTPayload {
  return { sub: 'user-1', iat: nowSec, exp: nowSec + 600, scope: 'read write', ...extra }
}

async function hs256(payload: JWTPayload = claims(), header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', ...header }).sign(secretBytes)
}

function setupFor(clock = createManualClock(NOW)): SetupContext {
  return {
    policy: 'jwt',
    routeId: 'test',
    mode: 'enforce',
    log: noopLogger,
    clock,
    telemetry: noopTelemetry,
    need: () => {
      throw new Error('no resources')
    },
    has: () => false,
  }
}

async function pipeline(options: Parameters<typeof jwt>[0], settings: Parameters<typeof jwt>[1] = {}) {
  const clock = createManualClock(NOW)
  const log = createRecordingLogger()
  const p = await createTestPipeline([jwt(options, settings)], { clock, log, upstream: principalEcho })
  return { clock, log, run: p.run, close: p.close }
}

const hsOptions = { algorithms: ['HS256' as const], secret: SECRET }

describe('jwt: valid tokens', () => {
  it('accepts an HS256 bearer token and sets the principal', async () => {
    const p = await pipeline({ ...hsOptions, issuer: 'https://idp.test', audience: 'api' })
    const token = await hs256(claims({ iss: 'https://idp.test', aud: 'api', client_id: 'app-7' }))
    const res = await p.run({ headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(200)
    const body = res.json<EchoBody>()
    expect(body.principal).toMatchObject({
      subject: 'user-1',
      consumer: 'app-7',
      scopes: ['read', 'write'],
      method: 'jwt',
    })
    expect(res.exchange.get(principalKey)?.subject).toBe('user-1')
  })

  it('accepts the scheme case-insensitively and reads scopes from an scp array', async () => {
    const p = await pipeline(hsOptions)
    const token = await hs256(claims({ scope: undefined, scp: ['a', 'b'] }))
    const res = await p.run({ headers: { authorization: `bEaReR ${token}` } })
    expect(res.status).toBe(200)
    expect(res.json<EchoBody>().principal?.scopes).toEqual(['a', 'b'])
  })

  it.each([
    ['ES256', 'ES256'],
    ['RS256', 'RS256'],
    ['PS256', 'PS256'],
    ['EdDSA', 'Ed25519'],
  ] as const)('verifies %s with a PEM public key and a JWK', async (alg, keyAlg) => {
    const { privateKey, publicKey } = await generateKeyPair(keyAlg, { extractable: true })
    const token = await new SignJWT(claims()).setProtectedHeader({ alg }).sign(privateKey)
    const pem = await pipeline({ algorithms: [alg], publicKey: await exportSPKI(publicKey) })
    expect((await pem.run({ headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
    const jwk = await pipeline({ algorithms: [alg], publicKey: await jwkOf(publicKey) })
    expect((await jwk.run({ headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
  })

  it('selects the key of an inline JWKS by kid', async () => {
    const a = await generateKeyPair('ES256', { extractable: true })
    const b = await generateKeyPair('ES256', { extractable: true })
    const keys = [
      { ...(await jwkOf(a.publicKey)), kid: 'a' },
      { ...(await jwkOf(b.publicKey)), kid: 'b' },
    ]
    const p = await pipeline({ algorithms: ['ES256'], jwks: { keys } })
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'ES256', kid: 'b' })
      .sign(b.privateKey)
    expect((await p.run({ headers: { authorization: `Bearer ${token}` } })).status).toBe(200)
    const wrong = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'ES256', kid: 'a' })
      .sign(b.privateKey)
    expect((await p.run({ headers: { authorization: `Bearer ${wrong}` } })).status).toBe(401)
  })

  it('reads the token from a cookie or a query parameter when configured', async () => {
    const p = await pipeline({
      ...hsOptions,
      tokenFrom: [
        { in: 'cookie', name: 'session' },
        { in: 'query', name: 'access_token' },
      ],
      stripCredential: true,
    })
    const token = await hs256()
    const viaCookie = await p.run({ headers: { cookie: `theme=dark; session=${token}` } })
    expect(viaCookie.status).toBe(200)
    expect(viaCookie.json<EchoBody>().headers.cookie).toBe('theme=dark')
    const viaQuery = await p.run({ url: `/x?a=1&access_token=${token}` })
    expect(viaQuery.status).toBe(200)
    expect(viaQuery.json<EchoBody>().upstreamPath).toBe('/x?a=1')
  })
})

describe('jwt: verified-token cache (ES256, whose uncached verification is asynchronous)', () => {
  let esOptions: JwtOptions
  let es256: (payload?: JWTPayload) => Promise<string>
  beforeAll(async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
    esOptions = { algorithms: ['ES256'], publicKey: await exportSPKI(publicKey) }
    es256 = (payload = claims()) => new SignJWT(payload).setProtectedHeader({ alg: 'ES256' }).sign(privateKey)
  })

  it('answers a reused token synchronously, without verifying it again', async () => {
    const clock = createManualClock(NOW)
    const handlers = await jwt.definition.create(jwt(esOptions).options, setupFor(clock))
    const token = await es256()
    const first = handlers.onRequest!(
      createTestExchange({ headers: { authorization: `Bearer ${token}` } }, { clock }),
    )
    expect(first).toBeInstanceOf(Promise)
    await first
    const ex = createTestExchange({ headers: { authorization: `Bearer ${token}` } }, { clock })
    const second = handlers.onRequest!(ex)
    expect(second).toBeUndefined()
    expect(ex.get(principalKey)?.subject).toBe('user-1')
  })

  it('never serves a cached token past its exp', async () => {
    const clock = createManualClock(NOW)
    const handlers = await jwt.definition.create(jwt(esOptions).options, setupFor(clock))
    const token = await es256(claims({ exp: nowSec + 60 }))
    await handlers.onRequest!(
      createTestExchange({ headers: { authorization: `Bearer ${token}` } }, { clock }),
    )
    clock.advance(60_000)
    const late = handlers.onRequest!(
      createTestExchange({ headers: { authorization: `Bearer ${token}` } }, { clock }),
    )
    await expect(late).rejects.toMatchObject({
      code: authErrors.invalidToken.code,
      message: 'The access token expired',
    })
  })

  it('can be disabled', async () => {
    const clock = createManualClock(NOW)
    const handlers = await jwt.definition.create(
      jwt({ ...esOptions, cache: { enabled: false } }).options,
      setupFor(clock),
    )
    const token = await es256()
    await handlers.onRequest!(
      createTestExchange({ headers: { authorization: `Bearer ${token}` } }, { clock }),
    )
    const again = handlers.onRequest!(
      createTestExchange({ headers: { authorization: `Bearer ${token}` } }, { clock }),
    )
    expect(again).toBeInstanceOf(Promise)
    await again
  })
})

describe('jwt: HMAC tokens are verified synchronously (node:crypto), cached or not', () => {
  it('accepts and refuses without a promise, with the same reasons as jose', async () => {
    const clock = createManualClock(NOW)
    const handlers = await jwt.definition.create(
      jwt({ ...hsOptions, cache: { enabled: false } }).options,
      setupFor(clock),
    )
    const ex = createTestExchange({ headers: { authorization: `Bearer ${await hs256()}` } }, { clock })
    expect(handlers.onRequest!(ex)).toBeUndefined()
    expect(ex.get(principalKey)?.subject).toBe('user-1')
    const expired = await hs256(claims({ exp: nowSec - 1 }))
    let denial: unknown
    try {
      handlers.onRequest!(createTestExchange({ headers: { authorization: `Bearer ${expired}` } }, { clock }))
    } catch (error) {
      denial = error
    }
    expect(denial).toMatchObject({
      code: authErrors.invalidToken.code,
      message: 'The access token expired',
      decision: { reason: 'expired' },
    })
  })

  it('refuses a secret shorter than the hash of an allowed HS algorithm (RFC 7518 §3.2)', () => {
    expect(() => jwt({ algorithms: ['HS512'], secret: SECRET })).toThrow(
      /jwt\.options\.secret: HS512 needs a secret of at least 64 bytes \(RFC 7518 §3\.2\); this one has 45/,
    )
    expect(() =>
      jwt({ algorithms: ['HS256'], secret: Buffer.alloc(24).toString('base64'), secretEncoding: 'base64' }),
    ).toThrow(/HS256 needs a secret of at least 32 bytes/)
    expect(() => jwt({ algorithms: ['HS256', 'HS384'], secret: 'x'.repeat(48) })).not.toThrow()
  })
})

describe('jwt: denials (RFC 6750)', () => {
  it('answers 401 with a bare Bearer challenge when no token is sent', async () => {
    const p = await pipeline({ ...hsOptions, realm: 'orders' })
    const res = await p.run()
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="orders"')
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(res.json()).toMatchObject({
      code: 'GW_ERR_AUTH_MISSING',
      status: 401,
      requestId: 'test-request-id',
    })
    expect(res.upstreamCalls).toBe(0)
  })

  it('answers invalid_token with a safe description that does not say why the signature failed', async () => {
    const p = await pipeline(hsOptions)
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode('another-secret-that-is-long-enough-too!!'))
    const res = await p.run({ headers: { authorization: `Bearer ${token}` } })
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="gw", error="invalid_token", error_description="The access token is invalid"',
    )
    expect(res.text).not.toMatch(/signature/i)
  })

  it('writes audit events with the reason and never the token', async () => {
    const p = await pipeline(hsOptions)
    const good = await hs256()
    const bad = `${good.slice(0, -4)}AAAA`
    await p.run({ headers: { authorization: `Bearer ${good}` }, ip: '10.0.0.9' })
    await p.run({ headers: { authorization: `Bearer ${bad}` }, ip: '10.0.0.9' })
    const events = p.log.entries.filter((e) => String(e.fields.event).startsWith('auth.'))
    expect(events.map((e) => [e.fields.event, e.fields.reason ?? e.fields.subject])).toEqual([
      ['auth.success', 'user-1'],
      ['auth.failure', 'bad-signature'],
    ])
    expect(events[0]?.fields).toMatchObject({
      policy: 'jwt',
      route: 'test',
      ip: '10.0.0.9',
      reqId: 'test-request-id',
    })
    const dump = p.log.dump()
    expect(dump).not.toContain(good.split('.')[2])
    expect(dump).not.toContain(bad.split('.')[2])
  })

  it('lets a failing request through in report mode, without a principal', async () => {
    const p = await pipeline(hsOptions, { mode: 'report' })
    const res = await p.run({ headers: { authorization: 'Bearer not.a.token' } })
    expect(res.status).toBe(200)
    expect(res.json<EchoBody>().principal).toBeNull()
    expect(p.log.entries.some((e) => e.msg === 'report mode: request would have been denied')).toBe(true)
  })
})

describe('jwt: forwarding claims', () => {
  it('forwards selected claims and removes spoofed copies of those headers', async () => {
    const p = await pipeline({
      ...hsOptions,
      forwardClaims: { sub: 'X-User-Id', roles: 'x-user-roles', tenant: 'x-tenant' },
    })
    const token = await hs256(claims({ roles: ['admin', 'ops'] }))
    const res = await p.run({
      headers: { authorization: `Bearer ${token}`, 'x-user-id': 'spoofed', 'x-tenant': 'spoofed' },
    })
    const headers = res.json<EchoBody>().headers
    expect(headers['x-user-id']).toBe('user-1')
    expect(headers['x-user-roles']).toBe('admin ops')
    expect(headers['x-tenant']).toBeUndefined()
    const failed = await (
      await pipeline({ ...hsOptions, forwardClaims: { sub: 'x-user-id' } }, { mode: 'report' })
    ).run({
      headers: { authorization: 'Bearer a.b.c', 'x-user-id': 'spoofed' },
    })
    expect(failed.json<EchoBody>().headers['x-user-id']).toBeUndefined()
  })

  it('keeps the Authorization header unless stripCredential is set', async () => {
    const token = await hs256()
    const kept = await (await pipeline(hsOptions)).run({ headers: { authorization: `Bearer ${token}` } })
    expect(kept.json<EchoBody>().headers.authorization).toBe(`Bearer ${token}`)
    const stripped = await (await pipeline({ ...hsOptions, stripCredential: true })).run({
      headers: { authorization: `Bearer ${token}` },
    })
    expect(stripped.json<EchoBody>().headers.authorization).toBeUndefined()
  })
})

describe('jwt: options', () => {
  it.each([
    [{ algorithms: ['RS256'], secret: SECRET }, 'RS256 cannot be verified with an HMAC secret'],
    [{ algorithms: ['HS256'], jwksUri: 'https://idp.test/jwks' }, 'HS256 needs a shared secret'],
    [{ algorithms: ['HS256'], secret: 'short' }, 'at least 32 bytes'],
    [{ algorithms: ['HS256'] }, 'exactly one key source'],
    [{ algorithms: ['HS256'], secret: SECRET, jwksUri: 'https://idp.test/jwks' }, 'exactly one key source'],
    [{ algorithms: ['none'], secret: SECRET }, 'algorithms[0]'],
    [{ algorithms: ['RS256'], discovery: true }, 'discovery needs a single issuer'],
    [
      { algorithms: ['RS256'], discovery: true, issuer: 'https://a', jwksUri: 'https://a/j' },
      'exactly one key source',
    ],
  ])('rejects %j at start-up', (options, message) => {
    expect(() => jwt(options as Parameters<typeof jwt>[0])).toThrow(message)
  })

  it('rejects a PEM that is not a public key when the policy is created', () => {
    expect(() =>
      jwt.definition.create(jwt({ algorithms: ['RS256'], publicKey: 'not a pem' }).options, setupFor()),
    ).toThrow(GatewayError)
  })
})

describe('jwt: discovery and telemetry', () => {
  it('fails at start-up when discovery fails or names another issuer', async () => {
    const wrongIssuer = async () => ({
      ok: true,
      status: 200,
      json: async () => ({ issuer: 'https://evil.test', jwks_uri: 'x' }),
    })
    await expect(
      createTestPipeline([jwt({ algorithms: ['RS256'], issuer: 'https://idp.test', discovery: true })], {
        resources: { authFetch: wrongIssuer },
      }),
    ).rejects.toMatchObject({ code: 'GW_ERR_AUTH_UNAVAILABLE' })
  })

  it('records allow and deny decisions with the reason on the gateway telemetry', async () => {
    const decisions: unknown[] = []
    const telemetry = {
      enabled: true,
      decision: (_ex: unknown, d: unknown) => decisions.push(d),
      count() {},
      observe() {},
    }
    const p = await createTestPipeline([jwt(hsOptions)], { clock: createManualClock(NOW), telemetry })
    await p.run({ headers: { authorization: `Bearer ${await hs256()}` } })
    await p.run({ headers: { authorization: `Bearer ${await hs256(claims({ exp: nowSec - 5 }))}` } })
    expect(decisions).toEqual([
      { policy: 'jwt', key: 'user-1', outcome: 'allow' },
      { policy: 'jwt', key: undefined, outcome: 'deny', reason: 'expired' },
    ])
  })
})
