import { hash } from 'node:crypto'
import type { Clock } from '@gw/core'
import { LRUCache } from 'lru-cache'

/** A bounded cache of verification results keyed by a SHA-256 of the credential (never the credential). */
export interface ResultCache<T> {
  get(credential: string): T | undefined
  /** Caches a result until `expiresAt` (capped by `maxTtl`); a `tag` (the key id that verified it) allows {@link dropTag}. */
  set(credential: string, value: T, expiresAt: number, tag?: string): void
  /** Drops every entry cached with `tag` (a key that left the key set). Returns how many were dropped. */
  dropTag(tag: string): number
  readonly size: number
}

interface Entry<T> {
  value: T
  expiresAt: number
  tag: string | undefined
}

/**
 * Creates a result cache: an LRU bounded by `max` entries whose entries live until the earlier of the
 * credential's own expiry and `now + maxTtl`, by the injected clock.
 *
 * @example
 * ```ts
 * const cache = createResultCache<Principal>({ enabled: true, max: 10_000, maxTtl: 300_000 }, setup.clock)
 * cache.set(token, principal, payload.exp * 1000)
 * ```
 */
export function createResultCache<T extends object>(
  options: { enabled: boolean; max: number; maxTtl: number },
  clock: Clock,
): ResultCache<T> | undefined {
  if (!options.enabled || options.maxTtl === 0) return undefined
  const tagged = new Map<string, Set<string>>()
  const untag = (key: string, entry: Entry<T>): void => {
    if (entry.tag === undefined) return
    const keys = tagged.get(entry.tag)
    if (keys === undefined) return
    keys.delete(key)
    if (keys.size === 0) tagged.delete(entry.tag)
  }
  const lru = new LRUCache<string, Entry<T>>({ max: options.max, dispose: (entry, key) => untag(key, entry) })
  return {
    get(credential) {
      const key = hash('sha256', credential, 'base64url')
      const entry = lru.get(key)
      if (entry === undefined) return undefined
      if (clock.now() >= entry.expiresAt) {
        lru.delete(key)
        return undefined
      }
      return entry.value
    },
    set(credential, value, expiresAt, tag) {
      const until = Math.min(expiresAt, clock.now() + options.maxTtl)
      if (until <= clock.now()) return
      const key = hash('sha256', credential, 'base64url')
      lru.set(key, { value, expiresAt: until, tag })
      if (tag === undefined) return
      const keys = tagged.get(tag)
      if (keys === undefined) tagged.set(tag, new Set([key]))
      else keys.add(key)
    },
    dropTag(tag) {
      const keys = tagged.get(tag)
      if (keys === undefined) return 0
      const count = keys.size
      for (const key of [...keys]) lru.delete(key)
      tagged.delete(tag)
      return count
    },
    get size() {
      return lru.size
    },
  }
}
