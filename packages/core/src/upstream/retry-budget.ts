/** Options of a {@link RetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed as a share of requests in the window. */
  ratio: number
  /** Retries per second always allowed. */
  minPerSecond: number
  /** Window length in ms (ten buckets). Default 10 s. */
  window?: number
}

const BUCKETS = 10

/**
 * A retry budget (Finagle / Linkerd style): over a rolling window, retries may not exceed
 * `ratio x requests + minPerSecond x window seconds`. When an upstream fails hard, retries stop at that share
 * instead of multiplying the load by the number of attempts.
 *
 * @example
 * ```ts
 * const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 10 }, clock.now)
 * budget.recordRequest()
 * if (budget.tryRetry()) retry()
 * ```
 */
export class RetryBudget {
  readonly #ratio: number
  readonly #reserve: number
  readonly #bucketMs: number
  readonly #now: () => number
  readonly #epochs = new Float64Array(BUCKETS).fill(-1)
  readonly #requests = new Uint32Array(BUCKETS)
  readonly #retries = new Uint32Array(BUCKETS)

  constructor(options: RetryBudgetOptions, now: () => number) {
    const window = options.window ?? 10_000
    this.#ratio = options.ratio
    this.#reserve = (options.minPerSecond * window) / 1000
    this.#bucketMs = Math.max(1, window / BUCKETS)
    this.#now = now
  }

  /** Counts one request (first tries only). */
  recordRequest(): void {
    this.#requests[this.#bucket()]!++
  }

  /** Withdraws one retry if the budget allows it. */
  tryRetry(): boolean {
    const current = this.#bucket()
    const epoch = this.#epochs[current]!
    let requests = 0
    let retries = 0
    for (let b = 0; b < BUCKETS; b++) {
      if (this.#epochs[b]! <= epoch - BUCKETS) continue
      requests += this.#requests[b]!
      retries += this.#retries[b]!
    }
    if (retries + 1 > this.#ratio * requests + this.#reserve) return false
    this.#retries[current]!++
    return true
  }

  #bucket(): number {
    const epoch = Math.floor(this.#now() / this.#bucketMs)
    const i = epoch % BUCKETS
    if (this.#epochs[i] !== epoch) {
      this.#epochs[i] = epoch
      this.#requests[i] = 0
      this.#retries[i] = 0
    }
    return i
  }
}
