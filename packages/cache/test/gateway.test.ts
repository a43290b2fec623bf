import { request as httpRequest } from 'node:http'
import { createGateway, definePolicy, type Gateway, type GatewayOptions, z } from '@gw/core'
import { createManualClock, type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { cache, cachePurge, MemoryCacheStore, purgeCache } from '../src/index.js'

const running: { close(): Promise<void> }[] = []
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.close()
})

async function start(
  upstream: FakeUpstream,
  options: Partial<GatewayOptions> & { cacheOptions?: Parameters<typeof cache>[0] } = {},
): Promise<Gateway> {
  const { cacheOptions, ...rest } = options
  const gw = await createGateway({
    upstreams: { up: { url: upstream.url } },
    routes: [{ path: '/*', upstream: 'up', policies: [cache(cacheOptions)] }],
    ...rest,
  })
  await gw.listen({ port: 0, host: '127.0.0.1' })
  running.push(gw)
  return gw
}

/** A GET with node:http (fetch adds Cache-Control: no-cache to conditional requests). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function fake(handler: Parameters<typeof startFakeUpstream>[0]): Promise<FakeUpstream> {
  const upstream = await startFakeUpstream(handler)
  running.push(upstream)
  return upstream
}

describe('cache through a real gateway', () => {
  it('stores a miss and serves hits with Age, Cache-Status and identical bodies', async () => {
    let n = 0
    const upstream = await fake((_req, res) => {
      n++
      const body = `hello ${n}`
      res.writeHead(200, {
        'content-type': 'text/plain',
        'content-length': Buffer.byteLength(body),
        'cache-control': 'max-age=60',
        etag: '"a"',
      })
      res.end(body)
    })
    const gw = await start(upstream)
    const first = await fetch(`${gw.url}/products/1`)
    expect(first.headers.get('cache-status')).toMatch(/^gw; fwd=uri-miss; fwd-status=200; stored; ttl=\d+$/)
    expect(await first.text()).toBe('hello 1')
    const second = await fetch(`${gw.url}/products/1`)
    expect(await second.text()).toBe('hello 1')
    expect(second.headers.get('cache-status')).toMatch(/^gw; hit; ttl=\d+$/)
    expect(second.headers.get('age')).toMatch(/^\d+$/)
    expect(second.headers.get('content-type')).toBe('text/plain')
    expect(second.headers.get('x-request-id')).toBeTruthy()
    const head = await fetch(`${gw.url}/products/1`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(upstream.requests).toHaveLength(1)
    const conditional = await rawGet(`${gw.url}/products/1`, { 'if-none-match': '"a"' })
    expect(conditional.status).toBe(304)
    expect(conditional.body).toBe('')
    expect(upstream.requests).toHaveLength(1)
  })

  it('streams bodies over maxEntrySize to the client without storing them, and stores smaller chunked ones', async () => {
    const big = Buffer.alloc(256 * 1024, 'x')
    const upstream = await fake((req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=60' })
      if (req.url === '/big') {
        res.write(big.subarray(0, 100_000))
        setTimeout(() => res.end(big.subarray(100_000)), 20)
      } else {
        res.write('chunk-1;')
        res.end('chunk-2')
      }
    })
    const gw = await start(upstream, { cacheOptions: { maxEntrySize: 64 * 1024 } })
    const first = Buffer.from(await (await fetch(`${gw.url}/big`)).arrayBuffer())
    expect(first.equals(big)).toBe(true)
    const again = await fetch(`${gw.url}/big`)
    expect(Buffer.from(await again.arrayBuffer()).equals(big)).toBe(true)
    expect(again.headers.get('cache-status')).toContain('fwd=uri-miss')
    expect(upstream.requests).toHaveLength(2)
    expect(await (await fetch(`${gw.url}/small`)).text()).toBe('chunk-1;chunk-2')
    const hit = await fetch(`${gw.url}/small`)
    expect(await hit.text()).toBe('chunk-1;chunk-2')
    expect(hit.headers.get('cache-status')).toContain('hit')
    expect(hit.headers.get('content-length')).toBe('15')
    expect(upstream.requests).toHaveLength(3)
  })

  it('revalidates stale entries with the origin and serves the stored body on 304', async () => {
    const clock = createManualClock(Date.now())
    const upstream = await fake((req, res) => {
      if (req.headers['if-none-match'] === '"v1"') {
        res.writeHead(304, { etag: '"v1"', 'cache-control': 'max-age=10', 'x-checked': 'yes' })
        res.end()
        return
      }
      res.writeHead(200, { etag: '"v1"', 'cache-control': 'max-age=10', 'content-type': 'application/json' })
      res.end('{"id":1}')
    })
    const gw = await start(upstream, { clock })
    await (await fetch(`${gw.url}/products/1`)).text()
    clock.advance(15_000)
    const res = await fetch(`${gw.url}/products/1`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ id: 1 })
    expect(res.headers.get('x-checked')).toBe('yes')
    expect(res.headers.get('cache-status')).toContain('fwd=stale; fwd-status=304')
    expect(upstream.requests[1]!.headers['if-none-match']).toBe('"v1"')
  })

  it('coalesces 100 concurrent misses into one upstream request', async () => {
    const upstream = await fake((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'cache-control': 'max-age=60', 'content-type': 'text/plain' })
        res.end('one')
      }, 100)
    })
    const gw = await start(upstream)
    const bodies = await Promise.all(
      Array.from({ length: 100 }, () => fetch(`${gw.url}/products/hot`).then((r) => r.text())),
    )
    expect(bodies.every((b) => b === 'one')).toBe(true)
    expect(upstream.requests).toHaveLength(1)
  })

  it('lets collapsed requests proceed when the leading client goes away', async () => {
    const upstream = await fake((_req, res) => {
      setTimeout(() => {
        if (res.destroyed) return
        res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': '2' })
        res.end('ok')
      }, 150)
    })
    const gw = await start(upstream)
    const leader = httpRequest(`${gw.url}/slow`)
    leader.on('error', () => {})
    leader.end()
    await new Promise((r) => setTimeout(r, 30))
    const followers = Array.from({ length: 5 }, () =>
      fetch(`${gw.url}/slow`).then(async (r) => [r.status, await r.text()]),
    )
    await new Promise((r) => setTimeout(r, 30))
    leader.destroy()
    const results = await Promise.all(followers)
    expect(results).toEqual(Array.from({ length: 5 }, () => [200, 'ok']))
  })

  it('invalidates a cached URL after a successful POST to it', async () => {
    let version = 0
    const upstream = await fake((req, res) => {
      if (req.method === 'POST') version++
      res.writeHead(req.method === 'POST' ? 201 : 200, { 'cache-control': 'max-age=60' })
      res.end(`v${version}`)
    })
    const gw = await start(upstream)
    expect(await (await fetch(`${gw.url}/products/1`)).text()).toBe('v0')
    expect(await (await fetch(`${gw.url}/products/1`)).text()).toBe('v0')
    await (await fetch(`${gw.url}/products/1`, { method: 'POST', body: '{}' })).text()
    expect(await (await fetch(`${gw.url}/products/1`)).text()).toBe('v1')
  })

  it('serves stale within stale-if-error when the upstream is down', async () => {
    const clock = createManualClock(Date.now())
    const upstream = await startFakeUpstream((_req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=1, stale-if-error=300' })
      res.end('kept')
    })
    const gw = await start(upstream, { clock })
    await (await fetch(`${gw.url}/p`)).text()
    await upstream.close()
    clock.advance(10_000)
    const res = await fetch(`${gw.url}/p`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('kept')
    expect(res.headers.get('cache-status')).toContain('detail=stale-if-error; fwd-status=502')
  })

  it('refreshes stale-while-revalidate entries in the background through the upstreams resource core provides', async () => {
    const clock = createManualClock(Date.now())
    let version = 0
    const upstream = await fake((_req, res) => {
      version++
      res.writeHead(200, {
        'cache-control': version === 1 ? 'max-age=1, stale-while-revalidate=60' : 'max-age=600',
      })
      res.end(`v${version}`)
    })
    const gw = await createGateway({
      clock,
      upstreams: { up: { url: upstream.url } },
      routes: [{ path: '/*', upstream: 'up', policies: [cache()] }],
    })
    await gw.listen({ port: 0, host: '127.0.0.1' })
    running.push(gw)
    expect(await (await fetch(`${gw.url}/p`)).text()).toBe('v1')
    clock.advance(5_000)
    const stale = await fetch(`${gw.url}/p`)
    expect(await stale.text()).toBe('v1')
    expect(stale.headers.get('cache-status')).toContain('detail=stale-while-revalidate')
    let fresh = await fetch(`${gw.url}/p`)
    for (let i = 0; i < 200 && (await fresh.clone().text()) !== 'v2'; i++) {
      await new Promise((r) => setTimeout(r, 10))
      fresh = await fetch(`${gw.url}/p`)
    }
    expect(await fresh.text()).toBe('v2')
    expect(fresh.headers.get('cache-status')).toMatch(/^gw; hit; ttl=/)
    expect(upstream.requests).toHaveLength(2)
  })

  it('purges by tag, prefix and URL through the cache-purge endpoint, which requires the API key', async () => {
    const upstream = await fake((req, res) => {
      res.writeHead(200, {
        'cache-control': 'max-age=600',
        'surrogate-key': req.url?.startsWith('/products/')
          ? `products product-${req.url.slice(10)}`
          : 'other',
      })
      res.end(`at ${upstream.requests.length}`)
    })
    const store = new MemoryCacheStore()
    const apiKey = 'purge-key-0123456789'
    const gw = await start(upstream, {
      policies: [cachePurge({ apiKey, name: 'purge-test' })],
      routes: [{ path: '/*', upstream: 'up', policies: [cache({ store, name: 'purge-test' })] }],
    })
    const get = async (path: string) => (await fetch(`${gw.url}${path}`)).text()
    for (const path of ['/products/1', '/products/2', '/users/1']) await get(path)
    expect(upstream.requests).toHaveLength(3)
    const purge = (body: unknown, key = apiKey) =>
      fetch(`${gw.url}/_cache/purge`, {
        method: 'POST',
        headers: { 'x-api-key': key, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const denied = await purge({ tag: 'products' }, 'wrong-key-0123456789')
    expect(denied.status).toBe(401)
    expect(((await denied.json()) as { code: string }).code).toBe('GW_ERR_CACHE_PURGE_UNAUTHORIZED')
    expect((await purge({ tag: 'x', url: 'y' })).status).toBe(400)
    const byTag = await purge({ tag: 'product-1' })
    expect(await byTag.json()).toEqual({ purged: 1 })
    await get('/products/1')
    await get('/products/2')
    expect(upstream.requests).toHaveLength(4)
    expect(await (await purge({ prefix: `${new URL(gw.url).host}/products/` })).json()).toEqual({ purged: 2 })
    expect(await (await purge({ url: `${gw.url}/users/1` })).json()).toEqual({ purged: 1 })
    expect(await purgeCache(store, { tag: 'other' })).toBe(0)
  })

  it('refuses to start when the cache comes before authentication', async () => {
    const fakeAuth = definePolicy({
      name: 'fake-authn',
      stage: 'authn',
      schema: z.object({}).strict(),
      create: () => ({}),
    })
    const upstream = await fake((_req, res) => {
      res.end('x')
    })
    await expect(
      createGateway({
        upstreams: { up: { url: upstream.url } },
        routes: [{ path: '/*', upstream: 'up', policies: [cache(), fakeAuth()] }],
      }),
    ).rejects.toMatchObject({ code: 'GW_ERR_POLICY_ORDER' })
  })

  it('keeps raw multi-value headers intact on hits', async () => {
    const upstream = await fake((_req, res) => {
      res.setHeader('cache-control', 'max-age=60')
      res.setHeader('x-multi', ['a', 'b'])
      res.end('m')
    })
    const gw = await start(upstream)
    await (await fetch(`${gw.url}/m`)).text()
    const raw = await new Promise<string[]>((resolve, reject) => {
      const req = httpRequest(`${gw.url}/m`, (res) => {
        res.resume()
        res.on('end', () => resolve(res.rawHeaders))
      })
      req.on('error', reject)
      req.end()
    })
    const values = raw.filter((_v, i) => raw[i - 1]?.toLowerCase() === 'x-multi')
    expect(values).toEqual(['a', 'b'])
  })
})
