import { createGateway, type Gateway, type Telemetry } from '@gw/core'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rateLimit } from '../src/index.js'
import '../src/redis/index.js'
import { get } from './helpers/processes.js'
import { type RedisServer, startRedisServer } from './helpers/redis.js'

const PORT = 7292

describe('Redis killed mid-test: onStoreError decides, the breaker skips the dead store, recovery is automatic', () => {
  let server: RedisServer
  let redis: Redis
  let upstream: FakeUpstream
  let gw: Gateway
  const errors = { count: 0 }
  const telemetry: Telemetry = {
    enabled: true,
    decision: () => {},
    count: (name, value) => {
      if (name === 'ratelimit_store_errors') errors.count += value
    },
    observe: () => {},
  }
  const limited = (path: string) =>
    rateLimit({
      id: path,
      limit: 3,
      window: '3650d',
      key: 'header',
      header: 'x-client',
      store: { type: 'redis', prefix: 'gw-test:ratelimit:outage:' },
      onStoreError: path === 'open' ? 'open' : 'closed',
      timeout: 500,
      breaker: { failures: 3, cooldown: '5s' },
    })

  beforeAll(async () => {
    server = await startRedisServer(PORT)
    redis = new Redis({
      port: PORT,
      host: '127.0.0.1',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    })
    redis.on('error', () => {})
    await new Promise((resolve) => redis.once('ready', resolve))
    upstream = await startFakeUpstream((_req, res) => {
      res.end('ok')
    })
    gw = await createGateway({
      server: { host: '127.0.0.1', port: 0 },
      upstreams: { api: { url: upstream.url } },
      resources: { redis },
      telemetry,
      routes: [
        { path: '/open/*', upstream: 'api', policies: [limited('open')] },
        { path: '/closed/*', upstream: 'api', policies: [limited('closed')] },
      ],
    })
    await gw.listen()
  }, 30_000)

  afterAll(async () => {
    await gw.close()
    await upstream.close()
    redis.disconnect()
    await server.stop()
  })

  it('limits while Redis is up, with RateLimit headers from the Lua decision', async () => {
    const first = await fetch(`${gw.url}/open/x`, { headers: { 'x-client': 'a' } })
    await first.arrayBuffer()
    expect(first.status).toBe(200)
    expect(first.headers.get('ratelimit-policy')).toBe('"default";q=3;w=315360000')
    expect(first.headers.get('ratelimit')).toMatch(/^"default";r=2;t=\d+$/)
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push(await get(`${gw.url}/open/x`, { 'x-client': 'a' }))
    expect(statuses).toEqual([200, 200, 429])
  })

  it('after a kill: open decides locally (a known-denied key stays denied, a fresh key gets ceil(3 / 4) = 1), closed answers 503, and the breaker stops calling Redis', async () => {
    await server.stop()
    await waitFor(() => redis.status !== 'ready')
    const known = []
    for (let i = 0; i < 3; i++) known.push(await get(`${gw.url}/open/x`, { 'x-client': 'a' }))
    expect(known).toEqual([429, 429, 429])
    expect(errors.count).toBe(0)
    const fresh = []
    for (let i = 0; i < 6; i++) fresh.push(await get(`${gw.url}/open/x`, { 'x-client': 'b' }))
    expect(fresh).toEqual([200, 429, 429, 429, 429, 429])
    const closed = []
    for (let i = 0; i < 6; i++) closed.push(await get(`${gw.url}/closed/x`, { 'x-client': 'b' }))
    expect(closed).toEqual([503, 503, 503, 503, 503, 503])
    // Three failures per policy opened each breaker; the other requests never reached the client.
    expect(errors.count).toBe(6)
    expect(await get(`${gw.url}/health`)).toBe(200)
  })

  it('recovers by itself when Redis returns', async () => {
    server = await startRedisServer(PORT)
    await waitFor(() => redis.status === 'ready', 10_000)
    await new Promise((r) => setTimeout(r, 5100))
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push(await get(`${gw.url}/closed/x`, { 'x-client': 'c' }))
    expect(statuses).toEqual([200, 200, 200, 429])
  })
})

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
