import { createManualClock, createTestPipeline, type ManualClock } from '@gw/core/testing'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import type { AuthFetch } from '../shared/fetch.js'
import { jwt } from './index.js'
import { freshnessOf, RemoteJwks } from './remote-jwks.js'

// Key rotation and revocation with an injected transport and a manual clock: no network.

const URL = 'https://idp.test/jwks'
const T0 = Date.UTC(2026, 0, 1)
const keys: Record<string, { privateKey: CryptoKey; jwk: JWK }> = {}

beforeAll(async () => {
  for (const kid of ['a', 'b', 'c']) {
    const pair = await generateKeyPair('ES256', { extractable: true })
    keys[kid] = {
      privateKey: pair.privateKey,
      jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'ES256' },
    }
  }
})

/** A JWKS endpoint in memory: the published kids, the Cache-Control it sends, and the fetches it saw. */
function idp() {
  const state = {
    kids: ['a'] as string[],
    cacheControl: undefined as string | undefined,
    age: undefined as string | undefined,
    down: false,
    fetches: 0,
    /** When set, each fetch waits for this promise (to hold fetches in flight). */
    gate: undefined as Promise<void> | undefined,
  }
  const http: AuthFetch = async () => {
    state.fetches++
    if (state.gate !== undefined) await state.gate
    const headers = new Headers()
    if (state.cacheControl !== undefined) headers.set('cache-control', state.cacheControl)
    if (state.age !== undefined) headers.set('age', state.age)
    const body = { keys: state.kids.map((kid) => keys[kid]!.jwk) }
    return { ok: !state.down, status: state.down ? 503 : 200, json: async () => body, headers }
  }
  return { state, http }
}

const sign = (kid: string, clock: ManualClock) =>
  new SignJWT({ sub: `user-${kid}` })
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .setExpirationTime(Math.floor(clock.now() / 1000) + 3600)
    .sign(keys[kid]!.privateKey)

async function gateway(http: AuthFetch, clock: ManualClock, options: Record<string, unknown> = {}) {
  const pipeline = await createTestPipeline([jwt({ algorithms: ['ES256'], jwksUri: URL, ...options })], {
    clock,
    resources: { authFetch: http },
  })
  return {
    status: async (token: string) =>
      (await pipeline.run({ headers: { authorization: `Bearer ${token}` } })).status,
    close: pipeline.close,
  }
}

