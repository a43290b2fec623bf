import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requireRedis } from '@gw/core/testing'
import { Redis } from 'ioredis'
import type { LimitCheck, RateLimitStore } from '../../src/index.js'

export const REDIS_PORT = Number(process.env.REDIS_PORT ?? 6379)
export const REDIS_HOST = process.env.REDIS_HOST ?? '127.0.0.1'

/** Whether the shared Redis answers; under CI=true a missing Redis is a failure, not a skip. */
export function redisAvailable(): Promise<boolean> {
  return requireRedis({ host: REDIS_HOST, port: REDIS_PORT })
}

/** A unique key prefix per test run, so concurrent runs and other packages never collide. */
export function testPrefix(): string {
  return `gw-test:ratelimit:${randomBytes(6).toString('hex')}:`
}

export function connect(port = REDIS_PORT, host = REDIS_HOST): Redis {
  const client = new Redis({ host, port, enableOfflineQueue: false, maxRetriesPerRequest: 0 })
  client.on('error', () => {})
  return client
}

export async function ready(client: Redis): Promise<void> {
  if (client.status === 'ready') return
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve)
    setTimeout(() => reject(new Error('redis not ready')), 5000).unref()
  })
}

/** Deletes every key under a prefix (SCAN, never FLUSH). */
export async function cleanup(client: Redis, prefix: string): Promise<void> {
  let cursor = '0'
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000)
    cursor = next
    if (keys.length > 0) await client.del(...keys)
  } while (cursor !== '0')
}

/** Prefixes the contract's keys (hash tag kept whole) so each run owns its keys. */
export function prefixed(store: RateLimitStore, prefix: string): RateLimitStore {
  return {
    kind: store.kind,
    consume: (checks: readonly LimitCheck[]) =>
      store.consume(
        checks.map((c) => ({
          ...c,
          key: `${prefix}{${c.key.includes('multi') || c.key.includes('golden') ? 'same' : c.key}}:${c.key}`,
        })),
      ),
  }
}

/** A private redis-server on a loopback port (no persistence), for tests that kill it or change its scripts. */
export interface RedisServer {
  port: number
  process: ChildProcess
  stop(): Promise<void>
}

export async function startRedisServer(port: number, args: string[] = []): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), `gw-ratelimit-redis-${port}-`))
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...args,
    ],
    { stdio: 'ignore' },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 5000
  for (;;) {
    const probe = new Redis({
      port,
      host: '127.0.0.1',
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    })
    probe.on('error', () => {})
    try {
      await probe.connect()
      await probe.ping()
      probe.disconnect()
      break
    } catch {
      probe.disconnect()
      if (Date.now() > deadline) {
        child.kill('SIGKILL')
        throw new Error(`redis-server on ${port} did not start`)
      }
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  return {
    port,
    process: child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
