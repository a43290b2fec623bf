import { cache } from './http-cache/index.js'
import { cachePurge } from './purge/index.js'

export { cacheErrors } from './errors.js'
export { appendCacheStatus } from './http-cache/cache-status.js'
export { cache } from './http-cache/index.js'
export { type CacheInput, type CacheOptions, cacheSchema } from './http-cache/schema.js'
export { cachePurge } from './purge/index.js'
export { normaliseUrlKey, type PurgeTarget, purgeCache } from './purge/purge.js'
export { cacheStores, registerCacheStore } from './purge/registry.js'
export { cachePurgeSchema, purgeRequestSchema } from './purge/schema.js'
export { type Directives, deltaSeconds, parseCacheControl } from './semantics/cache-control.js'
export {
  computeFreshness,
  type Freshness,
  type FreshnessSettings,
  HEURISTICALLY_CACHEABLE,
  type NotStorableReason,
  notStorable,
  UNDERSTOOD_STATUSES,
} from './semantics/entry.js'
export { formatHttpDate, parseHttpDate } from './semantics/http-date.js'
export { entrySize, MemoryCacheStore, type MemoryCacheStoreOptions } from './store/memory.js'
export { decodeEntry, encodeEntry } from './store/serialize.js'
export { TieredCacheStore, type TieredCacheStoreOptions } from './store/tiered.js'
export type { CacheEntry, CacheStore, MaybePromise, StoredHeaders } from './store/types.js'

/**
 * Every policy of @gw/cache, for config-file discovery by the gw CLI.
 *
 * @example
 * ```ts
 * import { policies } from '@gw/cache'
 * policies.map((p) => p.definition.name) // ['cache', 'cache-purge']
 * ```
 */
export const policies = [cache, cachePurge]
