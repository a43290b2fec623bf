import type { Clock, MaybePromise } from '@gw/core'

/** Returned instead of a store answer when the store failed, timed out, or the breaker is open. */
export const STORE_FAILED: unique symbol = Symbol('gw.ratelimit.store-failed')

/**
 * Options of {@link StoreBreaker}.
 *
 * @example
 * ```ts
 * const options: BreakerOptions = { timeoutMs: 50, failures: 3, cooldownMs: 1000, clock: systemClock, onOpen: () => {}, onClose: () => {}, onError: () => {} }
 * ```
 */
export interface BreakerOptions {
  /** Per-call timeout for asynchronous stores. */
  timeoutMs: number
  /** Consecutive failures that open the breaker. */
  failures: number
  /** How long the breaker stays open before one probe call is let through. */
  cooldownMs: number
  clock: Clock
  onError(error: unknown): void
  onOpen(error: unknown): void
  onClose(): void
}

/**
 * Guards store calls: a per-call timeout, and a circuit breaker that, once open, answers {@link STORE_FAILED}
 * synchronously (a dead store costs nothing per request) until a probe call succeeds after the cooldown.
 *
 * @example
 * ```ts
 * const breaker = new StoreBreaker(options)
 * const decision = breaker.run(store.consume, checks)
 * ```
 */
export class StoreBreaker {
  readonly #options: BreakerOptions
  #failures = 0
  #openUntil = 0
  #probing = false

  constructor(options: BreakerOptions) {
    this.#options = options
  }

  /** True while calls are short-circuited. */
  get open(): boolean {
    return this.#openUntil !== 0
  }

  /** Calls `fn(arg)` unless the breaker is open; failures and timeouts become {@link STORE_FAILED}. */
  run<A, R>(fn: (arg: A) => MaybePromise<R>, arg: A): MaybePromise<R | typeof STORE_FAILED> {
    if (this.#openUntil !== 0) {
      if (this.#probing || this.#options.clock.now() < this.#openUntil) return STORE_FAILED
      this.#probing = true
    }
    let result: MaybePromise<R>
    try {
      result = fn(arg)
    } catch (error) {
      this.#fail(error)
      return STORE_FAILED
    }
    if (!(result instanceof Promise)) {
      this.#succeed()
      return result
    }
    return new Promise((resolve) => {
      let settled = false
      const timer = setTimeout(() => {
        settled = true
        this.#fail(new Error(`store call timed out after ${this.#options.timeoutMs} ms`))
        resolve(STORE_FAILED)
      }, this.#options.timeoutMs)
      result.then(
        (value) => {
          if (settled) return
          clearTimeout(timer)
          this.#succeed()
          resolve(value)
        },
        (error: unknown) => {
          if (settled) return
          clearTimeout(timer)
          this.#fail(error)
          resolve(STORE_FAILED)
        },
      )
    })
  }

  #succeed(): void {
    this.#failures = 0
    if (this.#openUntil !== 0) {
      this.#openUntil = 0
      this.#probing = false
      this.#options.onClose()
    }
  }

  #fail(error: unknown): void {
    this.#options.onError(error)
    this.#failures++
    if (this.#probing || this.#failures >= this.#options.failures) {
      const wasOpen = this.#openUntil !== 0
      this.#probing = false
      this.#openUntil = this.#options.clock.now() + this.#options.cooldownMs
      if (!wasOpen) this.#options.onOpen(error)
    }
  }
}
