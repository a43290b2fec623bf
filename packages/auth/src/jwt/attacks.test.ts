import { createHmac } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createManualClock, createRecordingLogger, createTestPipeline } from '@gw/core/testing'
import {
  base64url,
  CompactEncrypt,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
} from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { principalEcho } from '../../test/helpers/principal-echo.js'
import { jwt } from './index.js'

/**
 * The attack suite: tokens an attacker can forge or replay, each of which must be answered 401 (or 400) and
 * never reach the upstream. Every case also checks which reason the audit log recorded, so a rejection for
 * the wrong reason fails the test.
 */

async function jwkOf(key: CryptoKey) {
  const jwk = await exportJWK(key)
  return { ...jwk, kty: jwk.kty ?? '' }
}

const SECRET = 'a-very-long-test-secret-of-at-least-32-bytes!'
const secret = new TextEncoder().encode(SECRET)
const NOW = Date.UTC(2026, 0, 1)
const nowSec = NOW / 1000
const claims = (extra: JWTPayload = {}): JWTPayload => ({
  sub: 'user-1',
  iat: nowSec,
  exp: nowSec + 600,
  ...extra,
})
const b64 = (value: unknown) => base64url.encode(JSON.stringify(value))

let rsa: Awaited<ReturnType<typeof generateKeyPair>>
let rsaPem: string
let attacker: Awaited<ReturnType<typeof generateKeyPair>>
let jkuServer: ReturnType<typeof createServer>
let jkuHits = 0

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true })
  rsaPem = await exportSPKI(rsa.publicKey)
  attacker = await generateKeyPair('RS256', { extractable: true })
  const attackerJwk = await jwkOf(attacker.publicKey)
  jkuServer = createServer((_req, res) => {
    jkuHits++
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ keys: [{ ...attackerJwk, kid: 'evil' }] }))
  })
  await new Promise<void>((resolve) => jkuServer.listen(0, '127.0.0.1', resolve))
})

afterAll(async () => {
  await new Promise((resolve) => jkuServer.close(resolve))
})

async function attempt(
  options: Parameters<typeof jwt>[0],
  token: string,
  headers: Record<string, string> = {},
) {
  const log = createRecordingLogger()
  const p = await createTestPipeline([jwt(options)], {
    clock: createManualClock(NOW),
    log,
    upstream: principalEcho,
  })
  const res = await p.run({ headers: { authorization: `Bearer ${token}`, ...headers } })
  const failure = log.entries.find((e) => e.fields.event === 'auth.failure')
  return { res, reason: failure?.fields.reason, upstreamCalls: res.upstreamCalls }
}

const hs = { algorithms: ['HS256' as const], secret: SECRET }
const rs = () => ({ algorithms: ['RS256' as const], publicKey: rsaPem })

