import type { ErrorDecision, GatewayError } from '@gw/core'
import { authErrors } from '../errors.js'
import { challenge } from './challenge.js'

/** Builds the denials of a bearer-token policy with prebuilt RFC 6750 challenges. */
export interface BearerDenials {
  /** No credential at all: 401 with a bare challenge (RFC 6750 §3.1: no error code). */
  missing(decision?: ErrorDecision): GatewayError
  /** Malformed request or several credentials: 400 `invalid_request`. */
  invalidRequest(duplicate: boolean, decision?: ErrorDecision): GatewayError
  /** Invalid, expired or unverifiable token: 401 `invalid_token` with a safe description. */
  invalidToken(expired: boolean, decision?: ErrorDecision): GatewayError
  /** The `WWW-Authenticate` value sent when the credential is missing (used by `any-of`). */
  readonly challenge: string
}

/**
 * Prebuilds the RFC 6750 challenges of a bearer policy for one realm.
 *
 * @example
 * ```ts
 * const deny = bearerDenials('api')
 * throw deny.invalidToken(true, { reason: 'expired' }) // 401, WWW-Authenticate: Bearer realm="api", error="invalid_token", ...
 * ```
 */
export function bearerDenials(realm: string): BearerDenials {
  const bare = { 'www-authenticate': challenge('Bearer', { realm }) }
  const request = {
    'www-authenticate': challenge('Bearer', {
      realm,
      error: 'invalid_request',
      error_description: 'Malformed or duplicated credentials',
    }),
  }
  const invalid = {
    'www-authenticate': challenge('Bearer', {
      realm,
      error: 'invalid_token',
      error_description: 'The access token is invalid',
    }),
  }
  const expired = {
    'www-authenticate': challenge('Bearer', {
      realm,
      error: 'invalid_token',
      error_description: 'The access token expired',
    }),
  }
  return {
    challenge: bare['www-authenticate'],
    missing: (decision) =>
      authErrors.missing.create('Send an access token in the Authorization header', {
        headers: bare,
        decision,
      }),
    invalidRequest: (duplicate, decision) =>
      duplicate
        ? authErrors.duplicate.create('Send exactly one credential', { headers: request, decision })
        : authErrors.invalidRequest.create('The credential is malformed', { headers: request, decision }),
    invalidToken: (isExpired, decision) =>
      isExpired
        ? authErrors.invalidToken.create('The access token expired', { headers: expired, decision })
        : authErrors.invalidToken.create('The access token is invalid', { headers: invalid, decision }),
  }
}

/**
 * Reads scopes from a claim: a space-separated string (RFC 6749 §3.3, RFC 8693 `scope`) or an array of
 * strings (`scp`).
 *
 * @example
 * ```ts
 * parseScopes('read write') // ['read', 'write']
 * ```
 */
export function parseScopes(value: unknown): string[] {
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '')
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string' && s !== '')
  return []
}
