import { createManualClock } from '@gw/core/testing'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisCacheStore } from '../src/redis/index.js'
import { cacheStoreContract, testEntry } from '../src/store/contract.js'
import { MemoryCacheStore } from '../src/store/memory.js'
import { TieredCacheStore } from '../src/store/tiered.js'
import { cleanPrefix, connectRedis, uniquePrefix } from './redis-helpers.js'

let redis: Redis
const prefixes: string[] = []
beforeAll(async () => {
  redis = await connectRedis()
})
afterAll(async () => {
  for (const prefix of prefixes) await cleanPrefix(redis, prefix)
  redis.disconnect()
})

function freshPrefix(): string {
  const prefix = uniquePrefix()
  prefixes.push(prefix)
  return prefix
}

cacheStoreContract({
  name: 'redis',
  create: ({ clock }) => new RedisCacheStore(redis, { prefix: freshPrefix(), clock, timeout: 2000 }),
})
cacheStoreContract({
  name: 'tiered (memory over redis)',
  create: ({ clock }) =>
    new TieredCacheStore(
      new MemoryCacheStore({ clock }),
      new RedisCacheStore(redis, { prefix: freshPrefix(), clock, timeout: 2000 }),
      { clock, l1Ttl: 500 },
    ),
})

describe('RedisCacheStore keys', () => {
  it('hash-tags entry keys and sets a TTL equal to the stale horizon', async () => {
    const clock = createManualClock(Date.now())
    const prefix = freshPrefix()
    const store = new RedisCacheStore(redis, { prefix, clock, timeout: 2000 })
    await store.set(testEntry(clock.now(), { key: 'shop.test/p/{1}', expiresAt: clock.now() + 30_000 }))
    const key = `${prefix}e:{shop.test/p/%7B1%7D}`
    expect(await redis.exists(key)).toBe(1)
    const ttl = await redis.pttl(key)
    expect(ttl).toBeGreaterThan(25_000)
    expect(ttl).toBeLessThanOrEqual(30_000)
  })

  it('reads as a miss and drops writes when Redis is unreachable', async () => {
    const { Redis: Client } = await import('ioredis')
    const dead = new Client({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    })
    dead.on('error', () => {})
    const store = new RedisCacheStore(dead, { prefix: freshPrefix(), timeout: 200 })
    await expect(store.set(testEntry(Date.now()))).resolves.toBeUndefined()
    await expect(store.get('gw.test/products/1')).resolves.toEqual([])
    await expect(store.delete('gw.test/products/1')).resolves.toBe(0)
    dead.disconnect()
  })
})
