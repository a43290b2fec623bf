/**
 * The four rate-limit algorithms as pure functions over a small numeric state. The memory store runs these;
 * the Redis store runs the same arithmetic in Lua (src/redis/scripts.ts), operation for operation, so both
 * stores give the same decisions for the same sequence of requests. Time is in integer microseconds.
 */

/**
 * The algorithms a limit can use.
 *
 * @example
 * ```ts
 * ALGORITHMS.includes('gcra') // true
 * ```
 */
export const ALGORITHMS = ['fixed-window', 'sliding-window', 'token-bucket', 'gcra'] as const

/**
 * One of {@link ALGORITHMS}.
 *
 * @example
 * ```ts
 * const algorithm: Algorithm = 'gcra'
 * ```
 */
export type Algorithm = (typeof ALGORITHMS)[number]

/**
 * A compiled limit: what the algorithms and stores need, built once at start-up.
 *
 * @example
 * ```ts
 * const spec: LimitSpec = { algorithm: 'fixed-window', limit: 100, windowMs: 900_000, burst: 100 }
 * ```
 */
export interface LimitSpec {
  readonly algorithm: Algorithm
  /** Requests (cost units) allowed per window. */
  readonly limit: number
  /** Window length in milliseconds (for token bucket and GCRA: the refill period of `limit` units). */
  readonly windowMs: number
  /** Token bucket capacity / GCRA burst; `limit` unless configured. Ignored by the window algorithms. */
  readonly burst: number
}

/**
 * The result of one limit for one request.
 *
 * @example
 * ```ts
 * const outcome: LimitOutcome = { allowed: true, remaining: 99, resetMs: 900_000, retryAfterMs: 0, nextMs: 900_000 }
 * ```
 */
export interface LimitOutcome {
  allowed: boolean
  /** Units left after this request (0 when denied at the edge). */
  remaining: number
  /** Milliseconds until the quota is fully available again (window end, or bucket full). */
  resetMs: number
  /** Milliseconds before the same request could be allowed (0 when allowed). */
  retryAfterMs: number
  /**
   * The RateLimit `t`: milliseconds until more than `remaining` units are available, if nothing else is spent
   * (the time within which the client can use no more than `remaining`); equal to `retryAfterMs` when denied.
   */
  nextMs: number
}

/**
 * Algorithm state: at most three numbers (stored as `a:b:c` with %.17g in Redis).
 *
 * @example
 * ```ts
 * const fixedWindow: LimitState = [windowStartUs, count]
 * ```
 */
export type LimitState = number[]

/**
 * One evaluation: the outcome, the state to store when the request is admitted, and its time to live.
 *
 * @example
 * ```ts
 * const { allowed, next, ttlUs }: Evaluation = evaluate(spec, state, nowUs, 1)
 * ```
 */
export interface Evaluation extends LimitOutcome {
  next: LimitState
  /** Microseconds after which the stored state is equivalent to no state (safe expiry). */
  ttlUs: number
}

/**
 * Algorithm codes used on the wire to Redis.
 *
 * @example
 * ```ts
 * ALGORITHM_CODES.gcra // 4
 * ```
 */
export const ALGORITHM_CODES: Record<Algorithm, number> = {
  'fixed-window': 1,
  'sliding-window': 2,
  'token-bucket': 3,
  gcra: 4,
}

const ceilMs = (us: number): number => Math.ceil(us / 1000)

/**
 * Evaluates one limit at `nowUs` for a request of `cost` units, given the stored state (or undefined).
 *
 * @example
 * ```ts
 * const e = evaluate({ algorithm: 'fixed-window', limit: 2, windowMs: 1000, burst: 2 }, undefined, 0, 1)
 * e.allowed // true; e.remaining // 1
 * ```
 */
export function evaluate(
  spec: LimitSpec,
  state: LimitState | undefined,
  nowUs: number,
  cost: number,
): Evaluation {
  switch (spec.algorithm) {
    case 'fixed-window':
      return fixedWindow(spec, state, nowUs, cost)
    case 'sliding-window':
      return slidingWindow(spec, state, nowUs, cost)
    case 'token-bucket':
      return tokenBucket(spec, state, nowUs, cost)
    case 'gcra':
      return gcra(spec, state, nowUs, cost)
  }
}

