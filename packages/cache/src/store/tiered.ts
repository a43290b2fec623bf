import { type Clock, systemClock } from '@gw/core'
import { LRUCache } from 'lru-cache'
import type { CacheEntry, CacheStore, MaybePromise } from './types.js'

/**
 * Options of {@link TieredCacheStore}.
 *
 * @example
 * ```ts
 * const options: TieredCacheStoreOptions = { l1Ttl: 500 }
 * ```
 */
export interface TieredCacheStoreOptions {
  /** Longest time (ms) an entry read from or written to L2 is served from L1 before L2 is asked again. Default 1000. */
  l1Ttl?: number
  clock?: Clock
}

/**
 * Two tiers: a fast per-process L1 (usually memory) in front of a shared L2 (usually Redis). Reads try L1 and
 * fall back to L2, copying what L2 returns into L1 for at most `l1Ttl`; writes and deletes go to both. A purge
 * on one gateway reaches the other processes' L1 within `l1Ttl` at the latest.
 *
 * @example
 * ```ts
 * const store = new TieredCacheStore(new MemoryCacheStore(), new RedisCacheStore(redis), { l1Ttl: 1000 })
 * ```
 */
export class TieredCacheStore implements CacheStore {
  readonly #l1: CacheStore
  readonly #l2: CacheStore
  readonly #l1Ttl: number
  readonly #clock: Clock
  readonly #l1Until = new LRUCache<string, number>({ max: 100_000 })

  constructor(l1: CacheStore, l2: CacheStore, options: TieredCacheStoreOptions = {}) {
    this.#l1 = l1
    this.#l2 = l2
    this.#l1Ttl = options.l1Ttl ?? 1000
    this.#clock = options.clock ?? systemClock
  }

  get(key: string): MaybePromise<readonly CacheEntry[]> {
    const fromL2 = async (): Promise<readonly CacheEntry[]> => {
      const far = await this.#l2.get(key)
      await this.#l1.delete(key)
      for (const entry of far) await this.#l1.set(entry)
      this.#l1Until.set(key, this.#clock.now() + this.#l1Ttl)
      return far
    }
    const until = this.#l1Until.get(key)
    if (until === undefined || until <= this.#clock.now()) return fromL2()
    const near = this.#l1.get(key)
    if (near instanceof Promise) return near.then((found) => (found.length > 0 ? found : fromL2()))
    return near.length > 0 ? near : fromL2()
  }

  async set(entry: CacheEntry): Promise<void> {
    this.#l1Until.delete(entry.key)
    await Promise.all([this.#l1.set(entry), this.#l2.set(entry)])
    this.#l1Until.set(entry.key, this.#clock.now() + this.#l1Ttl)
  }

  async delete(key: string): Promise<number> {
    this.#l1Until.delete(key)
    const [, removed] = await Promise.all([this.#l1.delete(key), this.#l2.delete(key)])
    return removed
  }

  async deletePrefix(prefix: string): Promise<number> {
    this.#l1Until.clear()
    const [, removed] = await Promise.all([this.#l1.deletePrefix(prefix), this.#l2.deletePrefix(prefix)])
    return removed
  }

  async deleteTag(tag: string): Promise<number> {
    this.#l1Until.clear()
    const [, removed] = await Promise.all([this.#l1.deleteTag(tag), this.#l2.deleteTag(tag)])
    return removed
  }

  async close(): Promise<void> {
    await Promise.all([this.#l1.close?.(), this.#l2.close?.()])
  }
}
