import { createManualClock } from '@gw/core/testing'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createRedisConcurrencyStore, createRedisStore } from '../src/redis/index.js'
import { concurrencyStoreContract, rateLimitStoreContract } from '../src/testing/index.js'
import {
  cleanup,
  connect,
  prefixed,
  ready,
  redisAvailable,
  startRedisServer,
  testPrefix,
} from './helpers/redis.js'

const available = await redisAvailable()
const prefix = testPrefix()

describe.skipIf(!available)('redis store', () => {
  let client: Redis
  beforeAll(async () => {
    client = connect()
    await ready(client)
  })
  afterAll(async () => {
    await cleanup(client, prefix)
    client.disconnect()
  })

  rateLimitStoreContract({
    name: 'redis',
    create: ({ clock }) =>
      prefixed(createRedisStore(client, { clock }), `${prefix}${Math.random().toString(36).slice(2)}:`),
  })
  concurrencyStoreContract({
    name: 'redis',
    create: ({ clock }) => {
      const store = createRedisConcurrencyStore(client, { clock })
      const run = `${prefix}cc:${Math.random().toString(36).slice(2)}:`
      return {
        kind: store.kind,
        acquire: (key, max, lease) => store.acquire(run + key, max, lease),
        release: (key, lease) => store.release(run + key, lease),
      }
    },
  })

  it('sets TTLs so idle keys expire, and uses Redis TIME by default', async () => {
    const store = createRedisStore(client)
    const key = `${prefix}{ttl}:a`
    const spec = { algorithm: 'fixed-window', limit: 5, windowMs: 60_000, burst: 5 } as const
    const d = await store.consume([{ key, spec, cost: 1 }])
    expect(d.allowed).toBe(true)
    const ttl = await client.pttl(key)
    expect(ttl).toBeGreaterThan(0)
    expect(ttl).toBeLessThanOrEqual(60_001)
    const [seconds] = await client.time()
    const windowEnd = (Math.floor(Number(seconds) / 60) + 1) * 60_000
    expect(d.outcomes[0]!.resetMs).toBeLessThanOrEqual(windowEnd - Number(seconds) * 1000)
  })

  it('a denied request writes nothing', async () => {
    const store = createRedisStore(client, { clock: createManualClock() })
    const key = `${prefix}{deny}:a`
    const spec = { algorithm: 'gcra', limit: 1, windowMs: 60_000, burst: 1 } as const
    expect((await store.consume([{ key, spec, cost: 1 }])).allowed).toBe(true)
    const before = await client.get(key)
    expect((await store.consume([{ key, spec, cost: 1 }])).allowed).toBe(false)
    expect(await client.get(key)).toBe(before)
  })

  it('concurrency leases of a crashed holder expire', async () => {
    const clock = createManualClock()
    const store = createRedisConcurrencyStore(client, { clock })
    const key = `${prefix}{cc-expire}`
    expect((await store.acquire(key, 1, 1000)).acquired).toBe(true)
    expect((await store.acquire(key, 1, 1000)).acquired).toBe(false)
    clock.advance(1001)
    expect((await store.acquire(key, 1, 1000)).acquired).toBe(true)
  })
})

describe('redis store script loading (private redis-server)', () => {
  it('reloads the script after SCRIPT FLUSH (EVALSHA -> NOSCRIPT -> EVAL) and sends one command per decision', async () => {
    const server = await startRedisServer(7291)
    const client = connect(7291)
    try {
      await ready(client)
      const store = createRedisStore(client)
      const spec = { algorithm: 'token-bucket', limit: 10, windowMs: 1000, burst: 10 } as const
      const checks = [
        { key: '{a}:1', spec, cost: 1 },
        { key: '{a}:2', spec, cost: 1 },
      ]
      await client.config('RESETSTAT')
      for (let i = 0; i < 5; i++) expect((await store.consume(checks)).allowed).toBe(true)
      await client.script('FLUSH')
      expect((await store.consume(checks)).allowed).toBe(true)
      const stats = await client.info('commandstats')
      const stat = (name: string, field: string) =>
        Number(new RegExp(`cmdstat_${name}:.*\\b${field}=(\\d+)`).exec(stats)?.[1] ?? 0)
      // Six decisions: six successful script calls; the one NOSCRIPT reply was retried as EVAL.
      expect(stat('evalsha', 'failed_calls')).toBe(1)
      expect(stat('eval', 'calls') + stat('evalsha', 'calls') - stat('evalsha', 'failed_calls')).toBe(6)
    } finally {
      client.disconnect()
      await server.stop()
    }
  })
})
