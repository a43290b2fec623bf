import { defineErrors } from '@gw/core'

/**
 * The error catalogue of @gw/auth. Every denial is one of these codes; 401 and 403 responses also carry an
 * RFC 6750 `WWW-Authenticate` challenge.
 *
 * @example
 * ```ts
 * import { authErrors } from '@gw/auth'
 * expect(res.json().code).toBe(authErrors.invalidToken.code)
 * ```
 */
export const authErrors = defineErrors({
  missing: { code: 'GW_ERR_AUTH_MISSING', status: 401, title: 'Authentication required' },
  invalidRequest: {
    code: 'GW_ERR_AUTH_INVALID_REQUEST',
    status: 400,
    title: 'Invalid authentication request',
  },
  duplicate: {
    code: 'GW_ERR_AUTH_DUPLICATE_CREDENTIALS',
    status: 400,
    title: 'More than one credential in the request',
  },
  invalidToken: { code: 'GW_ERR_AUTH_INVALID_TOKEN', status: 401, title: 'Invalid access token' },
  invalidApiKey: { code: 'GW_ERR_AUTH_INVALID_API_KEY', status: 401, title: 'Invalid API key' },
  invalidCredentials: {
    code: 'GW_ERR_AUTH_INVALID_CREDENTIALS',
    status: 401,
    title: 'Invalid username or password',
  },
  insufficientScope: { code: 'GW_ERR_AUTH_INSUFFICIENT_SCOPE', status: 403, title: 'Insufficient scope' },
  forbidden: { code: 'GW_ERR_AUTH_FORBIDDEN', status: 403, title: 'Forbidden' },
  unavailable: {
    code: 'GW_ERR_AUTH_UNAVAILABLE',
    status: 503,
    title: 'Authentication service unavailable',
  },
})
