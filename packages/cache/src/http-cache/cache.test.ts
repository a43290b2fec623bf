import { Readable } from 'node:stream'
import { type Exchange, type GwResponse, principalKey, type ResponseHeaders, type Upstream } from '@gw/core'
import {
  createManualClock,
  createTestPipeline,
  type ManualClock,
  type TestPipeline,
  type TestRequest,
} from '@gw/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { formatHttpDate } from '../semantics/http-date.js'
import { MemoryCacheStore } from '../store/memory.js'
import { cache } from './index.js'

type Origin = (ex: Exchange, call: number) => GwResponse | Promise<GwResponse>

interface Harness {
  clock: ManualClock
  pipeline: TestPipeline
  store: MemoryCacheStore
  calls: Exchange[]
  run(request?: TestRequest): ReturnType<TestPipeline['run']>
}

const open: TestPipeline[] = []
afterEach(async () => {
  for (const p of open.splice(0)) await p.close()
})

async function harness(
  origin: Origin,
  options: Parameters<typeof cache>[0] = {},
  extra: { resources?: Record<string, unknown>; policies?: ReturnType<typeof cache>[] } = {},
): Promise<Harness> {
  const clock = createManualClock(Date.UTC(2026, 0, 1))
  const store = new MemoryCacheStore({ clock })
  const calls: Exchange[] = []
  const pipeline = await createTestPipeline([...(extra.policies ?? []), cache({ store, ...options })], {
    clock,
    resources: extra.resources as never,
    upstream: (ex) => {
      calls.push(ex)
      return origin(ex, calls.length)
    },
  })
  open.push(pipeline)
  return { clock, pipeline, store, calls, run: (request = {}) => pipeline.run({ url: '/p/1', ...request }) }
}

