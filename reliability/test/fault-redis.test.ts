import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { cache } from '@gw/cache'
import '@gw/cache/redis'
import { rateLimit } from '@gw/ratelimit'
import '@gw/ratelimit/redis'
import { Redis } from 'ioredis'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type EchoUpstream,
  type RunningGateway,
  startEchoUpstream,
  startGateway,
  waitFor,
} from './helpers/net.js'
import {
  type DelayProxy,
  freePort,
  type RedisServer,
  startDelayProxy,
  startRedisServer,
} from './helpers/redis.js'

const haveRedisServer = spawnSync('redis-server', ['--version']).status === 0
if (!haveRedisServer && process.env.CI === 'true')
  throw new Error('redis-server is required under CI=true (the Redis fault tests start their own)')

const prefix = `gw-reliability:${randomBytes(6).toString('hex')}:`

/** A gateway whose rate limits and cache live in Redis: one route per store-error mode, one tight limit. */
async function redisGateway(redis: Redis, upstream: EchoUpstream, tag: string): Promise<RunningGateway> {
  const store = (name: string) => ({ type: 'redis' as const, prefix: `${prefix}${tag}:${name}:` })
  const breaker = { failures: 3, cooldown: 200 }
  return startGateway({
    upstreams: { up: { url: upstream.url } },
    resources: { redis },
    routes: [
      {
        path: '/open/*',
        upstream: 'up',
        policies: [
          rateLimit({
            id: 'open',
            limit: 100_000,
            window: '1m',
            store: store('open'),
            onStoreError: 'open',
            breaker,
          }),
          cache({ store: 'redis', redis: { prefix: `${prefix}${tag}:cache:`, timeout: 100 } }),
        ],
      },
      {
        path: '/closed/*',
        upstream: 'up',
        policies: [
          rateLimit({
            id: 'closed',
            limit: 100_000,
            window: '1m',
            store: store('closed'),
            onStoreError: 'closed',
            breaker,
          }),
        ],
      },
      {
        path: '/tight/*',
        upstream: 'up',
        policies: [
          rateLimit({
            id: 'tight',
            limit: 3,
            window: '1m',
            store: store('tight'),
            key: 'header',
            header: 'x-client',
          }),
        ],
      },
    ],
  })
}

function client(port: number): Redis {
  const redis = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 100,
  })
  redis.on('error', () => {})
  redis.connect().catch(() => {})
  return redis
}

async function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await request(url, { headers })
  await res.body.text()
  return res.statusCode
}

async function cacheStatus(url: string): Promise<string> {
  const res = await request(url)
  await res.body.text()
  return String(res.headers['cache-status'] ?? '')
}

/** Polls until `url` answers `expected` (bounded), so recovery is awaited, not assumed after a sleep. */
function recovers(url: string, expected: number, headers: Record<string, string> = {}): Promise<boolean> {
  let last = 0
  const deadline = Date.now() + 10_000
  return (async () => {
    while (Date.now() < deadline) {
      last = await status(url, headers)
      if (last === expected) return true
      await new Promise((r) => setTimeout(r, 100))
    }
    return last === expected
  })()
}

