import { createGateway, type Gateway } from '@gw/core'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { cache, cachePurge, MemoryCacheStore } from '../src/index.js'

const running: { close(): Promise<void> }[] = []
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.close()
})

const ADMIN_KEY = 'admin-key-for-purge-0123'

describe('cache-purge on the admin listener', () => {
  it('purges through POST <path> on the admin listener with the admin key', async () => {
    const upstream: FakeUpstream = await startFakeUpstream((req, res) => {
      res.writeHead(200, { 'cache-control': 'max-age=600', 'surrogate-key': `item-${req.url?.slice(1)}` })
      res.end(`v${upstream.requests.length}`)
    })
    running.push(upstream)
    const store = new MemoryCacheStore()
    const gw: Gateway = await createGateway({
      server: { host: '127.0.0.1', port: 0 },
      admin: { port: 0, apiKey: ADMIN_KEY },
      upstreams: { up: { url: upstream.url } },
      policies: [cachePurge({ apiKey: 'route-purge-key-0123456', name: 'admin-purge' })],
      routes: [{ path: '/*', upstream: 'up', policies: [cache({ store, name: 'admin-purge' })] }],
    })
    await gw.listen()
    running.push(gw)
    const get = async (path: string) => (await fetch(`${gw.url}${path}`)).text()
    expect(await get('/1')).toBe('v1')
    expect(await get('/1')).toBe('v1')
    const purge = (body: string, key = ADMIN_KEY) =>
      fetch(`${gw.adminUrl}/_cache/purge`, {
        method: 'POST',
        headers: { 'x-admin-key': key, 'content-type': 'application/json' },
        body,
      })
    expect((await purge('{"tag":"item-1"}', 'wrong-admin-key-000000')).status).toBe(401)
    expect(await get('/1')).toBe('v1')
    const bad = await purge('{"tag":"a","url":"b"}')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { code: string }).code).toBe('GW_ERR_CACHE_PURGE_BAD_REQUEST')
    const ok = await purge('{"tag":"item-1"}')
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ purged: 1 })
    expect(await get('/1')).toBe('v2')
    expect(upstream.requests).toHaveLength(2)
  })
})
