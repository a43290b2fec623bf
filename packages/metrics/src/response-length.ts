import { createStateKey, type Exchange, type GwResponse, type Outcome } from '@gw/core'

const responseLengthKey = createStateKey<number>('metrics.response-length')

/**
 * Remembers the final response's `Content-Length` (from `onResponse`), the fallback for
 * {@link responseBytes} when the runner could not measure what was written.
 *
 * @example
 * ```ts
 * onResponse(ex, res) { rememberResponseLength(ex, res) }
 * ```
 */
export function rememberResponseLength(ex: Exchange, res: GwResponse): void {
  const length = res.headers['content-length']
  if (length === undefined || ex.has(responseLengthKey)) return
  const n = Number(length)
  if (Number.isSafeInteger(n) && n >= 0) ex.set(responseLengthKey, n)
}

/**
 * Response body bytes of a completed exchange: the runner's count when it has one, else the remembered
 * `Content-Length` of a complete, non-HEAD response with a body.
 *
 * @example
 * ```ts
 * onComplete(ex, outcome) { counter.inc(responseBytes(ex, outcome)) }
 * ```
 */
export function responseBytes(ex: Exchange, outcome: Outcome): number {
  if (outcome.bytesSent > 0 || outcome.aborted || ex.request.method === 'HEAD') return outcome.bytesSent
  if (outcome.status === 204 || outcome.status === 304) return 0
  return ex.get(responseLengthKey) ?? 0
}
