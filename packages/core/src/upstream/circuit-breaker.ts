import type { CircuitBreakerConfig } from './schema.js'

/** Breaker states. */
export type CircuitState = 'closed' | 'open' | 'half-open'

/** What {@link CircuitBreaker.admit} grants: a normal call, a half-open probe, or nothing (rejected). */
export type CircuitTicket = 'closed' | 'probe' | undefined

const BUCKETS = 10

/**
 * A failure-rate circuit breaker. Closed: outcomes are counted in a rolling window of ten buckets; once the
 * window holds `minimumRequests` calls and the failed share reaches `failureRate`, it opens. Open: every call
 * is rejected (the gateway answers 503 with `Retry-After`) for `openDuration`. Half-open: `halfOpenRequests`
 * probe calls go through; all succeeding closes it (with a fresh window), one failing re-opens it.
 *
 * @example
 * ```ts
 * const breaker = new CircuitBreaker(circuitBreakerSchema.parse({}), clock.now)
 * const ticket = breaker.admit()
 * if (ticket === undefined) throw coreErrors.circuitOpen.create(...)
 * breaker.record(ticket, ok)
 * ```
 */
export class CircuitBreaker {
  readonly #config: CircuitBreakerConfig
  readonly #now: () => number
  readonly #bucketMs: number
  readonly #epochs = new Float64Array(BUCKETS).fill(-1)
  readonly #successes = new Uint32Array(BUCKETS)
  readonly #failures = new Uint32Array(BUCKETS)
  #state: CircuitState = 'closed'
  #openedAt = 0
  #probesStarted = 0
  #probesPassed = 0

  constructor(config: CircuitBreakerConfig, now: () => number) {
    this.#config = config
    this.#now = now
    this.#bucketMs = Math.max(1, config.window / BUCKETS)
  }

  /** Current state (an open breaker whose time is up reports half-open). */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#config.openDuration)
      return 'half-open'
    return this.#state
  }

  /** Asks to make a call. */
  admit(): CircuitTicket {
    if (this.#state === 'closed') return 'closed'
    if (this.#state === 'open') {
      if (this.#now() - this.#openedAt < this.#config.openDuration) return undefined
      this.#state = 'half-open'
      this.#probesStarted = 0
      this.#probesPassed = 0
    }
    if (this.#probesStarted >= this.#config.halfOpenRequests) return undefined
    this.#probesStarted++
    return 'probe'
  }

  /** Milliseconds until an open breaker lets probes through (at least 1 s granularity is up to the caller). */
  retryAfterMs(): number {
    if (this.#state !== 'open') return 0
    return Math.max(0, this.#config.openDuration - (this.#now() - this.#openedAt))
  }

  /** Records the outcome of an admitted call. */
  record(ticket: CircuitTicket, success: boolean): void {
    if (ticket === 'probe') {
      if (this.#state !== 'half-open') return
      if (!success) {
        this.#open()
        return
      }
      this.#probesPassed++
      if (this.#probesPassed >= this.#config.halfOpenRequests) this.#close()
      return
    }
    if (ticket !== 'closed' || this.#state !== 'closed') return
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
    if (total >= this.#config.minimumRequests && failed / total >= this.#config.failureRate) this.#open()
  }

  #open(): void {
    this.#state = 'open'
    this.#openedAt = this.#now()
  }

  #close(): void {
    this.#state = 'closed'
    this.#epochs.fill(-1)
  }
}
