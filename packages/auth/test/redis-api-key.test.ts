import { randomBytes } from 'node:crypto'
import { createManualClock, createTestPipeline, requireRedis } from '@gw/core/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiKey, hashApiKey } from '../src/index.js'
import { revokeApiKey, saveApiKey } from '../src/redis/index.js'
import { principalEcho } from './helpers/principal-echo.js'

const prefix = `gw-test:auth:${randomBytes(6).toString('hex')}:`
const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 })
const available = await requireRedis({ host: '127.0.0.1', port: 6379 })

beforeAll(async () => {
  if (available) await redis.connect()
})

afterAll(async () => {
  if (available) {
    const keys = await redis.keys(`${prefix}*`)
    if (keys.length > 0) await redis.del(...keys)
  }
  redis.disconnect()
})

const pipeline = (client: Redis, cacheTtl = 0) =>
  createTestPipeline([apiKey({ redis: { prefix, cacheTtl } })], {
    clock: createManualClock(),
    resources: { redis: client },
    upstream: principalEcho,
  })

describe.skipIf(!available)('api-key with the Redis key store (real Redis)', () => {
  it('authenticates keys saved in Redis and stops after revocation', async () => {
    const key = `gw_${randomBytes(16).toString('hex')}`
    await saveApiKey(
      redis,
      { sha256: hashApiKey(key), id: 'ops-tool', plan: 'internal', scopes: ['admin'], keyId: 'k1' },
      prefix,
    )
    const p = await pipeline(redis)
    const ok = await p.run({ headers: { 'x-api-key': key } })
    expect(ok.status).toBe(200)
    expect(ok.json<{ principal: unknown }>().principal).toEqual({
      subject: 'ops-tool',
      consumer: 'ops-tool',
      scopes: ['admin'],
      claims: { plan: 'internal' },
      method: 'api-key',
    })
    expect(await revokeApiKey(redis, hashApiKey(key), prefix)).toBe(true)
    expect((await p.run({ headers: { 'x-api-key': key } })).status).toBe(401)
  })

  it('refuses unknown and expired keys; Redis expires the record too', async () => {
    const key = `gw_${randomBytes(16).toString('hex')}`
    const expiresAt = new Date(Date.UTC(2026, 0, 1) + 1000)
    await saveApiKey(
      redis,
      { sha256: hashApiKey(key), id: 'temp', expiresAt: new Date(Date.now() + 60_000) },
      prefix,
    )
    expect(await redis.pttl(prefix + hashApiKey(key))).toBeGreaterThan(0)
    await saveApiKey(redis, { sha256: hashApiKey(`${key}-old`), id: 'temp', expiresAt }, prefix)
    const p = await pipeline(redis)
    expect((await p.run({ headers: { 'x-api-key': key } })).status).toBe(200)
    expect((await p.run({ headers: { 'x-api-key': 'gw_unknown' } })).status).toBe(401)
    expect((await p.run({ headers: { 'x-api-key': `${key}-old` } })).status).toBe(401)
  })

  it('caches lookups for cacheTtl, so a hot key costs no round trip', async () => {
    const key = `gw_${randomBytes(16).toString('hex')}`
    await saveApiKey(redis, { sha256: hashApiKey(key), id: 'cached' }, prefix)
    const p = await pipeline(redis, 60_000)
    expect((await p.run({ headers: { 'x-api-key': key } })).status).toBe(200)
    await revokeApiKey(redis, hashApiKey(key), prefix)
    expect((await p.run({ headers: { 'x-api-key': key } })).status).toBe(200)
  })

  it('answers 503 when Redis is unreachable', async () => {
    const dead = new Redis({
      host: '127.0.0.1',
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    })
    dead.on('error', () => {})
    const p = await pipeline(dead)
    const res = await p.run({ headers: { 'x-api-key': 'gw_anything' } })
    expect([res.status, res.json<{ code: string }>().code]).toEqual([503, 'GW_ERR_AUTH_UNAVAILABLE'])
    dead.disconnect()
  })

  it('fails at start-up without a redis resource', async () => {
    await expect(createTestPipeline([apiKey({ redis: { prefix } })])).rejects.toMatchObject({
      code: 'GW_ERR_MISSING_RESOURCE',
    })
  })
})
