/**
 * Methods kept as metric label values; anything else is counted as `other`.
 *
 * @example
 * ```ts
 * METRIC_METHODS.includes('GET') // true
 * ```
 */
export const METRIC_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
  'TRACE',
  'CONNECT',
] as const

const METHOD_INDEX: ReadonlyMap<string, number> = new Map(METRIC_METHODS.map((m, i) => [m, i]))
const OTHER_METHOD = METRIC_METHODS.length

/**
 * Label values of methods by index: {@link METRIC_METHODS} then `other`.
 *
 * @example
 * ```ts
 * METHOD_LABELS[methodIndex('GET')] // 'GET'
 * ```
 */
export const METHOD_LABELS: readonly string[] = [...METRIC_METHODS, 'other']

/**
 * Index of a request method in {@link METHOD_LABELS} (unknown or lowercase methods are `other`).
 *
 * @example
 * ```ts
 * METHOD_LABELS[methodIndex('PROPFIND')] // 'other'
 * ```
 */
export function methodIndex(method: string): number {
  return METHOD_INDEX.get(method) ?? OTHER_METHOD
}

/**
 * Label values of status classes by index: `1xx` .. `5xx`, then `other`.
 *
 * @example
 * ```ts
 * STATUS_CLASS_LABELS[statusClassIndex(204)] // '2xx'
 * ```
 */
export const STATUS_CLASS_LABELS: readonly string[] = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other']

/**
 * Index of a status in {@link STATUS_CLASS_LABELS}.
 *
 * @example
 * ```ts
 * STATUS_CLASS_LABELS[statusClassIndex(499)] // '4xx'
 * ```
 */
export function statusClassIndex(status: number): number {
  const cls = Math.floor(status / 100)
  return cls >= 1 && cls <= 5 ? cls - 1 : 5
}

/**
 * The kind label of `gw_upstream_errors_total` for a core error code, or undefined when the error did not come
 * from the upstream.
 *
 * @example
 * ```ts
 * upstreamErrorKind('GW_ERR_UPSTREAM_TIMEOUT') // 'timeout'
 * ```
 */
export function upstreamErrorKind(code: string): string | undefined {
  switch (code) {
    case 'GW_ERR_UPSTREAM_UNAVAILABLE':
      return 'connect'
    case 'GW_ERR_UPSTREAM_RESET':
      return 'reset'
    case 'GW_ERR_UPSTREAM_PROTOCOL':
      return 'protocol'
    case 'GW_ERR_UPSTREAM_TIMEOUT':
      return 'timeout'
    case 'GW_ERR_UPSTREAM_OVERLOADED':
      return 'overloaded'
    case 'GW_ERR_NO_HEALTHY_TARGET':
      return 'no-healthy-target'
    case 'GW_ERR_CIRCUIT_OPEN':
      return 'circuit-open'
    default:
      return undefined
  }
}

/**
 * Turns a telemetry name (`cache.hit`, `rate-limit/rejected`) into a valid Prometheus metric name part.
 *
 * @example
 * ```ts
 * sanitizeMetricName('cache.hit') // 'cache_hit'
 * ```
 */
export function sanitizeMetricName(name: string): string {
  const cleaned = name.replace(/[^a-zA-Z0-9_]/g, '_').replace(/_+/g, '_')
  return /^[0-9]/.test(cleaned) ? '_' + cleaned : cleaned
}

/**
 * Whether a string is a valid Prometheus label name (and not reserved).
 *
 * @example
 * ```ts
 * isLabelName('policy') // true
 * ```
 */
export function isLabelName(name: string): boolean {
  return /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name) && !name.startsWith('__')
}
