/**
 * Breaker states.
 *
 * @example
 * ```ts
 * const state: CircuitState = breaker.state // 'closed' | 'open' | 'half-open'
 * ```
 */
export type CircuitState = 'closed' | 'open' | 'half-open'

/**
 * What {@link CircuitBreaker.admit} grants: a normal call, a half-open probe, or nothing (rejected).
 *
 * @example
 * ```ts
 * const ticket: CircuitTicket = breaker.admit()
 * if (ticket === undefined) return fallback()
 * ```
 */
export type CircuitTicket = 'closed' | 'probe' | undefined

/**
 * When a {@link CircuitBreaker} opens and how it recovers. Two trips, usable together: a failure rate over a
 * rolling window (`failureRate`, upstreams use it) and a run of consecutive failures (`consecutiveFailures`,
 * store guards use it). At least one must be set.
 *
 * @example
 * ```ts
 * const store: CircuitBreakerOptions = { consecutiveFailures: 3, openDuration: 1000, halfOpenRequests: 1 }
 * const upstream: CircuitBreakerOptions = { failureRate: 0.5, minimumRequests: 20, window: 10_000, openDuration: 30_000 }
 * ```
 */
export interface CircuitBreakerOptions {
  /** Milliseconds the breaker stays open (every call rejected) before half-open probes. */
  readonly openDuration: number
  /** Probe calls let through while half-open; all must succeed to close it, one failing re-opens it. Default 1. */
  readonly halfOpenRequests?: number | undefined
  /** Opens after this many failures in a row while closed. */
  readonly consecutiveFailures?: number | undefined
  /** Opens when the failed share of the calls in the rolling window reaches this (0 < rate <= 1). */
  readonly failureRate?: number | undefined
  /** Calls needed in the window before `failureRate` is judged. Default 1. */
  readonly minimumRequests?: number | undefined
  /** Rolling window of `failureRate`, in milliseconds (ten buckets). Default 10 s. */
  readonly window?: number | undefined
  /** Called on every state change, after it happened (a lazy open -> half-open change included). */
  readonly onStateChange?: ((state: CircuitState, previous: CircuitState) => void) | undefined
}

const BUCKETS = 10

/**
 * The circuit breaker of gw: upstreams and policy stores (rate-limit counters in Redis) share it. Closed:
 * outcomes are counted, and it opens on `consecutiveFailures` failures in a row or once the rolling window
 * holds `minimumRequests` calls of which the `failureRate` share failed. Open: every call is rejected for
 * `openDuration`. Half-open: `halfOpenRequests` probe calls go through (the rest are still rejected); all
 * succeeding closes it with a fresh window, one failing re-opens it for another `openDuration`. Outcomes of
 * calls admitted before it opened are ignored.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from '@gw/core/resilience'
 * const breaker = new CircuitBreaker({ consecutiveFailures: 3, openDuration: 1000 }, () => Date.now())
 * const ticket = breaker.admit()
 * if (ticket === undefined) return fallback()
 * breaker.record(ticket, ok)
 * ```
 */
export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions
  readonly #now: () => number
  readonly #probes: number
  readonly #minimum: number
  readonly #bucketMs: number
  readonly #epochs = new Float64Array(BUCKETS).fill(-1)
  readonly #successes = new Uint32Array(BUCKETS)
  readonly #failures = new Uint32Array(BUCKETS)
  #state: CircuitState = 'closed'
  #openedAt = 0
  #streak = 0
  #probesStarted = 0
  #probesPassed = 0

  constructor(options: CircuitBreakerOptions, now: () => number) {
    if (options.failureRate === undefined && options.consecutiveFailures === undefined)
      throw new TypeError('CircuitBreaker needs failureRate or consecutiveFailures')
    this.#options = options
    this.#now = now
    this.#probes = options.halfOpenRequests ?? 1
    this.#minimum = options.minimumRequests ?? 1
    this.#bucketMs = Math.max(1, (options.window ?? 10_000) / BUCKETS)
  }

  /** Current state (an open breaker whose time is up reports half-open). */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#options.openDuration)
      return 'half-open'
    return this.#state
  }

  /** Asks to make a call: `'closed'` (a normal call), `'probe'` (a half-open probe) or `undefined` (rejected). */
  admit(): CircuitTicket {
    if (this.#state === 'closed') return 'closed'
    if (this.#state === 'open') {
      if (this.#now() - this.#openedAt < this.#options.openDuration) return undefined
      this.#probesStarted = 0
      this.#probesPassed = 0
      this.#change('half-open')
    }
    if (this.#probesStarted >= this.#probes) return undefined
    this.#probesStarted++
    return 'probe'
  }

  /** Milliseconds until an open breaker lets probes through (0 unless open). */
  retryAfterMs(): number {
    if (this.#state !== 'open') return 0
    return Math.max(0, this.#options.openDuration - (this.#now() - this.#openedAt))
  }

  /** Records the outcome of an admitted call (pass the ticket {@link admit} returned). */
  record(ticket: CircuitTicket, success: boolean): void {
    if (ticket === 'probe') {
      if (this.#state !== 'half-open') return
      if (!success) {
        this.#open()
        return
      }
      this.#probesPassed++
      if (this.#probesPassed >= this.#probes) this.#close()
      return
    }
    if (ticket !== 'closed' || this.#state !== 'closed') return
    if (success) this.#streak = 0
    else if (++this.#streak >= (this.#options.consecutiveFailures ?? Number.POSITIVE_INFINITY)) {
      this.#open()
      return
    }
    const rate = this.#options.failureRate
    if (rate === undefined) return
    const now = this.#now()
    const epoch = Math.floor(now / this.#bucketMs)
    const i = epoch % BUCKETS
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch
      this.#successes[i] = 0
      this.#failures[i] = 0
    }
    if (success) {
      this.#successes[i]!++
      return
    }
    this.#failures[i]!++
    let total = 0
    let failed = 0
    for (let b = 0; b < BUCKETS; b++) {
      if (this.#epochs[b]! <= epoch - BUCKETS) continue
      total += this.#successes[b]! + this.#failures[b]!
      failed += this.#failures[b]!
    }
    if (total >= this.#minimum && failed / total >= rate) this.#open()
  }

  #open(): void {
    this.#openedAt = this.#now()
    this.#change('open')
  }

  #close(): void {
    this.#epochs.fill(-1)
    this.#streak = 0
    this.#change('closed')
  }

  #change(state: CircuitState): void {
    const previous = this.#state
    this.#state = state
    if (previous !== state) this.#options.onStateChange?.(state, previous)
  }
}
