import type { CacheStore } from '../store/types.js'

const registry = new Map<string, Set<CacheStore>>()

/**
 * Registers a store under a cache name so that `purgeCache(name, ...)` and the `cache-purge` policy reach it.
 * The `cache` policy registers its store at start-up and unregisters it at shutdown.
 *
 * @example
 * ```ts
 * const unregister = registerCacheStore('gw', store)
 * unregister()
 * ```
 */
export function registerCacheStore(name: string, store: CacheStore): () => void {
  let stores = registry.get(name)
  if (stores === undefined) {
    stores = new Set()
    registry.set(name, stores)
  }
  stores.add(store)
  return () => {
    const current = registry.get(name)
    current?.delete(store)
    if (current?.size === 0) registry.delete(name)
  }
}

/**
 * The stores registered under a cache name (empty when none).
 *
 * @example
 * ```ts
 * cacheStores('gw').length // 1 once a cache policy named gw started
 * ```
 */
export function cacheStores(name: string): CacheStore[] {
  return [...(registry.get(name) ?? [])]
}
