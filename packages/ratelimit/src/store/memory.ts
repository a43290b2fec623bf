import { type Clock, systemClock } from '@gw/core'
import { LRUCache } from 'lru-cache'
import { type Evaluation, evaluate, type LimitState } from '../algorithms.js'
import type { Acquisition, ConcurrencyStore, Decision, LimitCheck, RateLimitStore } from './types.js'

/**
 * Options of {@link createMemoryStore}.
 *
 * @example
 * ```ts
 * const options: MemoryStoreOptions = { maxKeys: 100_000 }
 * ```
 */
export interface MemoryStoreOptions {
  /** Most keys kept; the least recently used key is forgotten beyond it. Default 100000. */
  maxKeys?: number
  /** Time source; default the system clock. */
  clock?: Clock
}

/**
 * The memory rate-limit store: synchronous decisions and its current key count.
 *
 * @example
 * ```ts
 * const store: MemoryRateLimitStore = createMemoryStore()
 * store.consume(checks).allowed // no await needed
 * ```
 */
export interface MemoryRateLimitStore extends RateLimitStore {
  consume(checks: readonly LimitCheck[]): Decision
  readonly size: number
}

/**
 * The memory concurrency store: synchronous acquire and release, and its current key count.
 *
 * @example
 * ```ts
 * const slot = createMemoryConcurrencyStore().acquire('k', 2)
 * ```
 */
export interface MemoryConcurrencyStore extends ConcurrencyStore {
  acquire(key: string, max: number, leaseMs?: number): Acquisition
  release(key: string, lease: string): void
  readonly size: number
}

/**
 * A per-process store on lru-cache, bounded by key count (about 450 bytes per key with ~60-character keys: 100,000 keys stay under 64 MB).
 * Decisions are synchronous. Evicting a live key forgets its counter, so size `maxKeys` above the number of
 * keys active within one window.
 *
 * @example
 * ```ts
 * rateLimit({ limit: 100, window: '15m', store: createMemoryStore({ maxKeys: 50_000 }) })
 * ```
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryRateLimitStore {
  const clock = options.clock ?? systemClock
  const cache = new LRUCache<string, LimitState>({ max: options.maxKeys ?? 100_000 })
  const single: Evaluation[] = []
  return {
    kind: 'memory',
    get size() {
      return cache.size
    },
    consume(checks: readonly LimitCheck[]): Decision {
      const now = clock.now() * 1000
      const evaluations = checks.length === 1 ? single : []
      let allowed = true
      for (let i = 0; i < checks.length; i++) {
        const check = checks[i]!
        const evaluation = evaluate(check.spec, cache.get(check.key), now, check.cost)
        evaluations[i] = evaluation
        if (!evaluation.allowed) allowed = false
      }
      const outcomes = new Array(checks.length)
      for (let i = 0; i < checks.length; i++) {
        const e = evaluations[i]!
        if (allowed) cache.set(checks[i]!.key, e.next)
        outcomes[i] = {
          allowed: e.allowed,
          remaining: e.remaining,
          resetMs: e.resetMs,
          retryAfterMs: e.retryAfterMs,
          nextMs: e.nextMs,
        }
      }
      return { allowed, outcomes }
    },
    async close() {
      cache.clear()
    },
  }
}

/**
 * A per-process concurrency store: in-flight counts per key in a Map (a key disappears at zero).
 *
 * @example
 * ```ts
 * concurrencyLimit({ max: 10, store: createMemoryConcurrencyStore() })
 * ```
 */
export function createMemoryConcurrencyStore(): MemoryConcurrencyStore {
  const inFlight = new Map<string, number>()
  return {
    kind: 'memory',
    get size() {
      return inFlight.size
    },
    acquire(key: string, max: number): Acquisition {
      const current = inFlight.get(key) ?? 0
      if (current >= max) return { acquired: false, remaining: 0, lease: undefined }
      inFlight.set(key, current + 1)
      return { acquired: true, remaining: max - current - 1, lease: key }
    },
    release(key: string): void {
      const current = inFlight.get(key)
      if (current === undefined) return
      if (current <= 1) inFlight.delete(key)
      else inFlight.set(key, current - 1)
    },
    async close() {
      inFlight.clear()
    },
  }
}
