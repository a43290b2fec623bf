import { request } from 'node:http'
import { createGateway, type Gateway } from '@gw/core'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { concurrencyLimit, rateLimit } from '../src/index.js'
import { parseList } from './helpers/structured-fields.js'

describe('rate-limit and concurrency-limit through a real gateway (memory stores)', () => {
  let upstream: FakeUpstream
  let gw: Gateway
  const releases: (() => void)[] = []

  beforeAll(async () => {
    upstream = await startFakeUpstream((req, res) => {
      if (req.url?.startsWith('/slow')) {
        releases.push(() => res.end('slow done'))
        return
      }
      if (req.url?.startsWith('/boom')) {
        res.socket?.destroy()
        return
      }
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('ok')
    })
    gw = await createGateway({
      server: { host: '127.0.0.1', port: 0 },
      upstreams: { api: { url: upstream.url } },
      routes: [
        {
          path: '/api/*',
          upstream: 'api',
          policies: [
            rateLimit({
              limit: 5,
              window: '1h',
              key: 'header',
              header: 'x-client',
              headers: { legacy: true },
            }),
          ],
        },
        {
          path: '/orders/*',
          upstream: 'api',
          policies: [
            rateLimit({
              limits: [
                { name: 'per-client', limit: 4, window: '1h', key: 'header', header: 'x-client' },
                { name: 'route', limit: 6, window: '1h', key: 'route' },
              ],
              cost: 2,
            }),
          ],
        },
        {
          path: '/slow/*',
          upstream: 'api',
          policies: [concurrencyLimit({ max: 2, key: 'header', header: 'x-client' })],
        },
        { path: '/boom/*', upstream: 'api', policies: [concurrencyLimit({ max: 1, key: 'global' })] },
      ],
    })
    await gw.listen()
  })

  afterAll(async () => {
    for (const release of releases) release()
    await gw.close()
    await upstream.close()
  })

  it('limits per client over HTTP with IETF and legacy headers, then 429 problem+json', async () => {
    const results = []
    for (let i = 0; i < 7; i++)
      results.push(await fetch(`${gw.url}/api/items`, { headers: { 'x-client': 'c1' } }))
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 429, 429])
    const first = results[0]!
    expect(first.headers.get('ratelimit-policy')).toBe('"default";q=5;w=3600')
    const [item] = parseList(first.headers.get('ratelimit')!)
    expect(item).toMatchObject({ value: 'default', params: { r: 4 } })
    expect(item!.params.t).toBeGreaterThan(0)
    expect(item!.params.t).toBeLessThanOrEqual(3600)
    expect(first.headers.get('x-ratelimit-limit')).toBe('5')
    expect(first.headers.get('x-ratelimit-remaining')).toBe('4')
    const denied = results[5]!
    expect(denied.headers.get('content-type')).toBe('application/problem+json')
    expect(Number(denied.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(denied.headers.get('ratelimit')).toMatch(/^"default";r=0;t=\d+$/)
    const body = (await denied.json()) as Record<string, unknown>
    expect(body).toMatchObject({ status: 429, code: 'GW_ERR_RATE_LIMITED' })
    expect(body.requestId).toBe(denied.headers.get('x-request-id'))
    expect((await fetch(`${gw.url}/api/items`, { headers: { 'x-client': 'c2' } })).status).toBe(200)
    for (const r of results) await r.arrayBuffer().catch(() => undefined)
    expect(upstream.requests.filter((r) => r.url === '/api/items')).toHaveLength(6)
  })

  it('several limits with cost: the route-wide limit binds across clients', async () => {
    const statuses = []
    for (const client of ['a', 'a', 'b', 'b']) {
      const res = await fetch(`${gw.url}/orders/1`, { headers: { 'x-client': client } })
      statuses.push(res.status)
      await res.arrayBuffer()
    }
    expect(statuses).toEqual([200, 200, 200, 429])
  })

  it('concurrency limit: 2 in flight per client, released after completion', async () => {
    const pending = [0, 1].map(() => fetch(`${gw.url}/slow/x`, { headers: { 'x-client': 's1' } }))
    await waitFor(() => releases.length === 2)
    const third = await fetch(`${gw.url}/slow/x`, { headers: { 'x-client': 's1' } })
    expect(third.status).toBe(429)
    expect(await third.json()).toMatchObject({ code: 'GW_ERR_CONCURRENCY_LIMITED' })
    expect(third.headers.get('ratelimit')).toBe('"concurrency";r=0')
    expect(third.headers.get('ratelimit-policy')).toBe('"concurrency";q=2;qu="concurrent-requests"')
    for (const release of releases.splice(0)) release()
    const done = await Promise.all(pending)
    expect(done.map((r) => r.status)).toEqual([200, 200])
    await Promise.all(done.map((r) => r.text()))
    const next = fetch(`${gw.url}/slow/x`, { headers: { 'x-client': 's1' } })
    await waitFor(() => releases.length === 1)
    for (const release of releases.splice(0)) release()
    expect((await next).status).toBe(200)
  })

  it('concurrency limit releases the slot when the client aborts', async () => {
    const controller = new AbortController()
    const aborted = fetch(`${gw.url}/slow/abort`, {
      headers: { 'x-client': 's2' },
      signal: controller.signal,
    }).catch((e: unknown) => e)
    const second = fetch(`${gw.url}/slow/abort`, { headers: { 'x-client': 's2' } })
    await waitFor(() => releases.length === 2)
    controller.abort()
    await aborted
    await new Promise((r) => setTimeout(r, 50))
    const a = fetch(`${gw.url}/slow/abort`, { headers: { 'x-client': 's2' } })
    await waitFor(() => releases.length === 3)
    for (const release of releases.splice(0)) release()
    expect((await second).status).toBe(200)
    expect((await a).status).toBe(200)
  })

  it('concurrency limit releases the slot when the upstream fails', async () => {
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push(await status(`${gw.url}/boom/x`))
    expect(statuses).toEqual([502, 502, 502])
  })
})

async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

function status(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
      .on('error', reject)
      .end()
  })
}
