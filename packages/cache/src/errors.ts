import { defineErrors } from '@gw/core'

/**
 * The error catalogue of @gw/cache.
 *
 * @example
 * ```ts
 * throw cacheErrors.onlyIfCached.create('No stored response for /products/7')
 * ```
 */
export const cacheErrors = defineErrors({
  onlyIfCached: {
    code: 'GW_ERR_CACHE_ONLY_IF_CACHED',
    status: 504,
    title: 'No stored response satisfies only-if-cached',
  },
  purgeUnauthorized: {
    code: 'GW_ERR_CACHE_PURGE_UNAUTHORIZED',
    status: 401,
    title: 'Purge requires an API key',
  },
  purgeBadRequest: { code: 'GW_ERR_CACHE_PURGE_BAD_REQUEST', status: 400, title: 'Invalid purge request' },
})
