import { type Clock, systemClock } from '@gw/core'
import { LRUCache } from 'lru-cache'
import type { CacheEntry, CacheStore } from './types.js'

/**
 * Options of {@link MemoryCacheStore}.
 *
 * @example
 * ```ts
 * const options: MemoryCacheStoreOptions = { maxBytes: 32 * 1024 * 1024, maxEntries: 5000 }
 * ```
 */
export interface MemoryCacheStoreOptions {
  /** Total bytes of bodies and headers kept; least recently used entries are evicted beyond it. Default 64 MiB. */
  maxBytes?: number
  /** Maximum number of entries. Default 10 000. */
  maxEntries?: number
  /** Clock deciding expiry (the gateway's, or a manual clock in tests). */
  clock?: Clock
}

const SEP = '\u0000'

/**
 * In-process store: an LRU bounded by entry count and bytes (lru-cache), with indexes by primary key and by
 * tag. Per process: several gateway processes each keep their own; use the Redis store to share.
 *
 * @example
 * ```ts
 * const store = new MemoryCacheStore({ maxBytes: 128 * 1024 * 1024, maxEntries: 50_000 })
 * createGateway({ routes: [{ path: '/api/*', upstream: 'api', policies: [cache({ store })] }] })
 * ```
 */
export class MemoryCacheStore implements CacheStore {
  readonly #lru: LRUCache<string, CacheEntry>
  readonly #byKey = new Map<string, Set<string>>()
  readonly #byTag = new Map<string, Set<string>>()
  readonly #clock: Clock

  constructor(options: MemoryCacheStoreOptions = {}) {
    this.#clock = options.clock ?? systemClock
    this.#lru = new LRUCache<string, CacheEntry>({
      max: options.maxEntries ?? 10_000,
      maxSize: options.maxBytes ?? 64 * 1024 * 1024,
      sizeCalculation: entrySize,
      dispose: (entry, id, reason) => {
        if (reason !== 'set') this.#unindex(entry, id)
      },
    })
  }

  get(key: string): readonly CacheEntry[] {
    const ids = this.#byKey.get(key)
    if (ids === undefined) return []
    const now = this.#clock.now()
    const out: CacheEntry[] = []
    for (const id of ids) {
      const entry = this.#lru.get(id)
      if (entry === undefined) continue
      if (entry.expiresAt <= now) this.#lru.delete(id)
      else out.push(entry)
    }
    return out
  }

  set(entry: CacheEntry): void {
    if (entry.expiresAt <= this.#clock.now()) return
    const id = entry.key + SEP + entry.variant
    const previous = this.#lru.get(id)
    if (previous !== undefined) this.#unindexTags(previous, id)
    if (entrySize(entry) > this.#lru.maxSize) {
      this.#lru.delete(id)
      return
    }
    this.#lru.set(id, entry)
    if (!this.#lru.has(id)) return
    let ids = this.#byKey.get(entry.key)
    if (ids === undefined) {
      ids = new Set()
      this.#byKey.set(entry.key, ids)
    }
    ids.add(id)
    for (const tag of entry.tags) {
      let tagged = this.#byTag.get(tag)
      if (tagged === undefined) {
        tagged = new Set()
        this.#byTag.set(tag, tagged)
      }
      tagged.add(id)
    }
  }

  delete(key: string): number {
    const ids = this.#byKey.get(key)
    if (ids === undefined) return 0
    let removed = 0
    for (const id of [...ids]) if (this.#lru.delete(id)) removed++
    return removed
  }

  deletePrefix(prefix: string): number {
    let removed = 0
    for (const key of [...this.#byKey.keys()]) if (key.startsWith(prefix)) removed += this.delete(key)
    return removed
  }

  deleteTag(tag: string): number {
    const ids = this.#byTag.get(tag)
    if (ids === undefined) return 0
    let removed = 0
    for (const id of [...ids]) if (this.#lru.delete(id)) removed++
    return removed
  }

  /** Number of entries held (for tests and diagnostics). */
  get size(): number {
    return this.#lru.size
  }

  /** Bytes held (for tests and diagnostics). */
  get bytes(): number {
    return this.#lru.calculatedSize
  }

  async close(): Promise<void> {
    this.#lru.clear()
  }

  #unindex(entry: CacheEntry, id: string): void {
    const ids = this.#byKey.get(entry.key)
    if (ids !== undefined) {
      ids.delete(id)
      if (ids.size === 0) this.#byKey.delete(entry.key)
    }
    this.#unindexTags(entry, id)
  }

  #unindexTags(entry: CacheEntry, id: string): void {
    for (const tag of entry.tags) {
      const tagged = this.#byTag.get(tag)
      if (tagged === undefined) continue
      tagged.delete(id)
      if (tagged.size === 0) this.#byTag.delete(tag)
    }
  }
}

/**
 * Approximate bytes an entry occupies: body plus header names and values plus a fixed overhead.
 *
 * @example
 * ```ts
 * entrySize(entry) // e.g. 1342
 * ```
 */
export function entrySize(entry: CacheEntry): number {
  let size = entry.body.length + entry.key.length + entry.variant.length + 256
  for (const name in entry.headers) {
    const value = entry.headers[name]
    size += name.length + (typeof value === 'string' ? value.length : (value?.join('').length ?? 0))
  }
  return Math.max(1, size)
}