function fixedWindow(spec: LimitSpec, state: LimitState | undefined, now: number, cost: number): Evaluation {
  const w = spec.windowMs * 1000
  const start = now - (now % w)
  const count = state !== undefined && state[0] === start ? state[1]! : 0
  const allowed = count + cost <= spec.limit
  const used = allowed ? count + cost : count
  const reset = start + w - now
  return {
    allowed,
    remaining: spec.limit - used,
    resetMs: ceilMs(reset),
    retryAfterMs: allowed ? 0 : ceilMs(reset),
    nextMs: ceilMs(reset),
    next: [start, used],
    ttlUs: reset,
  }
}

function slidingWindow(
  spec: LimitSpec,
  state: LimitState | undefined,
  now: number,
  cost: number,
): Evaluation {
  const w = spec.windowMs * 1000
  const limit = spec.limit
  const start = now - (now % w)
  let cur = 0
  let prev = 0
  if (state !== undefined) {
    if (state[0] === start) {
      cur = state[1]!
      prev = state[2]!
    } else if (state[0] === start - w) {
      prev = state[1]!
    }
  }
  const elapsed = now - start
  const weighted = (prev * (w - elapsed)) / w
  const allowed = weighted + cur + cost <= limit
  const used = allowed ? cur + cost : cur
  const reset = start + w - now
  const remaining = Math.max(0, Math.floor(limit - weighted - used))
  const retry = allowed ? 0 : slidingWait(limit, w, elapsed, reset, prev, cur, cost)
  return {
    allowed,
    remaining,
    resetMs: ceilMs(reset),
    retryAfterMs: ceilMs(retry),
    nextMs: allowed
      ? ceilMs(slidingWait(limit, w, elapsed, reset, prev, used, remaining + 1))
      : ceilMs(retry),
    next: [start, used, prev],
    ttlUs: reset + w,
  }
}

/** Microseconds until `units` fit under the sliding-window estimate, if nothing else is spent. */
function slidingWait(
  limit: number,
  w: number,
  elapsed: number,
  reset: number,
  prev: number,
  cur: number,
  units: number,
): number {
  if (cur + units <= limit && prev > 0)
    return Math.ceil((prev * (w - elapsed) - (limit - cur - units) * w) / prev)
  if (units > limit) return reset
  return reset + Math.max(0, Math.ceil(w - ((limit - units) * w) / cur))
}

function tokenBucket(spec: LimitSpec, state: LimitState | undefined, now: number, cost: number): Evaluation {
  const cap = spec.burst
  const rate = spec.limit / (spec.windowMs * 1000)
  let tokens = cap
  if (state !== undefined) {
    tokens = Math.min(cap, state[0]! + Math.max(0, now - state[1]!) * rate)
  }
  const allowed = tokens >= cost
  const left = allowed ? tokens - cost : tokens
  const full = Math.ceil((cap - left) / rate)
  const remaining = Math.floor(left)
  let retry = 0
  if (!allowed) retry = cost > cap ? full : Math.ceil((cost - tokens) / rate)
  let wait = retry
  if (allowed) wait = remaining + 1 > cap ? full : Math.ceil((remaining + 1 - left) / rate)
  return {
    allowed,
    remaining,
    resetMs: ceilMs(full),
    retryAfterMs: ceilMs(retry),
    nextMs: ceilMs(wait),
    next: [left, now],
    ttlUs: Math.max(1000, full),
  }
}

function gcra(spec: LimitSpec, state: LimitState | undefined, now: number, cost: number): Evaluation {
  const interval = Math.ceil((spec.windowMs * 1000) / spec.limit)
  const tolerance = interval * spec.burst
  const tat = state !== undefined ? Math.max(state[0]!, now) : now
  const newTat = tat + interval * cost
  const allowed = newTat - now <= tolerance
  const after = allowed ? newTat : tat
  const reset = after - now
  const remaining = Math.max(0, Math.floor((tolerance - reset) / interval))
  const retry = allowed ? 0 : ceilMs(interval * cost > tolerance ? reset : newTat - now - tolerance)
  return {
    allowed,
    remaining,
    resetMs: ceilMs(reset),
    retryAfterMs: retry,
    nextMs: allowed ? ceilMs((remaining + 1) * interval - (tolerance - reset)) : retry,
    next: [after],
    ttlUs: Math.max(1000, reset),
  }
}
