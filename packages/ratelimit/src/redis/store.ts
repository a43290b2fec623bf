import type { Clock } from '@gw/core'
import type { Cluster, Redis } from 'ioredis'
import { ALGORITHM_CODES, type LimitOutcome } from '../algorithms.js'
import type {
  Acquisition,
  ConcurrencyStore,
  Decision,
  LimitCheck,
  RateLimitStore,
  StoreWarmUp,
} from '../store/types.js'
import { ACQUIRE_SCRIPT, CONSUME_SCRIPT } from './scripts.js'
import './resource.js'

/**
 * A standalone, Sentinel (a `Redis` with `sentinels`) or Cluster ioredis client.
 *
 * @example
 * ```ts
 * const client: RedisClient = new Cluster([{ host: '10.0.0.5', port: 6379 }])
 * ```
 */
export type RedisClient = Redis | Cluster

/**
 * Options of {@link createRedisStore} and {@link createRedisConcurrencyStore}.
 *
 * @example
 * ```ts
 * const options: RedisStoreOptions = { clock: undefined } // Redis server time
 * ```
 */
export interface RedisStoreOptions {
  /**
   * Time source. Default: the Redis server's `TIME`, so gateways with skewed clocks agree (in a Cluster, the
   * clock of the node that owns the key). Pass a clock only for tests or a deliberately shared local clock.
   */
  clock?: Clock
}

const CONSUME = 'gwRateLimitConsumeV2'
const ACQUIRE = 'gwRateLimitAcquireV1'

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>

const connecting = new WeakMap<RedisClient, Promise<boolean>>()

/** Resolves true once the client is ready, false if it was not within `waitMs` (shared by every store on it). */
function connected(client: RedisClient, waitMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true)
  let waiting = connecting.get(client)
  if (waiting === undefined) {
    if (client.status === 'wait') client.connect().catch(() => {})
    waiting = new Promise<boolean>((resolve) => {
      const onReady = () => {
        clearTimeout(timer)
        resolve(true)
      }
      const timer = setTimeout(() => {
        client.off('ready', onReady)
        resolve(false)
      }, waitMs)
      client.once('ready', onReady)
    })
    connecting.set(client, waiting)
  }
  return waiting
}

/**
 * Start-up for a store on `client`: wait (bounded) for the connection, then SCRIPT LOAD `lua` on every master,
 * which also opens the connection to each Cluster node. A script Redis refuses (an error reply: scripting
 * disabled, an ACL without EVAL) rejects; an unreachable Redis is reported, not thrown.
 */
async function warmUp(client: RedisClient, lua: string, waitMs: number): Promise<StoreWarmUp> {
  if (!(await connected(client, waitMs))) return 'unreachable'
  const nodes: Redis[] = client.isCluster ? (client as Cluster).nodes('master') : [client as Redis]
  let timer: NodeJS.Timeout | undefined
  const gaveUp = new Promise<'unreachable'>((resolve) => {
    timer = setTimeout(() => resolve('unreachable'), waitMs)
  })
  const loaded = Promise.all(nodes.map((node) => node.script('LOAD', lua))).then(
    (): StoreWarmUp => 'ready',
    (error: unknown): StoreWarmUp => {
      if ((error as Error).name === 'ReplyError') throw error
      return 'unreachable'
    },
  )
  try {
    return await Promise.race([loaded, gaveUp])
  } finally {
    clearTimeout(timer)
  }
}

function script(client: RedisClient, name: string, lua: string): ScriptCall {
  const commands = client as unknown as Record<string, ScriptCall | undefined>
  if (typeof commands[name] !== 'function') client.defineCommand(name, { lua })
  const call = commands[name]!
  return call.bind(client)
}

/**
 * A store shared by every gateway process through Redis. Each decision is one atomic Lua script call (ioredis
 * sends EVALSHA and falls back to EVAL on NOSCRIPT), keys expire once their state is back to empty, and the
 * clock is Redis's own. The client is owned by the app: `close()` does not quit it.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * const redis = new Redis({ enableOfflineQueue: false, maxRetriesPerRequest: 0 })
 * rateLimit({ limit: 100, window: '15m', store: createRedisStore(redis) })
 * ```
 */
export function createRedisStore(client: RedisClient, options: RedisStoreOptions = {}): RateLimitStore {
  const consume = script(client, CONSUME, CONSUME_SCRIPT)
  const clock = options.clock
  return {
    kind: 'redis',
    warmUp: (waitMs) => warmUp(client, CONSUME_SCRIPT, waitMs),
    consume(checks: readonly LimitCheck[]): Promise<Decision> {
      const n = checks.length
      const args: (string | number)[] = new Array(2 + n * 6)
      args[0] = n
      for (let i = 0; i < n; i++) args[1 + i] = checks[i]!.key
      let a = 1 + n
      args[a++] = clock === undefined ? -1 : clock.now() * 1000
      for (let i = 0; i < n; i++) {
        const { spec, cost } = checks[i]!
        args[a++] = ALGORITHM_CODES[spec.algorithm]
        args[a++] = spec.limit
        args[a++] = spec.windowMs
        args[a++] = spec.burst
        args[a++] = cost
      }
      args.length = a
      return consume(...args).then((reply) => toDecision(reply, n))
    },
  }
}

/** Reads the script's reply; anything else (a reply meant for another command) is an error, never a decision. */
function toDecision(reply: unknown, limits: number): Decision {
  if (!Array.isArray(reply) || reply.length !== 1 + limits * 5 || !reply.every(Number.isInteger))
    throw new TypeError(`unexpected reply to the rate-limit script: ${String(reply).slice(0, 80)}`)
  const values = reply as number[]
  const outcomes: LimitOutcome[] = []
  for (let i = 1; i < values.length; i += 5) {
    outcomes.push({
      allowed: values[i] === 1,
      remaining: values[i + 1]!,
      resetMs: values[i + 2]!,
      retryAfterMs: values[i + 3]!,
      nextMs: values[i + 4]!,
    })
  }
  return { allowed: values[0] === 1, outcomes }
}

/**
 * A concurrency store on Redis: each key is a sorted set of leases scored by expiry, so slots held by a crashed
 * gateway come back after `leaseMs`. Acquire is one script call, release one ZREM.
 *
 * @example
 * ```ts
 * concurrencyLimit({ max: 10, store: createRedisConcurrencyStore(redis) })
 * ```
 */
export function createRedisConcurrencyStore(
  client: RedisClient,
  options: RedisStoreOptions = {},
): ConcurrencyStore {
  const acquire = script(client, ACQUIRE, ACQUIRE_SCRIPT)
  const clock = options.clock
  const prefix = `${process.pid.toString(36)}.${Math.random().toString(36).slice(2, 8)}.`
  let sequence = 0
  return {
    kind: 'redis',
    warmUp: (waitMs) => warmUp(client, ACQUIRE_SCRIPT, waitMs),
    acquire(key: string, max: number, leaseMs: number): Promise<Acquisition> {
      const lease = prefix + (sequence++).toString(36)
      return acquire(1, key, clock === undefined ? -1 : clock.now(), max, leaseMs, lease).then((reply) => {
        if (!Array.isArray(reply) || reply.length !== 2 || !reply.every(Number.isInteger))
          throw new TypeError(`unexpected reply to the concurrency script: ${String(reply).slice(0, 80)}`)
        const [ok, remaining] = reply as [number, number]
        return ok === 1
          ? { acquired: true, remaining, lease }
          : { acquired: false, remaining: 0, lease: undefined }
      })
    },
    release(key: string, lease: string): Promise<void> {
      return client.zrem(key, lease).then(() => undefined)
    },
  }
}
