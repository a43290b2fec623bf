/**
 * Stored response headers: lowercase names, as node:http gives them.
 *
 * @example
 * ```ts
 * const headers: StoredHeaders = { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] }
 * ```
 */
export type StoredHeaders = Record<string, string | string[]>

/**
 * One stored response (one variant of a URL). Freshness facts are computed once when the response is stored
 * (or updated by a 304), so that serving a hit only adds the time spent in the cache.
 *
 * @example
 * ```ts
 * const [entry] = await store.get('shop.example/api/products/7')
 * const age = entry.initialAge + (Date.now() - entry.responseTime)
 * ```
 */
export interface CacheEntry {
  /** Primary key: the request URL as `host` + target (path and query). Purge and invalidation work on it. */
  key: string
  /**
   * Secondary key: operator key parts and the request's values of the headers the response `Vary`s on.
   * The store keeps one entry per (key, variant).
   */
  variant: string
  /** Operator key parts of the request that stored it (headers, principal), joined. */
  parts: string
  /** Request header values selected by `Vary` (lowercase name, normalised value or null when absent). */
  vary: [string, string | null][]
  status: number
  headers: StoredHeaders
  body: Buffer
  /** Epoch ms when the request that produced this response was sent (RFC 9111 §4.2.3 request_time). */
  requestTime: number
  /** Epoch ms when the response was received (RFC 9111 §4.2.3 response_time). */
  responseTime: number
  /** corrected_initial_age in ms (RFC 9111 §4.2.3). */
  initialAge: number
  /** Freshness lifetime in ms (RFC 9111 §4.2.1). */
  lifetime: number
  /** stale-while-revalidate window in ms (RFC 5861); 0 when absent. */
  staleWhileRevalidate: number
  /** stale-if-error window in ms (RFC 5861); 0 when absent. */
  staleIfError: number
  /** Must be validated before every reuse (response `no-cache`). */
  noCache: boolean
  /** May never be served stale (must-revalidate, proxy-revalidate, s-maxage). */
  mustRevalidate: boolean
  /** May be reused for requests with Authorization (public, s-maxage, must-revalidate; RFC 9111 §3.5). */
  authorizedReuse: boolean
  /** Surrogate keys (`Surrogate-Key` / `Cache-Tag`) for purging by tag. */
  tags: string[]
  /** Epoch ms after which the store may drop the entry (end of freshness plus the stale horizon). */
  expiresAt: number
}

/**
 * A value or a promise of it: the memory store answers synchronously so that hits stay synchronous.
 *
 * @example
 * ```ts
 * const found: MaybePromise<readonly CacheEntry[]> = store.get(key)
 * ```
 */
export type MaybePromise<T> = T | Promise<T>

/**
 * Where the cache keeps responses. Implementations: {@link MemoryCacheStore} (default), the Redis store in
 * `@gw/cache/redis`, and {@link TieredCacheStore}. Every implementation passes the same contract suite
 * (`cacheStoreContract` from `@gw/cache/testing`). Stores never throw into requests: a failing backend reads
 * as a miss and drops writes (and logs).
 *
 * @example
 * ```ts
 * const store: CacheStore = new MemoryCacheStore({ maxBytes: 64 * 1024 * 1024 })
 * store.set(entry)
 * const variants = await store.get(entry.key)
 * ```
 */
export interface CacheStore {
  /** Every unexpired variant stored under a primary key (any order; empty when none). */
  get(key: string): MaybePromise<readonly CacheEntry[]>
  /** Stores an entry, replacing the one with the same key and variant. */
  set(entry: CacheEntry): MaybePromise<void>
  /** Removes every variant of a primary key; resolves with how many entries were removed. */
  delete(key: string): MaybePromise<number>
  /** Removes every entry whose primary key starts with `prefix`. */
  deletePrefix(prefix: string): MaybePromise<number>
  /** Removes every entry tagged with `tag`. */
  deleteTag(tag: string): MaybePromise<number>
  /** Releases resources (timers, connections the store owns). */
  close?(): Promise<void>
}
