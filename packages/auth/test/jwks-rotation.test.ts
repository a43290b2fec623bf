import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createManualClock } from '@gw/core/testing'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jwt } from '../src/index.js'
import { type Harness, startHarness } from './helpers/gateway.js'

/** A real JWKS endpoint on loopback whose key set and availability the test controls. */
let jwksServer: Server
let published: JWK[] = []
let hits = 0
let down = false
let jwksUrl = ''

const clock = createManualClock(Date.now())
const keys: Record<string, { privateKey: CryptoKey; jwk: JWK }> = {}
let h: Harness

async function makeKey(kid: string) {
  const pair = await generateKeyPair('ES256', { extractable: true })
  keys[kid] = {
    privateKey: pair.privateKey,
    jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256', use: 'sig' },
  }
}

const sign = (kid: string) =>
  new SignJWT({ sub: `user-${kid}` })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .setExpirationTime(Math.floor(clock.now() / 1000) + 3600)
    .sign(keys[kid]!.privateKey)

const call = async (token: string) =>
  (await fetch(`${h.url}/api/x`, { headers: { authorization: `Bearer ${token}` } })).status

beforeAll(async () => {
  await Promise.all(['a', 'b', 'c', 'x'].map(makeKey))
  jwksServer = createServer((_req, res) => {
    hits++
    if (down) {
      res.writeHead(503).end()
      return
    }
    res
      .writeHead(200, { 'content-type': 'application/jwk-set+json' })
      .end(JSON.stringify({ keys: published }))
  })
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks`
  published = [keys.a!.jwk]
  h = await startHarness({
    clock,
    routes: [
      {
        path: '/api/*',
        upstream: 'api',
        policies: [
          jwt({
            algorithms: ['ES256'],
            jwksUri: jwksUrl,
            jwksCooldown: '30s',
            jwksCacheMaxAge: '10m',
            cache: { enabled: false },
          }),
        ],
      },
    ],
  })
})

afterAll(async () => {
  await h.close()
  await new Promise((resolve) => jwksServer.close(resolve))
})

describe('remote JWKS over real HTTP', () => {
  it('loads the key set once and verifies with it', async () => {
    expect(await call(await sign('a'))).toBe(200)
    expect(await call(await sign('a'))).toBe(200)
    expect(hits).toBe(1)
  })

  it('picks up a rotated key on an unknown kid, at most once per cooldown', async () => {
    published = [keys.a!.jwk, keys.b!.jwk]
    clock.advance(31_000)
    expect(await call(await sign('b'))).toBe(200)
    expect(hits).toBe(2)
    const unknown = await sign('x')
    const statuses = []
    for (let i = 0; i < 5; i++) statuses.push(await call(unknown))
    expect(statuses).toEqual([401, 401, 401, 401, 401])
    expect(hits).toBe(2)
    clock.advance(31_000)
    expect(await call(unknown)).toBe(401)
    expect(hits).toBe(3)
  })

  it('stops accepting a key removed from the set after the next refresh', async () => {
    published = [keys.b!.jwk, keys.c!.jwk]
    clock.advance(10 * 60_000)
    expect(await call(await sign('c'))).toBe(200)
    expect(hits).toBe(4)
    expect(await call(await sign('a'))).toBe(401)
  })

  it('keeps verifying with the last good set when the endpoint fails', async () => {
    down = true
    clock.advance(10 * 60_000)
    const before = hits
    expect(await call(await sign('b'))).toBe(200)
    // The stale set is refreshed in the background; the request is answered with the current one.
    for (let i = 0; i < 200 && hits === before; i++) await new Promise((r) => setTimeout(r, 10))
    expect(hits).toBe(before + 1)
    expect(await call(await sign('b'))).toBe(200)
    down = false
  })

  it('answers 503 when no key set could ever be loaded', async () => {
    down = true
    const fresh = await startHarness({
      clock,
      routes: [
        { path: '/api/*', upstream: 'api', policies: [jwt({ algorithms: ['ES256'], jwksUri: jwksUrl })] },
      ],
    })
    try {
      const res = await fetch(`${fresh.url}/api/x`, {
        headers: { authorization: `Bearer ${await sign('b')}` },
      })
      expect(res.status).toBe(503)
      expect(((await res.json()) as { code: string }).code).toBe('GW_ERR_AUTH_UNAVAILABLE')
    } finally {
      down = false
      await fresh.close()
    }
  })
})