function reply(status: number, headers: ResponseHeaders, body: string | null = 'body'): GwResponse {
  return {
    status,
    headers: { ...headers, ...(body === null ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
    body,
  }
}

const dated = (clock: ManualClock, headers: ResponseHeaders = {}): ResponseHeaders => ({
  date: formatHttpDate(clock.now()),
  ...headers,
})

describe('freshness', () => {
  it('serves a max-age response from cache with Age and Cache-Status, and refetches once stale', async () => {
    const h = await harness((_ex, n) =>
      reply(200, dated(h.clock, { 'cache-control': 'max-age=60' }), `v${n}`),
    )
    const first = await h.run()
    expect(first.text).toBe('v1')
    expect(first.headers['cache-status']).toBe('gw; fwd=uri-miss; fwd-status=200; stored; ttl=60')
    h.clock.advance(10_000)
    const second = await h.run()
    expect(second.text).toBe('v1')
    expect(second.upstreamCalls).toBe(0)
    expect(second.headers.age).toBe('10')
    expect(second.headers['cache-status']).toBe('gw; hit; ttl=50')
    h.clock.advance(50_000)
    const third = await h.run()
    expect(third.upstreamCalls).toBe(1)
    expect(third.text).toBe('v2')
  })

  it('prefers s-maxage over max-age in a shared cache', async () => {
    const h = await harness(() => reply(200, dated(h.clock, { 'cache-control': 'max-age=1, s-maxage=60' })))
    await h.run()
    h.clock.advance(30_000)
    expect((await h.run()).upstreamCalls).toBe(0)
  })

  it('uses Expires minus Date when there is no max-age', async () => {
    const h = await harness(() =>
      reply(200, dated(h.clock, { expires: formatHttpDate(h.clock.now() + 30_000) })),
    )
    await h.run()
    h.clock.advance(20_000)
    expect((await h.run()).upstreamCalls).toBe(0)
    h.clock.advance(11_000)
    expect((await h.run()).upstreamCalls).toBe(1)
  })

  it('treats an invalid Expires as already expired', async () => {
    const h = await harness(() => reply(200, dated(h.clock, { expires: '0' })))
    await h.run()
    expect((await h.run()).upstreamCalls).toBe(1)
  })

  it('treats an invalid max-age as stale, even with a valid Expires', async () => {
    const h = await harness(() =>
      reply(
        200,
        dated(h.clock, { 'cache-control': 'max-age=abc', expires: formatHttpDate(h.clock.now() + 60_000) }),
      ),
    )
    await h.run()
    expect((await h.run()).upstreamCalls).toBe(1)
  })

  it('applies the Last-Modified heuristic (10%) only to heuristically cacheable statuses', async () => {
    const tenDaysAgo = (c: ManualClock) => formatHttpDate(c.now() - 10 * 86_400_000)
    const ok = await harness(() => reply(200, dated(ok.clock, { 'last-modified': tenDaysAgo(ok.clock) })))
    await ok.run()
    ok.clock.advance(3_600_000)
    expect((await ok.run()).upstreamCalls).toBe(0)
    const moved = await harness(() =>
      reply(302, dated(moved.clock, { 'last-modified': tenDaysAgo(moved.clock), location: '/x' })),
    )
    await moved.run()
    expect((await moved.run()).upstreamCalls).toBe(1)
  })

  it('uses defaultTtl (CACHE_TTL_SECONDS) only for responses without explicit freshness', async () => {
    const h = await harness(
      (ex) =>
        ex.request.url === '/explicit'
          ? reply(200, dated(h.clock, { 'cache-control': 'max-age=0' }))
          : reply(200, dated(h.clock)),
      { defaultTtl: 30 },
    )
    await h.run()
    h.clock.advance(29_000)
    expect((await h.run()).upstreamCalls).toBe(0)
    h.clock.advance(2_000)
    expect((await h.run()).upstreamCalls).toBe(1)
    await h.run({ url: '/explicit' })
    expect((await h.run({ url: '/explicit' })).upstreamCalls).toBe(1)
  })

  it('stores nothing without explicit freshness when no defaultTtl is configured and no validator exists', async () => {
    const h = await harness(() => reply(200, dated(h.clock)))
    const first = await h.run()
    expect(first.headers['cache-status']).toContain('detail=no-freshness')
    expect((await h.run()).upstreamCalls).toBe(1)
  })

  it('computes Age from the upstream Age and the apparent age (RFC 9111 §4.2.3)', async () => {
    const h = await harness(() => reply(200, dated(h.clock, { 'cache-control': 'max-age=60', age: '30' })))
    await h.run()
    h.clock.advance(5_000)
    const hit = await h.run()
    expect(hit.headers.age).toBe('35')
    h.clock.advance(26_000)
    expect((await h.run()).upstreamCalls).toBe(1)
    const old = await harness(() =>
      reply(200, { date: formatHttpDate(old.clock.now() - 50_000), 'cache-control': 'max-age=60' }),
    )
    await old.run()
    old.clock.advance(11_000)
    expect((await old.run()).upstreamCalls).toBe(1)
  })
})

describe('storability', () => {
  it.each([
    ['no-store', 'no-store'],
    ['private', 'private'],
    ['max-age=60, private', 'private'],
  ])('does not store Cache-Control: %s', async (cc, reason) => {
    const h = await harness(() => reply(200, dated(h.clock, { 'cache-control': cc })))
    expect((await h.run()).headers['cache-status']).toContain(`detail=${reason}`)
    expect((await h.run()).upstreamCalls).toBe(1)
  })

  it('stores no-store responses with must-understand for an understood status', async () => {
    const h = await harness(() =>
      reply(200, dated(h.clock, { 'cache-control': 'max-age=60, no-store, must-understand' })),
    )
    await h.run()
    expect((await h.run()).upstreamCalls).toBe(0)
  })

  it('does not store when the request says no-store, but still serves stored responses', async () => {
    const h = await harness((_ex, n) =>
      reply(200, dated(h.clock, { 'cache-control': 'max-age=60' }), `v${n}`),
    )
    await h.run({ headers: { 'cache-control': 'no-store' } })
    expect((await h.run()).upstreamCalls).toBe(1)
    expect((await h.run({ headers: { 'cache-control': 'no-store' } })).upstreamCalls).toBe(0)
  })

  it('does not store Vary: *', async () => {
    const h = await harness(() => reply(200, dated(h.clock, { 'cache-control': 'max-age=60', vary: '*' })))
    await h.run()
    expect((await h.run()).upstreamCalls).toBe(1)
  })

  it('strips fields named by private="..." and Set-Cookie from the stored copy', async () => {
    const h = await harness(() =>
      reply(
        200,
        dated(h.clock, {
          'cache-control': 'max-age=60, private="x-secret"',
          'x-secret': 's',
          'set-cookie': 'sid=1',
        }),
      ),
    )
    const first = await h.run()
    expect(first.headers['set-cookie']).toBe('sid=1')
    const hit = await h.run()
    expect(hit.upstreamCalls).toBe(0)
    expect(hit.headers['x-secret']).toBeUndefined()
    expect(hit.headers['set-cookie']).toBeUndefined()
  })

  it('passes bodies over maxEntrySize through uncached, streamed', async () => {
    const big = Buffer.alloc(5000, 7)
    const h = await harness(
      () => ({
        status: 200,
        headers: dated(h.clock, { 'cache-control': 'max-age=60' }),
        body: Readable.from([big.subarray(0, 2500), big.subarray(2500)]),
      }),
      { maxEntrySize: 4000 },
    )
    const first = await h.run()
    expect(first.body.equals(big)).toBe(true)
    expect((await h.run()).upstreamCalls).toBe(1)
    const small = await harness(
      () => ({
        status: 200,
        headers: dated(small.clock, { 'cache-control': 'max-age=60' }),
        body: Readable.from([Buffer.from('ab'), Buffer.from('cd')]),
      }),
      { maxEntrySize: 4000 },
    )
    expect((await small.run()).text).toBe('abcd')
    const hit = await small.run()
    expect(hit.upstreamCalls).toBe(0)
    expect(hit.text).toBe('abcd')
  })
})

describe('authorization and principals', () => {
  it('neither stores nor reuses responses for requests with Authorization unless the response allows it', async () => {
    const h = await harness((ex) =>
      reply(
        200,
        dated(h.clock, {
          'cache-control': ex.request.url === '/public' ? 'public, max-age=60' : 'max-age=60',
        }),
      ),
    )
    const auth = { authorization: 'Bearer x' }
    expect((await h.run({ headers: auth })).headers['cache-status']).toContain('detail=authorization')
    expect((await h.run({ headers: auth })).upstreamCalls).toBe(1)
    await h.run()
    expect((await h.run()).upstreamCalls).toBe(0)
    expect((await h.run({ headers: auth })).upstreamCalls).toBe(1)
    await h.run({ url: '/public', headers: auth })
    expect((await h.run({ url: '/public', headers: auth })).upstreamCalls).toBe(0)
  })

  it('keeps a private cache per principal when perPrincipal is on', async () => {
    const setPrincipal = {
      definition: {
        name: 'fake-auth',
        stage: 'authn',
        schema: cache.definition.schema,
        state: () => ({ provides: [principalKey] }),
        create: () => ({
          onRequest(ex: Exchange) {
            const user = ex.request.headers['x-user']
            if (typeof user === 'string')
              ex.set(principalKey, { subject: user, scopes: [], claims: {}, method: 'api-key' })
          },
        }),
      },
      options: {},
      mode: 'enforce',
      allowOutOfOrder: false,
    } as unknown as ReturnType<typeof cache>
    const h = await harness(
      (ex) =>
        reply(
          200,
          dated(h.clock, { 'cache-control': 'private, max-age=60' }),
          String(ex.request.headers['x-user']),
        ),
      { perPrincipal: true },
      { policies: [setPrincipal] },
    )
    expect((await h.run({ headers: { 'x-user': 'alice' } })).text).toBe('alice')
    expect((await h.run({ headers: { 'x-user': 'bob' } })).text).toBe('bob')
    const again = await h.run({ headers: { 'x-user': 'alice' } })
    expect(again.upstreamCalls).toBe(0)
    expect(again.text).toBe('alice')
    expect((await h.run()).upstreamCalls).toBe(1)
  })
})

describe('request directives', () => {
  const fresh = (h: () => Harness) => () =>
    reply(200, dated(h().clock, { 'cache-control': 'max-age=100', etag: '"a"' }), 'stored')

  it('revalidates on request no-cache and Pragma: no-cache', async () => {
    let h!: Harness
    h = await harness((ex) =>
      ex.request.headers['if-none-match'] === '"a"'
        ? reply(304, dated(h.clock, { etag: '"a"', 'cache-control': 'max-age=100' }), null)
        : fresh(() => h)(),
    )
    await h.run()
    const revalidated = await h.run({ headers: { 'cache-control': 'no-cache' } })
    expect(revalidated.upstreamCalls).toBe(1)
    expect(h.calls[1]!.request.headers['if-none-match']).toBe('"a"')
    expect(revalidated.status).toBe(200)
    expect(revalidated.text).toBe('stored')
    expect(revalidated.headers['cache-status']).toContain('fwd=request; fwd-status=304')
    expect((await h.run({ headers: { pragma: 'no-cache' } })).upstreamCalls).toBe(1)
  })

  it('honours max-age, min-fresh and max-stale', async () => {
    let h!: Harness
    h = await harness(fresh(() => h))
    await h.run()
    h.clock.advance(50_000)
    expect((await h.run({ headers: { 'cache-control': 'max-age=60' } })).upstreamCalls).toBe(0)
    expect((await h.run({ headers: { 'cache-control': 'max-age=10' } })).upstreamCalls).toBe(1)
    h.clock.advance(50_000 - (h.clock.now() - Date.UTC(2026, 0, 1)) + 50_000)
    expect((await h.run({ headers: { 'cache-control': 'min-fresh=60' } })).upstreamCalls).toBe(1)
    h.clock.advance(120_000)
    const stale = await h.run({ headers: { 'cache-control': 'max-stale=100' } })
    expect(stale.upstreamCalls).toBe(0)
    expect(stale.headers['cache-status']).toContain('detail=max-stale')
    expect((await h.run({ headers: { 'cache-control': 'max-stale=5' } })).upstreamCalls).toBe(1)
  })

  it('never serves stale with must-revalidate, even when the client accepts stale', async () => {
    const h = await harness(() =>
      reply(200, dated(h.clock, { 'cache-control': 'max-age=10, must-revalidate' })),
    )
    await h.run()
    h.clock.advance(20_000)
    expect((await h.run({ headers: { 'cache-control': 'max-stale' } })).upstreamCalls).toBe(1)
  })

  it('answers only-if-cached from cache or with 504', async () => {
    let h!: Harness
    h = await harness(fresh(() => h))
    const missing = await h.run({ headers: { 'cache-control': 'only-if-cached' } })
    expect(missing.status).toBe(504)
    expect(missing.upstreamCalls).toBe(0)
    expect(missing.json<{ code: string }>().code).toBe('GW_ERR_CACHE_ONLY_IF_CACHED')
    await h.run()
    expect((await h.run({ headers: { 'cache-control': 'only-if-cached' } })).status).toBe(200)
  })
})

describe('validation', () => {
  it('revalidates a stale entry with If-None-Match and updates stored headers from the 304', async () => {
    const h = await harness((ex, n) =>
      ex.request.headers['if-none-match'] === '"v1"'
        ? reply(
            304,
            dated(h.clock, { etag: '"v1"', 'cache-control': 'max-age=30', 'x-version': String(n) }),
            null,
          )
        : reply(
            200,
            dated(h.clock, { etag: '"v1"', 'cache-control': 'max-age=10', 'x-version': '1' }),
            'original',
          ),
    )
    await h.run()
    h.clock.advance(15_000)
    const revalidated = await h.run()
    expect(revalidated.upstreamCalls).toBe(1)
    expect(revalidated.status).toBe(200)
    expect(revalidated.text).toBe('original')
    expect(revalidated.headers['x-version']).toBe('2')
    expect(revalidated.headers['content-length']).toBe('8')
    expect(revalidated.headers['cache-status']).toBe('gw; fwd=stale; fwd-status=304; stored; ttl=30')
    h.clock.advance(20_000)
    const hit = await h.run()
    expect(hit.upstreamCalls).toBe(0)
    expect(hit.headers['x-version']).toBe('2')
  })

  it('drops the stored response when the origin answers the revalidation with an unstorable one', async () => {
    const h = await harness((_ex, n) =>
      n === 1
        ? reply(200, dated(h.clock, { etag: '"a"', 'cache-control': 'max-age=10' }), 'old')
        : reply(200, dated(h.clock, { 'cache-control': 'no-store' }), 'new'),
    )
    await h.run()
    h.clock.advance(20_000)
    expect((await h.run()).text).toBe('new')
    const stale = await h.run({ headers: { 'cache-control': 'max-stale' } })
    expect(stale.upstreamCalls).toBe(1)
    expect(stale.text).toBe('new')
  })

  it('revalidates with If-Modified-Since when only Last-Modified is known', async () => {
    const lm = 'Mon, 01 Dec 2025 00:00:00 GMT'
    const h = await harness((ex) =>
      ex.request.headers['if-modified-since'] === lm
        ? reply(304, dated(h.clock), null)
        : reply(200, dated(h.clock, { 'last-modified': lm, 'cache-control': 'max-age=1' })),
    )
    await h.run()
    h.clock.advance(5_000)
    const res = await h.run()
    expect(h.calls[1]!.request.headers['if-modified-since']).toBe(lm)
    expect(res.status).toBe(200)
    expect(res.text).toBe('body')
  })

  it('always revalidates response no-cache, even while fresh', async () => {
    const h = await harness((ex) =>
      ex.request.headers['if-none-match']
        ? reply(304, dated(h.clock, { etag: '"n"' }), null)
        : reply(200, dated(h.clock, { etag: '"n"', 'cache-control': 'max-age=600, no-cache' })),
    )
    await h.run()
    const second = await h.run()
    expect(second.upstreamCalls).toBe(1)
    expect(second.text).toBe('body')
  })

  it("answers clients' conditional requests with 304 from a fresh entry", async () => {
    const lm = 'Mon, 01 Dec 2025 00:00:00 GMT'
    const h = await harness(() =>
      reply(200, dated(h.clock, { etag: 'W/"e1"', 'last-modified': lm, 'cache-control': 'max-age=60' })),
    )
    await h.run()
    const inm = await h.run({ headers: { 'if-none-match': '"x", "e1"' } })
    expect(inm.status).toBe(304)
    expect(inm.body.length).toBe(0)
    expect(inm.headers.etag).toBe('W/"e1"')
    expect(inm.upstreamCalls).toBe(0)
    expect((await h.run({ headers: { 'if-modified-since': lm } })).status).toBe(304)
    expect((await h.run({ headers: { 'if-none-match': '"other"' } })).status).toBe(200)
  })

  it('answers HEAD from a stored GET without a body', async () => {
    const h = await harness(() => reply(200, dated(h.clock, { 'cache-control': 'max-age=60' }), 'hello'))
    await h.run()
    const head = await h.run({ method: 'HEAD' })
    expect(head.upstreamCalls).toBe(0)
    expect(head.body.length).toBe(0)
    expect(head.headers['content-length']).toBe('5')
  })
})

describe('vary', () => {
  it('keeps one variant per selecting header value', async () => {
    const h = await harness((ex) =>
      reply(
        200,
        dated(h.clock, { 'cache-control': 'max-age=60', vary: 'Accept-Language' }),
        String(ex.request.headers['accept-language']),
      ),
    )
    await h.run({ headers: { 'accept-language': 'en' } })
    const de = await h.run({ headers: { 'accept-language': 'de' } })
    expect(de.upstreamCalls).toBe(1)
    expect(de.headers['cache-status']).toContain('fwd=vary-miss')
    expect((await h.run({ headers: { 'accept-language': 'en' } })).text).toBe('en')
    const again = await h.run({ headers: { 'accept-language': 'de' } })
    expect(again.text).toBe('de')
    expect(again.upstreamCalls).toBe(0)
    expect((await h.run()).upstreamCalls).toBe(1)
  })

  it('adds configured key headers to the key', async () => {
    const h = await harness(
      (ex) =>
        reply(200, dated(h.clock, { 'cache-control': 'max-age=60' }), String(ex.request.headers['x-tenant'])),
      {
        keyHeaders: ['X-Tenant'],
      },
    )
    await h.run({ headers: { 'x-tenant': 'a' } })
    expect((await h.run({ headers: { 'x-tenant': 'b' } })).text).toBe('b')
    expect((await h.run({ headers: { 'x-tenant': 'a' } })).upstreamCalls).toBe(0)
  })
})

describe('invalidation', () => {
  it('invalidates the target, Location and Content-Location after a successful unsafe request', async () => {
    const h = await harness((ex) =>
      ex.request.method === 'POST'
        ? reply(201, { location: '/p/2', 'content-location': 'http://gw.test/p/3' })
        : reply(200, dated(h.clock, { 'cache-control': 'max-age=60' })),
    )
    for (const url of ['/p/1', '/p/2', '/p/3', '/p/4']) await h.run({ url })
    await h.run({ method: 'POST', url: '/p/1', body: '{}' })
    for (const url of ['/p/1', '/p/2', '/p/3']) expect((await h.run({ url })).upstreamCalls, url).toBe(1)
    expect((await h.run({ url: '/p/4' })).upstreamCalls).toBe(0)
  })

  it('does not invalidate on errors or on foreign Location hosts', async () => {
    const h = await harness((ex) =>
      ex.request.method === 'DELETE'
        ? reply(500, {})
        : ex.request.method === 'PUT'
          ? reply(200, { location: 'http://elsewhere.test/p/2' })
          : reply(200, dated(h.clock, { 'cache-control': 'max-age=60' })),
    )
    await h.run({ url: '/p/1' })
    await h.run({ url: '/p/2' })
    await h.run({ method: 'DELETE', url: '/p/1' })
    expect((await h.run({ url: '/p/1' })).upstreamCalls).toBe(0)
    await h.run({ method: 'PUT', url: '/p/9' })
    expect((await h.run({ url: '/p/2' })).upstreamCalls).toBe(0)
  })
})

describe('RFC 5861', () => {
  it('serves stale on upstream errors within stale-if-error, not beyond and not with must-revalidate', async () => {
    let failing = false
    const h = await harness((ex) =>
      failing
        ? reply(503, {})
        : reply(
            200,
            dated(h.clock, {
              'cache-control':
                ex.request.url === '/strict'
                  ? 'max-age=10, must-revalidate, stale-if-error=60'
                  : 'max-age=10, stale-if-error=60',
            }),
            'good',
          ),
    )
    await h.run()
    await h.run({ url: '/strict' })
    failing = true
    h.clock.advance(30_000)
    const stale = await h.run()
    expect(stale.status).toBe(200)
    expect(stale.text).toBe('good')
    expect(stale.headers['cache-status']).toContain('detail=stale-if-error; fwd-status=503')
    expect((await h.run({ url: '/strict' })).status).toBe(503)
    h.clock.advance(60_000)
    expect((await h.run()).status).toBe(503)
  })

  it('serves stale within stale-while-revalidate and refreshes once in the background', async () => {
    const clock = createManualClock(Date.UTC(2026, 0, 1))
    let version = 1
    let backgroundCalls = 0
    let releaseBackground!: () => void
    const gate = new Promise<void>((r) => {
      releaseBackground = r
    })
    const upstream: Upstream = {
      name: 'up',
      async forward() {
        backgroundCalls++
        await gate
        version++
        return reply(
          200,
          { date: formatHttpDate(clock.now()), 'cache-control': 'max-age=10, stale-while-revalidate=60' },
          `v${version}`,
        )
      },
      close: async () => {},
    }
    const store = new MemoryCacheStore({ clock })
    const pipeline = await createTestPipeline([cache({ store })], {
      clock,
      upstreams: { up: upstream },
      upstream: () =>
        reply(
          200,
          { date: formatHttpDate(clock.now()), 'cache-control': 'max-age=10, stale-while-revalidate=60' },
          'v1',
        ),
    })
    open.push(pipeline)
    const run = () => pipeline.run({ url: '/p/1', route: { upstream: 'up' } })
    await run()
    clock.advance(20_000)
    const stale = await run()
    expect(stale.text).toBe('v1')
    expect(stale.upstreamCalls).toBe(0)
    expect(stale.headers['cache-status']).toContain('detail=stale-while-revalidate')
    expect((await run()).text).toBe('v1')
    expect(backgroundCalls).toBe(1)
    releaseBackground()
    await new Promise((r) => setTimeout(r, 20))
    const refreshed = await run()
    expect(refreshed.text).toBe('v2')
    expect(refreshed.headers['cache-status']).toContain('hit')
  })

  it('revalidates in the foreground when no upstreams resource is available', async () => {
    const h = await harness((_ex, n) =>
      reply(200, dated(h.clock, { 'cache-control': 'max-age=10, stale-while-revalidate=60' }), `v${n}`),
    )
    await h.run()
    h.clock.advance(20_000)
    const res = await h.run()
    expect(res.upstreamCalls).toBe(1)
    expect(res.text).toBe('v2')
  })
})

describe('coalescing', () => {
  it('sends 100 concurrent misses upstream once', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const h = await harness(async () => {
      await gate
      return reply(200, dated(h.clock, { 'cache-control': 'max-age=60' }), 'shared')
    })
    const all = Array.from({ length: 100 }, () => h.run())
    await new Promise((r) => setTimeout(r, 10))
    release()
    const results = await Promise.all(all)
    expect(h.calls).toHaveLength(1)
    expect(results.every((r) => r.status === 200 && r.text === 'shared')).toBe(true)
    expect(results.filter((r) => String(r.headers['cache-status']).startsWith('gw; hit;'))).toHaveLength(99)
  })

  it('lets followers go upstream themselves when the response is not storable', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const h = await harness(async (_ex, n) => {
      await gate
      return reply(200, dated(h.clock, { 'cache-control': 'no-store' }), `r${n}`)
    })
    const all = Array.from({ length: 5 }, () => h.run())
    await new Promise((r) => setTimeout(r, 10))
    release()
    const results = await Promise.all(all)
    expect(h.calls).toHaveLength(5)
    expect(new Set(results.map((r) => r.text)).size).toBe(5)
  })
})

