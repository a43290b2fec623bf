import { duration, z } from '@gw/core'
import type { CacheStore } from '../store/types.js'

function isCacheStore(value: unknown): value is CacheStore {
  const v = value as Partial<CacheStore> | null
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof v.get === 'function' &&
    typeof v.set === 'function' &&
    typeof v.delete === 'function' &&
    typeof v.deletePrefix === 'function' &&
    typeof v.deleteTag === 'function'
  )
}

const seconds = z.number().int().nonnegative()

/**
 * Options of the `cache` policy (also what config files validate against).
 *
 * @example
 * ```ts
 * cacheSchema.parse({ store: 'redis', defaultTtl: 60 }).maxEntrySize // 1048576
 * ```
 */
export const cacheSchema = z
  .object({
    store: z
      .union([
        z.enum(['memory', 'redis', 'tiered']),
        z.custom<CacheStore>(isCacheStore, 'expected a CacheStore'),
      ])
      .default('memory')
      .describe(
        "Where responses are kept: 'memory' (per process LRU), 'redis' (shared; needs the `redis` resource), 'tiered' (memory L1 in front of Redis L2), or a CacheStore instance (code only; share one instance between routes and the purge policy).",
      ),
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/)
      .default('gw')
      .describe('Cache name: the Cache-Status member name and the purge registry name.'),
    maxEntrySize: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024)
      .describe(
        'Largest response body (bytes) that is stored. Bodies are streamed to the client while being copied; a larger body stops the copy and passes through uncached.',
      ),
    memory: z
      .object({
        maxBytes: z
          .number()
          .int()
          .positive()
          .default(64 * 1024 * 1024)
          .describe('Bytes the memory store (or tier) may hold before evicting least recently used entries.'),
        maxEntries: z
          .number()
          .int()
          .positive()
          .default(10_000)
          .describe('Entries the memory store may hold.'),
      })
      .strict()
      .default({ maxBytes: 64 * 1024 * 1024, maxEntries: 10_000 })
      .describe('Memory store settings (store memory or tiered).'),
    redis: z
      .object({
        prefix: z.string().default('gw:cache:').describe('Prefix of every Redis key of this cache.'),
        timeout: duration()
          .default(250)
          .describe('Longest wait for a Redis reply before a read counts as a miss and a write is dropped.'),
        l1Ttl: duration()
          .default(1000)
          .describe('Tiered store only: longest time an entry read from Redis is kept in the memory tier.'),
      })
      .strict()
      .default({ prefix: 'gw:cache:', timeout: 250, l1Ttl: 1000 })
      .describe('Redis store settings (store redis or tiered).'),
    defaultTtl: seconds
      .optional()
      .describe(
        'Operator opt-in (CACHE_TTL_SECONDS): freshness lifetime in seconds for storable responses that carry no explicit expiration (no s-maxage, max-age or Expires) and whose status is heuristically cacheable or marked public. Replaces the Last-Modified heuristic; never overrides no-store, private, no-cache or an explicit lifetime. Unset: RFC 9111 heuristics only.',
      ),
    maxHeuristicTtl: seconds
      .default(86_400)
      .describe('Upper bound (seconds) of the Last-Modified heuristic (10% of the time since modification).'),
    keepStale: seconds
      .default(3600)
      .describe(
        'Seconds a stale entry with a validator (ETag / Last-Modified) is kept after it expires, so that it can be revalidated with a conditional request.',
      ),
    perPrincipal: z
      .boolean()
      .default(false)
      .describe(
        'Key entries by the authenticated principal (principalKey from an auth policy): each user gets a private cache, so private responses and responses to authenticated requests are stored per user.',
      ),
    keyHeaders: z
      .array(z.string().toLowerCase())
      .default([])
      .describe('Request headers whose values are part of the cache key (besides what responses Vary on).'),
    bypass: z
      .object({
        paths: z
          .array(z.string())
          .default([])
          .describe('Path prefixes never served from or stored in the cache.'),
        headers: z
          .array(z.string().toLowerCase())
          .default([])
          .describe('Requests carrying any of these headers bypass the cache.'),
      })
      .strict()
      .default({ paths: [], headers: [] })
      .describe('Requests that skip the cache entirely (Cache-Status fwd=bypass).'),
    coalesce: z
      .boolean()
      .default(true)
      .describe(
        'Collapse concurrent misses for one key into one upstream request; followers wait for it and reuse the stored response.',
      ),
    coalesceTimeout: duration()
      .default(10_000)
      .describe(
        'Longest time a collapsed request waits for the leading request before going upstream itself.',
      ),
    storeSetCookie: z
      .boolean()
      .default(false)
      .describe('Store Set-Cookie with responses. Off: only the client that caused the fetch receives it.'),
    tagHeaders: z
      .array(z.string().toLowerCase())
      .default(['surrogate-key', 'cache-tag'])
      .describe('Response headers whose space- or comma-separated values tag an entry for purging by tag.'),
    cacheStatus: z.boolean().default(true).describe('Add a Cache-Status response header (RFC 9211).'),
  })
  .strict()

/**
 * Parsed options of the `cache` policy.
 *
 * @example
 * ```ts
 * const options: CacheOptions = cacheSchema.parse({})
 * ```
 */
export type CacheOptions = z.output<typeof cacheSchema>
/**
 * Options of the `cache` policy as written in code or config.
 *
 * @example
 * ```ts
 * const input: CacheInput = { store: 'tiered', keyHeaders: ['x-tenant'] }
 * ```
 */
export type CacheInput = z.input<typeof cacheSchema>
