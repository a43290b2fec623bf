import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildGatewayFixture, burst, type GatewayProcess, startGatewayProcess } from './helpers/processes.js'
import {
  cleanup,
  connect,
  REDIS_HOST,
  REDIS_PORT,
  ready,
  redisAvailable,
  testPrefix,
} from './helpers/redis.js'

const available = await redisAvailable()
const LIMIT = 50
const BURST = 240

describe.skipIf(!available)('4 gateway processes sharing one Redis: admitted == limit exactly', () => {
  const prefix = testPrefix()
  let upstream: FakeUpstream
  let gateways: GatewayProcess[] = []
  let redis: Redis
  let urls: string[]
  const held: (() => void)[] = []

  beforeAll(async () => {
    redis = connect()
    await ready(redis)
    upstream = await startFakeUpstream((req, res) => {
      if (req.url?.startsWith('/cc/')) held.push(() => res.end('ok'))
      else res.end('ok')
    })
    const script = buildGatewayFixture()
    const env = {
      UPSTREAM: upstream.url,
      REDIS_NODES: `${REDIS_HOST}:${REDIS_PORT}`,
      PREFIX: prefix,
      LIMIT: String(LIMIT),
    }
    gateways = await Promise.all([0, 1, 2, 3].map(() => startGatewayProcess(script, env)))
    urls = gateways.map((g) => g.url)
  }, 120_000)

  afterAll(async () => {
    await Promise.all(gateways.map((g) => g.stop()))
    await upstream?.close()
    await cleanup(redis, prefix)
    redis.disconnect()
  })

  for (const [path, name] of [
    ['fw', 'fixed window'],
    ['tb', 'token bucket'],
    ['gcra', 'GCRA'],
  ] as const) {
    it(`${name}: ${BURST} concurrent requests over 4 processes admit exactly ${LIMIT}`, async () => {
      const result = await burst(urls, `/${path}/x`, BURST)
      expect(result).toEqual({ admitted: LIMIT, limited: BURST - LIMIT, other: 0, otherStatuses: [] })
      const again = await burst(urls, `/${path}/x`, 40)
      expect(again.admitted).toBe(0)
    })
  }

  it(`sliding window stays within its documented bound (at most ${LIMIT} in one window)`, async () => {
    const result = await burst(urls, '/sw/x', BURST)
    expect(result.other).toBe(0)
    expect(result.admitted).toBeLessThanOrEqual(LIMIT)
    expect(result.admitted).toBe(LIMIT)
  })

  it('two limits checked in one script call stay exact across processes', async () => {
    const a = burst(urls, '/multi/x', BURST / 2, { 'x-client': 'a' })
    const b = burst(urls, '/multi/x', BURST / 2, { 'x-client': 'b' })
    const [ra, rb] = await Promise.all([a, b])
    expect(ra.admitted + rb.admitted).toBe(LIMIT)
    expect(ra.other + rb.other).toBe(0)
    expect(await redis.exists(`${prefix}{multi}:all:*`)).toBe(1)
  })

  it('concurrency limit over Redis: exactly max in flight across processes, slots released on completion', async () => {
    const first = burst(urls, '/cc/x', 40)
    await waitFor(() => held.length === 5)
    const early = await Promise.race([first, new Promise((r) => setTimeout(() => r('pending'), 300))])
    expect(early).toBe('pending')
    for (const release of held.splice(0)) release()
    const result = await first
    expect(result).toEqual({ admitted: 5, limited: 35, other: 0, otherStatuses: [] })
    const second = burst(urls, '/cc/y', 5)
    await waitFor(() => held.length === 5)
    for (const release of held.splice(0)) release()
    expect((await second).admitted).toBe(5)
  })
})

async function waitFor(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 10))
  }
}
