/**
 * A source of time. Policies read time through the exchange (`ex.now()`) or their setup context so tests can
 * freeze and advance it.
 *
 * @example
 * ```ts
 * const clock: Clock = { now: () => Date.now() }
 * ```
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number
}

/**
 * The real clock.
 *
 * @example
 * ```ts
 * systemClock.now() // Date.now()
 * ```
 */
export const systemClock: Clock = { now: Date.now }
