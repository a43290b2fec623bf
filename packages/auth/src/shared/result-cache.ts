import { hash } from 'node:crypto'
import type { Clock } from '@gw/core'
import { LRUCache } from 'lru-cache'

/** A bounded cache of verification results keyed by a SHA-256 of the credential (never the credential). */
export interface ResultCache<T> {
  get(credential: string): T | undefined
  set(credential: string, value: T, expiresAt: number): void
  readonly size: number
}

interface Entry<T> {
  value: T
  expiresAt: number
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
  const lru = new LRUCache<string, Entry<T>>({ max: options.max })
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
    set(credential, value, expiresAt) {
      const until = Math.min(expiresAt, clock.now() + options.maxTtl)
      if (until <= clock.now()) return
      lru.set(hash('sha256', credential, 'base64url'), { value, expiresAt: until })
    },
    get size() {
      return lru.size
    },
  }
}