describe('jwt attack suite', () => {
  it('rejects alg "none" (unsigned), with or without a signature part', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`
    const a = await attempt(hs, unsigned)
    expect([a.res.status, a.reason, a.upstreamCalls]).toEqual([401, 'malformed', 0])
    const withSig = `${b64({ alg: 'none' })}.${b64(claims())}.${base64url.encode('x')}`
    const b = await attempt(hs, withSig)
    expect([b.res.status, b.reason]).toEqual([401, 'alg-not-allowed'])
  })

  it('rejects HS256 tokens signed with the RSA public key (algorithm confusion)', async () => {
    const forged = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'HS256' })
      .sign(new TextEncoder().encode(rsaPem))
    const r = await attempt(rs(), forged)
    expect([r.res.status, r.reason, r.upstreamCalls]).toEqual([401, 'alg-not-allowed', 0])
  })

  it('rejects an RS256 token when only HS256 is allowed', async () => {
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey)
    const r = await attempt(hs, token)
    expect([r.res.status, r.reason]).toEqual([401, 'alg-not-allowed'])
  })

  it('rejects expired tokens and tokens not yet valid, honouring clockTolerance', async () => {
    const expired = await new SignJWT(claims({ exp: nowSec - 1 }))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(secret)
    const e = await attempt(hs, expired)
    expect([e.res.status, e.reason]).toEqual([401, 'expired'])
    expect(e.res.headers['www-authenticate']).toContain('error_description="The access token expired"')
    expect((await attempt({ ...hs, clockTolerance: '5s' }, expired)).res.status).toBe(200)
    const early = await new SignJWT(claims({ nbf: nowSec + 60 }))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(secret)
    const n = await attempt(hs, early)
    expect([n.res.status, n.reason]).toEqual([401, 'claim-nbf'])
  })

  it('rejects a wrong audience or issuer, and tokens lacking them when required', async () => {
    const opts = { ...hs, issuer: 'https://idp.test', audience: ['api', 'admin'] }
    const sign = (p: JWTPayload) => new SignJWT(claims(p)).setProtectedHeader({ alg: 'HS256' }).sign(secret)
    expect((await attempt(opts, await sign({ iss: 'https://idp.test', aud: 'admin' }))).res.status).toBe(200)
    expect((await attempt(opts, await sign({ iss: 'https://idp.test', aud: 'other' }))).reason).toBe(
      'claim-aud',
    )
    expect((await attempt(opts, await sign({ iss: 'https://evil.test', aud: 'api' }))).reason).toBe(
      'claim-iss',
    )
    expect((await attempt(opts, await sign({ aud: 'api' }))).reason).toBe('claim-iss')
    expect((await attempt(hs, await sign({ exp: undefined }))).reason).toBe('claim-exp')
    expect((await attempt(hs, await sign({ sub: undefined }))).reason).toBe('claim-sub')
  })

  it('rejects an unknown kid', async () => {
    const jwk = { ...(await jwkOf(rsa.publicKey)), kid: 'k1' }
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', kid: 'k2' })
      .sign(rsa.privateKey)
    const r = await attempt({ algorithms: ['RS256'], jwks: { keys: [jwk] } }, token)
    expect([r.res.status, r.reason]).toEqual([401, 'unknown-kid'])
  })

  it('ignores an embedded jwk header: the attacker key never verifies', async () => {
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', jwk: await jwkOf(attacker.publicKey) })
      .sign(attacker.privateKey)
    const r = await attempt(rs(), token)
    expect([r.res.status, r.reason]).toEqual([401, 'bad-signature'])
  })

  it('ignores a jku header: no fetch is made to the attacker URL', async () => {
    const { port } = jkuServer.address() as AddressInfo
    const token = await new SignJWT(claims())
      .setProtectedHeader({ alg: 'RS256', kid: 'evil', jku: `http://127.0.0.1:${port}/jwks` })
      .sign(attacker.privateKey)
    const before = jkuHits
    const r = await attempt(rs(), token)
    expect([r.res.status, r.reason]).toEqual([401, 'bad-signature'])
    expect(jkuHits).toBe(before)
  })

  it('rejects a token with an unknown crit header parameter', async () => {
    const input = `${b64({ alg: 'HS256', crit: ['http://evil.test/ext'], 'http://evil.test/ext': true })}.${b64(claims())}`
    const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
    const r = await attempt(hs, token)
    expect([r.res.status, r.reason]).toEqual([401, 'unsupported'])
  })

  it('rejects an oversized token before parsing it', async () => {
    const token = await new SignJWT(claims({ pad: 'x'.repeat(9000) }))
      .setProtectedHeader({ alg: 'HS256' })
      .sign(secret)
    const r = await attempt(hs, token)
    expect([r.res.status, r.reason]).toEqual([401, 'too-long'])
    expect((await attempt({ ...hs, maxTokenLength: 20_000 }, token)).res.status).toBe(200)
  })

  it('rejects a JWE (encrypted token) in place of a JWS', async () => {
    const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(claims())))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
      .encrypt(new Uint8Array(32))
    const r = await attempt(hs, jwe)
    expect([r.res.status, r.reason]).toEqual([401, 'jwe'])
  })

  it('rejects a tampered payload', async () => {
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(secret)
    const [h, , s] = token.split('.')
    const r = await attempt(hs, `${h}.${b64(claims({ sub: 'admin' }))}.${s}`)
    expect([r.res.status, r.reason]).toEqual([401, 'bad-signature'])
  })

  it('rejects duplicate credentials with 400 invalid_request, never "first wins"', async () => {
    const good = await new SignJWT(claims()).setProtectedHeader({ alg: 'HS256' }).sign(secret)
    const both = {
      ...hs,
      tokenFrom: [
        { in: 'header' as const, name: 'authorization', scheme: 'Bearer' },
        { in: 'query' as const, name: 'access_token' },
      ],
    }
    const log = createRecordingLogger()
    const p = await createTestPipeline([jwt(both)], { clock: createManualClock(NOW), log })
    const r1 = await p.run({ url: `/?access_token=${good}`, headers: { authorization: `Bearer ${good}` } })
    expect(r1.status).toBe(400)
    expect(r1.json()).toMatchObject({ code: 'GW_ERR_AUTH_DUPLICATE_CREDENTIALS' })
    expect(r1.headers['www-authenticate']).toContain('error="invalid_request"')
    const r2 = await p.run({ url: `/?access_token=${good}&access_token=${good}` })
    expect(r2.status).toBe(400)
    const cookie = await createTestPipeline([jwt({ ...hs, tokenFrom: [{ in: 'cookie', name: 't' }] })], {
      clock: createManualClock(NOW),
    })
    expect((await cookie.run({ headers: { cookie: `t=${good}; t=${good}` } })).status).toBe(400)
    const custom = await createTestPipeline(
      [jwt({ ...hs, tokenFrom: [{ in: 'header', name: 'x-token' }] })],
      { clock: createManualClock(NOW) },
    )
    expect((await custom.run({ headers: { 'x-token': `${good}, ${good}` } })).status).toBe(400)
    expect((await custom.run({ headers: { 'x-token': good } })).status).toBe(200)
  })

  it('rejects an empty bearer credential and a token with spaces as malformed (400)', async () => {
    const p = await createTestPipeline([jwt(hs)], { clock: createManualClock(NOW) })
    expect((await p.run({ headers: { authorization: 'Bearer ' } })).status).toBe(400)
    expect((await p.run({ headers: { authorization: 'Bearer a b' } })).status).toBe(400)
    const other = await p.run({ headers: { authorization: 'Basic dXNlcjpwYXNz' } })
    expect([other.status, other.json<{ code: string }>().code]).toEqual([401, 'GW_ERR_AUTH_MISSING'])
  })
})
