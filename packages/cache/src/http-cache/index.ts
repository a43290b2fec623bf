import { definePolicy, principalKey, type SetupContext } from '@gw/core'
import { registerCacheStore } from '../purge/registry.js'
import { MemoryCacheStore } from '../store/memory.js'
import { TieredCacheStore } from '../store/tiered.js'
import type { CacheStore } from '../store/types.js'
import { BYPASS, CacheContext, stateKey } from './context.js'
import { lookupRequest } from './lookup.js'
import { type CacheOptions, cacheSchema } from './schema.js'
import { storeResponse } from './store-response.js'

/**
 * An RFC 9111 shared HTTP cache for GET/HEAD: freshness (s-maxage, max-age, Expires, heuristics), Age,
 * Vary, request directives, validation with If-None-Match / If-Modified-Since and 304 updates,
 * stale-while-revalidate / stale-if-error (RFC 5861), request coalescing, invalidation by unsafe methods and
 * a Cache-Status header (RFC 9211). Bodies stream to the client while being copied up to `maxEntrySize`.
 * Must come after authentication and authorization policies.
 *
 * @example
 * ```ts
 * createGateway({
 *   upstreams: { products: { url: 'http://127.0.0.1:3002' } },
 *   routes: [{ path: '/api/products/*', upstream: 'products', policies: [cache({ defaultTtl: 60 })] }],
 * })
 * ```
 */
export const cache = definePolicy({
  name: 'cache',
  stage: 'cache',
  description: 'RFC 9111 shared HTTP cache with memory, Redis or tiered stores.',
  schema: cacheSchema,
  mustFollow: ['authn', 'authz'],
  state: (config) => (config.perPrincipal ? { requires: [principalKey] } : {}),
  async create(config, setup) {
    const { store, owned } = await createStore(config, setup)
    const unregister = registerCacheStore(config.name, store)
    const ctx = new CacheContext(config, setup, store)
    return {
      onRequest: (ex) => lookupRequest(ctx, ex),
      onResponse: (ex, res) => storeResponse(ctx, ex, res),
      onComplete(ex) {
        const st = ex.get(stateKey)
        if (st !== undefined && st !== BYPASS) ctx.release(st)
      },
      async close() {
        unregister()
        if (owned) await store.close?.()
      },
    }
  },
})

async function createStore(
  config: CacheOptions,
  setup: SetupContext,
): Promise<{ store: CacheStore; owned: boolean }> {
  if (typeof config.store !== 'string') return { store: config.store, owned: false }
  const memory = (): MemoryCacheStore =>
    new MemoryCacheStore({
      maxBytes: config.memory.maxBytes,
      maxEntries: config.memory.maxEntries,
      clock: setup.clock,
    })
  if (config.store === 'memory') return { store: memory(), owned: true }
  const { RedisCacheStore } = await import('../redis/store.js')
  const redis = new RedisCacheStore(setup.need('redis'), {
    prefix: config.redis.prefix,
    timeout: config.redis.timeout,
    clock: setup.clock,
    log: setup.log,
  })
  if (config.store === 'redis') return { store: redis, owned: true }
  return {
    store: new TieredCacheStore(memory(), redis, { l1Ttl: config.redis.l1Ttl, clock: setup.clock }),
    owned: true,
  }
}
