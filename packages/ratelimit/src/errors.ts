import { defineErrors } from '@gw/core'

/**
 * The error catalogue of @gw/ratelimit.
 *
 * @example
 * ```ts
 * throw ratelimitErrors.limited.create('Rate limit per-ip exceeded', { headers: { 'retry-after': '30' } })
 * ```
 */
export const ratelimitErrors = defineErrors({
  limited: { code: 'GW_ERR_RATE_LIMITED', status: 429, title: 'Too many requests' },
  concurrency: { code: 'GW_ERR_CONCURRENCY_LIMITED', status: 429, title: 'Too many concurrent requests' },
  storeUnavailable: {
    code: 'GW_ERR_RATE_LIMIT_UNAVAILABLE',
    status: 503,
    title: 'Rate limit store unavailable',
  },
  storeRefused: {
    code: 'GW_ERR_RATE_LIMIT_STORE_REFUSED',
    status: 500,
    title: 'Rate limit store refused its script',
  },
})
