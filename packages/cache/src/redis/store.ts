import { type Clock, type Logger, noopLogger, systemClock } from '@gw/core'
import type { Cluster, Redis } from 'ioredis'
import { decodeEntry, encodeEntry } from '../store/serialize.js'
import type { CacheEntry, CacheStore } from '../store/types.js'

declare module '@gw/core' {
  interface Resources {
    redis: import('ioredis').Redis | import('ioredis').Cluster
  }
}

/**
 * Options of {@link RedisCacheStore}.
 *
 * @example
 * ```ts
 * const options: RedisCacheStoreOptions = { prefix: 'shop:cache:', timeout: 100 }
 * ```
 */
export interface RedisCacheStoreOptions {
  /** Prefix of every key. Default `gw:cache:`. */
  prefix?: string
  /** Longest wait (ms) for a reply; slower reads count as misses and slower writes are dropped. Default 250. */
  timeout?: number
  clock?: Clock
  log?: Logger
}

const SET_SCRIPT = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
local ttl = redis.call('PTTL', KEYS[1])
local want = tonumber(ARGV[3])
if ttl < want then redis.call('PEXPIRE', KEYS[1], want) end
return 1`

const DELETE_SCRIPT = `
local n = redis.call('HLEN', KEYS[1])
redis.call('DEL', KEYS[1])
return n`

const TAG_SCRIPT = `
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
local want = tonumber(ARGV[2])
if ttl < want then redis.call('PEXPIRE', KEYS[1], want) end
return 1`

/**
 * Shared store on Redis (standalone, Sentinel or Cluster through one ioredis client). Each URL is one hash
 * `<prefix>e:{<url>}` whose fields are the variants, stored binary-safe with a TTL equal to the stale horizon
 * of its longest-lived variant; each tag is a set `<prefix>t:{<tag>}` of URLs. Keys are hash-tagged, so every
 * script touches one slot. A Redis that is down or slow never fails a request: reads count as misses after
 * `timeout` (immediately while the client is not connected) and writes are dropped, with a warning.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis'
 * const store = new RedisCacheStore(new Redis({ host: process.env.REDIS_HOST }), { prefix: 'shop:cache:' })
 * cache({ store })
 * ```
 */
export class RedisCacheStore implements CacheStore {
  readonly #redis: Redis | Cluster
  readonly #prefix: string
  readonly #timeout: number
  readonly #clock: Clock
  readonly #log: Logger

  constructor(redis: Redis | Cluster, options: RedisCacheStoreOptions = {}) {
    this.#redis = redis
    this.#prefix = options.prefix ?? 'gw:cache:'
    this.#timeout = options.timeout ?? 250
    this.#clock = options.clock ?? systemClock
    this.#log = options.log ?? noopLogger
  }

  async get(key: string): Promise<readonly CacheEntry[]> {
    const fields = await this.#guard('read', () => this.#redis.hgetallBuffer(this.#entryKey(key)), {})
    const now = this.#clock.now()
    const out: CacheEntry[] = []
    for (const field in fields) {
      const entry = decodeEntry(fields[field]!)
      if (entry !== undefined && entry.expiresAt > now) out.push(entry)
    }
    return out
  }

  async set(entry: CacheEntry): Promise<void> {
    const ttl = Math.ceil(entry.expiresAt - this.#clock.now())
    if (ttl <= 0) return
    const key = this.#entryKey(entry.key)
    await this.#guard(
      'write',
      async () => {
        await Promise.all([
          this.#redis.eval(SET_SCRIPT, 1, key, entry.variant, encodeEntry(entry), ttl),
          ...entry.tags.map((tag) => this.#redis.eval(TAG_SCRIPT, 1, this.#tagKey(tag), entry.key, ttl)),
        ])
      },
      undefined,
    )
  }

  async delete(key: string): Promise<number> {
    return this.#guard(
      'delete',
      async () => Number(await this.#redis.eval(DELETE_SCRIPT, 1, this.#entryKey(key))),
      0,
    )
  }

  async deletePrefix(prefix: string): Promise<number> {
    const pattern = `${this.#prefix}e:{${globEscape(escapeTag(prefix))}*`
    const start = this.#prefix.length + 3
    let removed = 0
    for (const node of this.#masters()) {
      let cursor = '0'
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500)
        cursor = next
        for (const found of keys) removed += await this.delete(unescapeTag(found.slice(start, -1)))
      } while (cursor !== '0')
    }
    return removed
  }

  async deleteTag(tag: string): Promise<number> {
    const tagKey = this.#tagKey(tag)
    const members = await this.#guard('purge', () => this.#redis.smembers(tagKey), [])
    let removed = 0
    for (const key of members) {
      const entryKey = this.#entryKey(key)
      const fields = await this.#guard('purge', () => this.#redis.hgetallBuffer(entryKey), {})
      const tagged = Object.keys(fields).filter((field) => decodeEntry(fields[field]!)?.tags.includes(tag))
      if (tagged.length > 0)
        removed += await this.#guard('purge', () => this.#redis.hdel(entryKey, ...tagged), 0)
    }
    await this.#guard('purge', () => this.#redis.del(tagKey), 0)
    return removed
  }

  #masters(): (Redis | Cluster)[] {
    const redis = this.#redis as Redis | (Cluster & { isCluster: true })
    if ('isCluster' in redis && redis.isCluster) return (redis as Cluster).nodes('master')
    return [redis]
  }

  #entryKey(key: string): string {
    return `${this.#prefix}e:{${escapeTag(key)}}`
  }

  #tagKey(tag: string): string {
    return `${this.#prefix}t:{${escapeTag(tag)}}`
  }

  async #guard<T>(what: string, run: () => Promise<T>, fallback: T): Promise<T> {
    const status = (this.#redis as { status?: string }).status
    if (status === 'end' || status === 'close' || status === 'reconnecting' || status === 'connecting')
      return fallback
    let timer: NodeJS.Timeout | undefined
    try {
      return await Promise.race([
        run(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`redis ${what} timed out after ${this.#timeout} ms`)),
            this.#timeout,
          )
        }),
      ])
    } catch (error) {
      this.#log.warn({ err: error }, `redis cache ${what} failed`)
      return fallback
    } finally {
      clearTimeout(timer)
    }
  }
}

function escapeTag(value: string): string {
  return value.replaceAll('%', '%25').replaceAll('{', '%7B').replaceAll('}', '%7D')
}

function unescapeTag(value: string): string {
  return value.replaceAll('%7D', '}').replaceAll('%7B', '{').replaceAll('%25', '%')
}

function globEscape(value: string): string {
  return value.replace(/[*?[\]\\]/g, '\\$&')
}
