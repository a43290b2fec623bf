import { performance } from 'node:perf_hooks'
import type { MaybePromise } from '@gw/core'
import type { CircuitBreaker, CircuitTicket } from '@gw/core/resilience'

/** Returned instead of a store answer when the store failed, timed out, or its breaker is open. */
export const STORE_FAILED: unique symbol = Symbol('gw.ratelimit.store-failed')

/**
 * Called once with the answer of a store call that had already timed out (the store may have acted on it: a
 * counter was charged, a slot taken). Errors after a timeout are dropped.
 *
 * @example
 * ```ts
 * const late: LateAnswer<Call, Decision> = (call, decision) => reconcile(call, decision)
 * ```
 */
export type LateAnswer<A, R> = (arg: A, value: R) => void

/**
 * Options of {@link StoreGuard}.
 *
 * @example
 * ```ts
 * const options: StoreGuardOptions = { timeoutMs: 50, breaker, onError: () => {} }
 * ```
 */
export interface StoreGuardOptions {
  /** Per-call timeout of asynchronous store calls, in milliseconds. */
  timeoutMs: number
  /** The breaker in front of the store (consecutive failures, one half-open probe). */
  breaker: CircuitBreaker
  /** Each failure or timeout (not the calls the open breaker skips). */
  onError(error: unknown): void
}

interface Pending {
  readonly deadline: number
  readonly ticket: CircuitTicket
  readonly resolve: (value: unknown) => void
  readonly arg: unknown
  readonly late: LateAnswer<unknown, unknown> | undefined
  settled: boolean
  next: Pending | undefined
}

/**
 * Guards the calls of one policy to its store: the breaker decides whether a call is made at all (open: answer
 * {@link STORE_FAILED} synchronously, so a dead store costs nothing per request; half-open: one probe), and an
 * asynchronous call that has not answered within `timeoutMs` becomes {@link STORE_FAILED}.
 *
 * Deadlines share one timer: every call has the same timeout, so they expire in call order and sit in a FIFO
 * list. When the timer fires, the calls whose deadline has passed by then expire in the next `setImmediate`,
 * after the event loop's poll phase: an answer that is already in the socket buffer (the process was busy, not
 * the store) settles its call first and is not counted as a timeout.
 *
 * @example
 * ```ts
 * const guard = new StoreGuard({ timeoutMs: 50, breaker, onError })
 * const decision = guard.run(consume, checks, reconcile) // Decision | STORE_FAILED, maybe a promise
 * ```
 */
export class StoreGuard {
  readonly #options: StoreGuardOptions
  #head: Pending | undefined
  #tail: Pending | undefined
  #timer: NodeJS.Timeout | undefined
  #firedAt = 0

  constructor(options: StoreGuardOptions) {
    this.#options = options
  }

  /** Calls `fn(arg)` unless the breaker rejects it; a failure, or no answer within the timeout, is STORE_FAILED. */
  run<A, R>(
    fn: (arg: A) => MaybePromise<R>,
    arg: A,
    late?: LateAnswer<A, R>,
  ): MaybePromise<R | typeof STORE_FAILED> {
    const breaker = this.#options.breaker
    const ticket = breaker.admit()
    if (ticket === undefined) return STORE_FAILED
    let result: MaybePromise<R>
    try {
      result = fn(arg)
    } catch (error) {
      breaker.record(ticket, false)
      this.#options.onError(error)
      return STORE_FAILED
    }
    if (!(result instanceof Promise)) {
      breaker.record(ticket, true)
      return result
    }
    return new Promise<R | typeof STORE_FAILED>((resolve) => {
      const pending: Pending = {
        deadline: performance.now() + this.#options.timeoutMs,
        ticket,
        resolve: resolve as (value: unknown) => void,
        arg,
        late: late as LateAnswer<unknown, unknown> | undefined,
        settled: false,
        next: undefined,
      }
      if (this.#tail === undefined) this.#head = pending
      else this.#tail.next = pending
      this.#tail = pending
      this.#arm()
      result.then(
        (value) => this.#answer(pending, value),
        (error: unknown) => this.#fail(pending, error),
      )
    })
  }

  /** Stops the timer (shutdown; in-flight calls have drained by then). */
  close(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    this.#timer = undefined
  }

  #answer(pending: Pending, value: unknown): void {
    if (pending.settled) {
      try {
        pending.late?.(pending.arg, value)
      } catch (error) {
        this.#options.onError(error)
      }
      return
    }
    pending.settled = true
    this.#options.breaker.record(pending.ticket, true)
    pending.resolve(value)
  }

  #fail(pending: Pending, error: unknown): void {
    if (pending.settled) return
    pending.settled = true
    this.#options.breaker.record(pending.ticket, false)
    this.#options.onError(error)
    pending.resolve(STORE_FAILED)
  }

  #arm(): void {
    if (this.#timer !== undefined || this.#head === undefined) return
    const wait = Math.max(1, Math.ceil(this.#head.deadline - performance.now()))
    this.#timer = setTimeout(this.#fire, wait)
  }

  readonly #fire = (): void => {
    this.#firedAt = performance.now()
    setImmediate(this.#expire)
  }

  /** Expires the calls whose deadline had passed when the timer fired: a poll phase ran since, so none of them has an unread answer. */
  readonly #expire = (): void => {
    this.#timer = undefined
    const firedAt = this.#firedAt
    let head = this.#head
    while (head !== undefined && (head.settled || head.deadline <= firedAt)) {
      if (!head.settled)
        this.#fail(head, new Error(`store call timed out after ${this.#options.timeoutMs} ms`))
      head = head.next
    }
    this.#head = head
    if (head === undefined) this.#tail = undefined
    this.#arm()
  }
}
