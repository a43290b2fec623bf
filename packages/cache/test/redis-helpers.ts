import { randomBytes } from 'node:crypto'
import { Redis } from 'ioredis'

/** Connects to the shared test Redis (127.0.0.1:6379); fails (never skips) when it is missing. */
export async function connectRedis(): Promise<Redis> {
  const redis = new Redis({ host: '127.0.0.1', port: 6379, lazyConnect: true, maxRetriesPerRequest: 1 })
  await redis.connect()
  await redis.ping()
  return redis
}

/** A key prefix unique to one test run. */
export function uniquePrefix(): string {
  return `gw-test:cache:${randomBytes(6).toString('hex')}:`
}

/** Deletes every key under a prefix (SCAN + DEL; never FLUSHDB). */
export async function cleanPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await redis.scan(
      cursor,
      'MATCH',
      `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`,
      'COUNT',
      500,
    )
    cursor = next
    if (keys.length > 0) await redis.del(...keys)
  } while (cursor !== '0')
}
