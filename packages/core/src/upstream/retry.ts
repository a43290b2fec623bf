const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])

/**
 * Upper bound of one backoff delay, whatever the attempt.
 *
 * @example
 * ```ts
 * backoffDelay(1000, 10) <= MAX_RETRY_DELAY_MS // true
 * ```
 */
export const MAX_RETRY_DELAY_MS = 10_000

/**
 * Whether a method is idempotent (RFC 9110 §9.2.2), i.e. may be retried after a connection failure.
 *
 * @example
 * ```ts
 * isIdempotentMethod('GET') // true
 * isIdempotentMethod('POST') // false
 * ```
 */
export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT.has(method)
}

/**
 * Delay before retry number `attempt` (0-based): `base * 2^attempt`, capped at {@link MAX_RETRY_DELAY_MS},
 * with "equal jitter" (a random value between half and all of it) so that retries do not synchronise.
 *
 * @example
 * ```ts
 * backoffDelay(50, 2) // between 100 and 200
 * backoffDelay(50, 2, () => 0) // 100
 * ```
 */
export function backoffDelay(base: number, attempt: number, random: () => number = Math.random): number {
  const full = Math.min(base * 2 ** attempt, MAX_RETRY_DELAY_MS)
  return Math.round(full / 2 + (random() * full) / 2)
}