describe.skipIf(!haveRedisServer)('Redis faults (own redis-server on a free loopback port)', () => {
  let upstream: EchoUpstream
  let port: number
  let server: RedisServer | undefined
  let redis: Redis
  let gw: RunningGateway

  beforeAll(async () => {
    upstream = await startEchoUpstream()
    upstream.respond = (_req, res, recorded) => {
      const body = JSON.stringify({ url: recorded.url })
      res.writeHead(200, {
        'content-type': 'application/json',
        'cache-control': 'public, max-age=60',
        'content-length': Buffer.byteLength(body),
      })
      res.end(body)
    }
    port = await freePort()
    redis = client(port)
    gw = await redisGateway(redis, upstream, 'main')
  })

  afterAll(async () => {
    await gw?.gateway.close()
    redis?.disconnect()
    await server?.kill()
    await upstream?.close()
  })

  it('Redis down at start: open serves, closed answers 503, no crash', async () => {
    for (let i = 0; i < 5; i++) {
      expect(await status(`${gw.url}/open/a`)).toBe(200)
      expect(await status(`${gw.url}/closed/a`)).toBe(503)
    }
  })

  it('Redis comes up: policies recover without a gateway restart; limits are enforced again', async () => {
    server = await startRedisServer(port)
    expect(await recovers(`${gw.url}/closed/a`, 200)).toBe(true)
    const client = `c-${randomBytes(4).toString('hex')}`
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push(await status(`${gw.url}/tight/x`, { 'x-client': client }))
    expect(statuses).toEqual([200, 200, 200, 429])
    expect(await cacheStatus(`${gw.url}/open/cached`)).not.toMatch(/hit/)
    let hit = false
    for (let i = 0; i < 50 && !hit; i++) {
      hit = /hit/.test(await cacheStatus(`${gw.url}/open/cached`))
      if (!hit) await new Promise((r) => setTimeout(r, 50))
    }
    expect(hit, 'the Redis cache serves hits again').toBe(true)
  })

  it('Redis killed under load: every request is answered per its mode (open 200, closed 200/503), no crash', async () => {
    const seen = { open: new Map<number, number>(), closed: new Map<number, number>() }
    let killed = false
    for (let batch = 0; batch < 10; batch++) {
      if (batch === 3) {
        await server?.kill()
        killed = true
      }
      const results = await Promise.all(
        Array.from({ length: 20 }, async (_v, i) => {
          const mode = i % 2 === 0 ? 'open' : 'closed'
          return [mode, await status(`${gw.url}/${mode}/load-${batch}-${i}`)] as const
        }),
      )
      for (const [mode, code] of results) seen[mode].set(code, (seen[mode].get(code) ?? 0) + 1)
    }
    expect(killed).toBe(true)
    expect([...seen.open.keys()]).toEqual([200])
    expect([...seen.closed.keys()].every((code) => code === 200 || code === 503)).toBe(true)
    expect(seen.closed.get(503) ?? 0).toBeGreaterThan(0)
    expect(await status(`${gw.url}/open/after-kill`)).toBe(200)
  })

  it('Redis restarted: closed routes and limits recover on the same client, no restart', async () => {
    server = await startRedisServer(port)
    expect(await recovers(`${gw.url}/closed/b`, 200)).toBe(true)
    const client = `c-${randomBytes(4).toString('hex')}`
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push(await status(`${gw.url}/tight/y`, { 'x-client': client }))
    expect(statuses).toEqual([200, 200, 200, 429])
  })

  describe('slow Redis (a TCP proxy that delays every reply past the store timeouts)', () => {
    let proxy: DelayProxy
    let slowRedis: Redis
    let slowGw: RunningGateway

    beforeAll(async () => {
      if (server === undefined || server.process.exitCode !== null) server = await startRedisServer(port)
      proxy = await startDelayProxy(port, 0)
      slowRedis = client(proxy.port)
      await waitFor(() => slowRedis.status === 'ready')
      slowGw = await redisGateway(slowRedis, upstream, 'slow')
    })
    afterAll(async () => {
      await slowGw?.gateway.close()
      slowRedis?.disconnect()
      await proxy?.close()
    })

    it('slow replies count as store errors: open 200 (cache reads as a miss), closed 503; recovery when fast again', async () => {
      expect(await status(`${slowGw.url}/closed/s`)).toBe(200)
      proxy.delay = 400
      const open: number[] = []
      const closed: number[] = []
      const cacheStatuses: string[] = []
      for (let i = 0; i < 6; i++) {
        open.push(await status(`${slowGw.url}/open/s-${i}`))
        closed.push(await status(`${slowGw.url}/closed/s-${i}`))
      }
      cacheStatuses.push(await cacheStatus(`${slowGw.url}/open/slow-cached`))
      expect(open.every((s) => s === 200)).toBe(true)
      expect(closed.every((s) => s === 503)).toBe(true)
      expect(cacheStatuses[0]).not.toMatch(/hit/)
      proxy.delay = 0
      expect(await recovers(`${slowGw.url}/closed/s-back`, 200)).toBe(true)
    })
  })
})
