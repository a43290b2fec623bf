import type { MaybePromise } from '@gw/core'
import type { LimitOutcome, LimitSpec } from '../algorithms.js'

/**
 * One limit to check for one request: the full store key, the compiled limit and the request's cost.
 *
 * @example
 * ```ts
 * const check: LimitCheck = { key: 'gw:rl:{api:per-ip:10.0.0.1}', spec, cost: 1 }
 * ```
 */
export interface LimitCheck {
  readonly key: string
  readonly spec: LimitSpec
  readonly cost: number
}

/**
 * The decision for all the limits of a request. `allowed` is true only when every limit allows; then (and
 * only then) every limit was charged. A denied request charges nothing.
 *
 * @example
 * ```ts
 * const decision: Decision = { allowed: false, outcomes: [{ allowed: false, remaining: 0, resetMs: 800, retryAfterMs: 800 }] }
 * ```
 */
export interface Decision {
  allowed: boolean
  /** One outcome per check, in order. */
  outcomes: LimitOutcome[]
}

/**
 * The one interface every rate-limit store implements (Kong's `policies/` table, in TypeScript). All checks of a
 * request are decided atomically in one call: either all are charged or none is.
 *
 * @example
 * ```ts
 * const store: RateLimitStore = createMemoryStore({ maxKeys: 10_000 })
 * const decision = await store.consume([{ key: 'k', spec, cost: 1 }])
 * ```
 */
export interface RateLimitStore {
  /** Shown in logs, e.g. `memory` or `redis`. */
  readonly kind: string
  /** Decides and charges all checks atomically. Memory stores answer synchronously. */
  consume(checks: readonly LimitCheck[]): MaybePromise<Decision>
  /** Start-up: connect and load scripts within `waitMs`; see {@link StoreWarmUp}. */
  warmUp?(waitMs: number): Promise<StoreWarmUp>
  /** Releases timers and connections the store owns (never an injected client). */
  close?(): Promise<void>
}

/**
 * What a store's start-up warm-up found: `ready` (connected, scripts loaded) or `unreachable` (not connected
 * within the wait; the policy starts on its fallback). A store that is reachable but refuses its scripts
 * rejects instead, which fails the start.
 *
 * @example
 * ```ts
 * if ((await store.warmUp?.(2000)) === 'unreachable') log.warn('starting on the fallback')
 * ```
 */
export type StoreWarmUp = 'ready' | 'unreachable'

/**
 * The result of a concurrency acquisition: whether a slot was taken, the slots left, and the lease to release.
 *
 * @example
 * ```ts
 * const slot: Acquisition = { acquired: true, remaining: 3, lease: 'k#17' }
 * ```
 */
export interface Acquisition {
  acquired: boolean
  remaining: number
  /** Pass to `release` once the request completed; undefined when not acquired. */
  lease: string | undefined
}

/**
 * Counts in-flight requests per key. Leases expire after `leaseMs` in stores shared between processes, so a
 * crashed gateway cannot hold slots forever.
 *
 * @example
 * ```ts
 * const slot = await store.acquire('k', 10, 60_000)
 * if (slot.acquired) await store.release('k', slot.lease!)
 * ```
 */
export interface ConcurrencyStore {
  readonly kind: string
  acquire(key: string, max: number, leaseMs: number): MaybePromise<Acquisition>
  release(key: string, lease: string): MaybePromise<void>
  /** Start-up: connect and load scripts within `waitMs`; see {@link StoreWarmUp}. */
  warmUp?(waitMs: number): Promise<StoreWarmUp>
  close?(): Promise<void>
}
