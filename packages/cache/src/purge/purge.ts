import type { CacheStore } from '../store/types.js'
import { cacheStores } from './registry.js'

/**
 * What to purge: one URL (every variant), every URL under a prefix, or every entry with a tag.
 *
 * @example
 * ```ts
 * const target: PurgeTarget = { prefix: 'shop.example/api/products/' }
 * ```
 */
export type PurgeTarget = { url: string } | { prefix: string } | { tag: string }

/**
 * Removes entries from a store, or from every store registered under a cache name (the `cache` policy's
 * `name`, default `gw`). URLs are written as the cache keys them: `host` + path and query, e.g.
 * `shop.example/api/products/7?x=1`; the host is matched case-insensitively.
 *
 * @example
 * ```ts
 * await purgeCache('gw', { tag: 'product-7' })
 * await purgeCache(store, { prefix: 'shop.example/api/products/' })
 * ```
 */
export async function purgeCache(target: string | CacheStore, what: PurgeTarget): Promise<number> {
  const stores = typeof target === 'string' ? cacheStores(target) : [target]
  let removed = 0
  for (const store of stores) {
    if ('url' in what) removed += await store.delete(normaliseUrlKey(what.url))
    else if ('prefix' in what) removed += await store.deletePrefix(normaliseUrlKey(what.prefix))
    else removed += await store.deleteTag(what.tag)
  }
  return removed
}

/**
 * Turns `http://Host/path?q`, `//host/path` or `host/path` into the cache's key form `host/path?q`.
 *
 * @example
 * ```ts
 * normaliseUrlKey('https://Shop.Example/api/products/7') // 'shop.example/api/products/7'
 * ```
 */
export function normaliseUrlKey(url: string): string {
  const withoutScheme = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/^\/\//, '')
  const slash = withoutScheme.indexOf('/')
  if (slash === -1) return withoutScheme.toLowerCase()
  return withoutScheme.slice(0, slash).toLowerCase() + withoutScheme.slice(slash)
}