describe('bypass', () => {
  it('skips the cache for configured paths and headers', async () => {
    const h = await harness(() => reply(200, dated(h.clock, { 'cache-control': 'max-age=60' })), {
      bypass: { paths: ['/admin'], headers: ['x-no-cache'] },
    })
    await h.run({ url: '/admin/x' })
    const second = await h.run({ url: '/admin/x' })
    expect(second.upstreamCalls).toBe(1)
    expect(second.headers['cache-status']).toBe('gw; fwd=bypass')
    await h.run()
    expect((await h.run({ headers: { 'x-no-cache': '1' } })).upstreamCalls).toBe(1)
  })
})

describe('telemetry', () => {
  it('counts hits, misses and revalidations with bounded labels', async () => {
    const counts: string[] = []
    const telemetry = {
      enabled: true,
      decision: () => {},
      count: (metric: string, _value: number, labels?: Record<string, string>) => {
        counts.push(`${metric}:${labels?.result}:${labels?.cache}`)
      },
      observe: () => {},
    }
    const clock = createManualClock(Date.UTC(2026, 0, 1))
    const pipeline = await createTestPipeline([cache({ store: new MemoryCacheStore({ clock }) })], {
      clock,
      telemetry,
      upstream: (ex) =>
        ex.request.headers['if-none-match']
          ? reply(304, { date: formatHttpDate(clock.now()) }, null)
          : reply(200, { date: formatHttpDate(clock.now()), etag: '"t"', 'cache-control': 'max-age=5' }),
    })
    open.push(pipeline)
    await pipeline.run({ url: '/t' })
    await pipeline.run({ url: '/t' })
    clock.advance(10_000)
    await pipeline.run({ url: '/t' })
    expect(counts).toEqual([
      'cache_requests:miss:gw',
      'cache_requests:hit:gw',
      'cache_requests:revalidated:gw',
    ])
  })
})