/** Lets background work (a refresh started by a request) finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('freshnessOf (Cache-Control and Age of a JWKS response)', () => {
  it('reads max-age, subtracts Age, treats no-cache and no-store as 0 and ignores the rest', () => {
    expect(freshnessOf('public, max-age=300', null)).toBe(300_000)
    expect(freshnessOf('max-age=300', '120')).toBe(180_000)
    expect(freshnessOf('max-age=60', '600')).toBe(0)
    expect(freshnessOf('no-cache', null)).toBe(0)
    expect(freshnessOf('private, no-store', null)).toBe(0)
    expect(freshnessOf('public', null)).toBeUndefined()
    expect(freshnessOf(null, '5')).toBeUndefined()
    expect(freshnessOf('max-age=abc', null)).toBeUndefined()
  })
})

describe('RemoteJwks: how long a key set is used', () => {
  const make = (http: AuthFetch, clock: ManualClock) =>
    new RemoteJwks({
      url: URL,
      timeout: 1000,
      maxAge: 50_000,
      minAge: 5_000,
      cooldown: 5_000,
      clock,
      fetch: http,
    })

  it("honours the set's max-age within [minAge, maxAge], and maxAge without one", async () => {
    for (const [cacheControl, age, lifetime] of [
      ['max-age=20', undefined, 20_000],
      ['max-age=30', '10', 20_000],
      ['max-age=3600', undefined, 50_000],
      ['no-cache', undefined, 5_000],
      [undefined, undefined, 50_000],
    ] as const) {
      const clock = createManualClock(T0)
      const { state, http } = idp()
      state.cacheControl = cacheControl
      state.age = age
      const jwks = make(http, clock)
      const token = await sign('a', clock)
      const verify = () => jwks.getKey({ alg: 'ES256', kid: 'a' }, { payload: token, signature: '' })
      await verify()
      expect(state.fetches).toBe(1)
      clock.advance(lifetime - 1)
      await verify()
      await settle()
      expect(state.fetches, `${cacheControl} / Age ${age}: still fresh`).toBe(1)
      clock.advance(1)
      await verify()
      await settle()
      expect(state.fetches, `${cacheControl} / Age ${age}: stale after ${lifetime} ms`).toBe(2)
    }
  })
})

describe('jwt with a remote JWKS: revocation and rotation', () => {
  it('refuses a cached token at once when a refresh finds its key removed', async () => {
    const clock = createManualClock(T0)
    const { state, http } = idp()
    state.kids = ['a', 'b']
    const gw = await gateway(http, clock)
    const tokenA = await sign('a', clock)
    const tokenB = await sign('b', clock)
    expect(await gw.status(tokenA)).toBe(200)
    expect(await gw.status(tokenB)).toBe(200)
    expect(await gw.status(tokenA)).toBe(200)
    expect(state.fetches).toBe(1)

    state.kids = ['b']
    clock.advance(50_000)
    // The request that finds the set stale is served from the cache while the refresh runs in the background.
    expect(await gw.status(tokenA)).toBe(200)
    await settle()
    expect(state.fetches).toBe(2)
    expect(await gw.status(tokenA)).toBe(401)
    expect(await gw.status(tokenB)).toBe(200)
    await gw.close()
  })

  it('refuses a removed key within the JWKS max-age when it is shorter than jwksCacheMaxAge', async () => {
    const clock = createManualClock(T0)
    const { state, http } = idp()
    state.kids = ['a', 'b']
    state.cacheControl = 'max-age=10'
    const gw = await gateway(http, clock)
    const tokenA = await sign('a', clock)
    expect(await gw.status(tokenA)).toBe(200)
    state.kids = ['b']
    clock.advance(10_000)
    await gw.status(tokenA)
    await settle()
    expect(await gw.status(tokenA)).toBe(401)
    await gw.close()
  })

  it('accepts a newly rotated kid after the short cooldown, not 30 s', async () => {
    const clock = createManualClock(T0)
    const { state, http } = idp()
    const gw = await gateway(http, clock)
    expect(await gw.status(await sign('a', clock))).toBe(200)
    state.kids = ['a', 'c']
    clock.advance(1_000)
    const tokenC = await sign('c', clock)
    expect(await gw.status(tokenC)).toBe(401)
    expect(state.fetches).toBe(1)
    clock.advance(4_000)
    expect(await gw.status(tokenC)).toBe(200)
    expect(state.fetches).toBe(2)
    await gw.close()
  })

  it('cannot be made to flood the issuer: concurrent unknown kids share one fetch, then the cooldown holds', async () => {
    const clock = createManualClock(T0)
    const { state, http } = idp()
    const gw = await gateway(http, clock, { cache: { enabled: false } })
    expect(await gw.status(await sign('a', clock))).toBe(200)
    clock.advance(10_000)
    let open: () => void = () => {}
    state.gate = new Promise<void>((resolve) => {
      open = resolve
    })
    const junk = await sign('b', clock)
    const burst = Array.from({ length: 50 }, () => gw.status(junk))
    await settle()
    open()
    expect(await Promise.all(burst)).toEqual(Array(50).fill(401))
    expect(state.fetches).toBe(2)
    state.gate = undefined
    for (let i = 0; i < 20; i++) expect(await gw.status(junk)).toBe(401)
    expect(state.fetches).toBe(2)
    clock.advance(5_000)
    expect(await gw.status(junk)).toBe(401)
    expect(state.fetches).toBe(3)
    await gw.close()
  })

  it('keeps the last good set while the endpoint fails and retries once per cooldown', async () => {
    const clock = createManualClock(T0)
    const { state, http } = idp()
    const gw = await gateway(http, clock)
    const token = await sign('a', clock)
    expect(await gw.status(token)).toBe(200)
    state.down = true
    clock.advance(50_000)
    expect(await gw.status(token)).toBe(200)
    await settle()
    expect(state.fetches).toBe(2)
    expect(await gw.status(token)).toBe(200)
    await settle()
    expect(state.fetches).toBe(2)
    clock.advance(5_000)
    expect(await gw.status(token)).toBe(200)
    await settle()
    expect(state.fetches).toBe(3)
    await gw.close()
  })
})
