import { createHash } from 'node:crypto'
import { createGateway, type Logger } from '@gw/core'
import { createManualClock, freePort } from '@gw/core/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { concurrencyLimit, rateLimit } from '../src/index.js'
import { createRedisConcurrencyStore, createRedisStore } from '../src/redis/index.js'
import { ACQUIRE_SCRIPT, CONSUME_SCRIPT } from '../src/redis/scripts.js'
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

describe('start-up warm-up: connection up and scripts loaded before the gateway listens', () => {
  const sha = (lua: string) => createHash('sha1').update(lua).digest('hex')
  const policies = [
    rateLimit({ limit: 5, window: '1m', store: { type: 'redis' } }),
    concurrencyLimit({ max: 5, store: { type: 'redis' } }),
  ]

  it('creating the policies waits for a connecting client and loads both Lua scripts into Redis', async () => {
    const port = await freePort()
    const server = await startRedisServer(port)
    const client = new Redis({ port, host: '127.0.0.1', enableOfflineQueue: false, maxRetriesPerRequest: 0 })
    client.on('error', () => {})
    try {
      expect(client.status).not.toBe('ready')
      const gw = await createGateway({ resources: { redis: client }, routes: [], policies })
      expect(client.status).toBe('ready')
      expect(await client.script('EXISTS', sha(CONSUME_SCRIPT), sha(ACQUIRE_SCRIPT))).toEqual([1, 1])
      await gw.close()
    } finally {
      client.disconnect()
      await server.stop()
    }
  })

  it('a Redis that refuses scripts (ACL without @scripting) fails the start with a coded error', async () => {
    const port = await freePort()
    const server = await startRedisServer(port)
    const admin = connect(port)
    const client = connect(port)
    try {
      await ready(admin)
      await ready(client)
      await admin.call('ACL', 'SETUSER', 'default', '-@scripting')
      await expect(
        createGateway({ resources: { redis: client }, routes: [], policies }),
      ).rejects.toMatchObject({
        code: 'GW_ERR_RATE_LIMIT_STORE_REFUSED',
      })
    } finally {
      admin.disconnect()
      client.disconnect()
      await server.stop()
    }
  })

  it('an unreachable Redis delays the start by startupWait, then the policies start on their fallback (logged)', async () => {
    const port = await freePort()
    const client = new Redis({
      port,
      host: '127.0.0.1',
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    })
    client.on('error', () => {})
    const warnings: string[] = []
    const log = {
      warn: (_o: unknown, message: string) => warnings.push(message),
      info: () => {},
      error: () => {},
      debug: () => {},
      trace: () => {},
      fatal: () => {},
      child: () => log,
      level: 'info',
    } as unknown as Logger
    try {
      const started = Date.now()
      const gw = await createGateway({
        logger: log,
        resources: { redis: client },
        routes: [],
        policies: [
          rateLimit({ limit: 5, window: '1m', store: { type: 'redis', startupWait: 300 } }),
          rateLimit({ limit: 9, window: '1m', store: { type: 'redis', startupWait: 300 } }),
          concurrencyLimit({ max: 5, store: { type: 'redis', startupWait: 300 } }),
        ],
      })
      expect(Date.now() - started).toBeGreaterThanOrEqual(290)
      expect(warnings.filter((w) => /store not reachable at start-up/.test(w))).toHaveLength(3)
      await gw.close()
    } finally {
      client.disconnect()
    }
  })
})
