import { randomUUID } from 'node:crypto'
import { requireRedis } from '@gw/core/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CentralizedGateway, startCentralizedGateway } from '../src/gateway.js'
import { rawRequest, testEnv, WITH_KEY } from './helpers/http.js'

const HOST = '127.0.0.1'
const PORT = 6379

/** Under CI=true a missing Redis fails the suite instead of skipping it. */
const available = await requireRedis({ host: HOST, port: PORT })

describe.skipIf(!available)('Redis mode (REDIS_HOST): two gateway instances share one Redis', () => {
  const prefix = `gw-e2e-${randomUUID()}:`
  const apps: CentralizedGateway[] = []
  let admin: Redis

  beforeAll(async () => {
    admin = new Redis({ host: HOST, port: PORT })
    for (let i = 0; i < 2; i++) {
      const env = await testEnv({
        REDIS_HOST: HOST,
        REDIS_PORT: String(PORT),
        RATE_LIMIT_MAX_REQUESTS: '4',
        RATE_LIMIT_WINDOW_MS: '3600000',
        CACHE_TTL_SECONDS: '60',
      })
      apps.push(await startCentralizedGateway({ env, port: 0, host: '127.0.0.1', redisKeyPrefix: prefix }))
    }
  })
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()))
    if (admin) {
      const keys = await admin.keys(`${prefix}*`)
      if (keys.length > 0) await admin.del(...keys)
      await admin.quit()
    }
  })

  it('shares the per-ip rate-limit counters between the instances', async () => {
    const [a, b] = apps as [CentralizedGateway, CentralizedGateway]
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) {
      const app = i % 2 === 0 ? a : b
      const res = await fetch(`${app.url}/api/users/1`, { headers: WITH_KEY })
      statuses.push(res.status)
      expect(res.headers.get('ratelimit')).toMatch(new RegExp(`(^|, )"per-ip";r=${3 - i};t=\\d+$`))
    }
    expect(statuses).toEqual([200, 200, 200, 200])
    // Four requests in total: each instance alone has seen only two, yet both refuse the fifth.
    const overA = await fetch(`${a.url}/api/users/1`, { headers: WITH_KEY })
    const overB = await fetch(`${b.url}/api/users/1`, { headers: WITH_KEY })
    expect([overA.status, overB.status]).toEqual([429, 429])
    expect(Number(overB.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
    // The counters are in Redis, under this gateway's prefix.
    expect((await admin.keys(`${prefix}rl:*`)).length).toBeGreaterThan(0)
  })

  it('closes the Redis client with the app', async () => {
    const env = await testEnv({ REDIS_HOST: HOST, REDIS_PORT: String(PORT) })
    const app = await startCentralizedGateway({ env, port: 0, host: '127.0.0.1', redisKeyPrefix: prefix })
    expect(app.redis?.status).toBe('ready')
    expect((await fetch(`${app.url}/api/products/1`, { headers: WITH_KEY })).status).toBe(200)
    await app.close()
    await expect.poll(() => app.redis?.status).toBe('end')
  })

  it('shares cached product responses between the instances (tiered store: memory in front of Redis)', async () => {
    const cachePrefix = `${prefix}cache-test:`
    const pair: CentralizedGateway[] = []
    try {
      for (let i = 0; i < 2; i++) {
        const env = await testEnv({ REDIS_HOST: HOST, REDIS_PORT: String(PORT), CACHE_TTL_SECONDS: '60' })
        pair.push(
          await startCentralizedGateway({ env, port: 0, host: '127.0.0.1', redisKeyPrefix: cachePrefix }),
        )
      }
      const [a, b] = pair as [CentralizedGateway, CentralizedGateway]
      // The cache key starts with the Host: behind a load balancer both instances see the same one.
      const headers = { ...WITH_KEY, host: 'api.example.com' }
      const first = await rawRequest(`${a.url}/api/products/3`, 'GET', headers)
      expect(first.headers['cache-status']).toMatch(/fwd=uri-miss; fwd-status=200; stored/)
      // The entry is written to Redis once the body has been copied.
      await expect.poll(async () => (await admin.keys(`${cachePrefix}cache:*`)).length).toBeGreaterThan(0)
      const second = await rawRequest(`${b.url}/api/products/3`, 'GET', headers)
      expect(second.headers['cache-status']).toMatch(/^gw; hit; ttl=\d+$/)
      expect(JSON.parse(second.body.toString('utf8'))).toMatchObject({ id: 3 })
    } finally {
      await Promise.all(pair.map((app) => app.close()))
    }
  })
})
