/** Parameters of a `WWW-Authenticate` challenge (RFC 7235 auth-params, RFC 6750 §3). */
export type ChallengeParams = Record<string, string | undefined>

/**
 * Renders one `WWW-Authenticate` challenge, quoting and escaping every parameter value. Built at start-up:
 * per request, policies only pick a prebuilt string.
 *
 * @example
 * ```ts
 * challenge('Bearer', { realm: 'api', error: 'invalid_token' }) // 'Bearer realm="api", error="invalid_token"'
 * ```
 */
export function challenge(scheme: string, params: ChallengeParams): string {
  const parts: string[] = []
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined) continue
    parts.push(`${name}="${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ')}"`)
  }
  return parts.length === 0 ? scheme : `${scheme} ${parts.join(', ')}`
}

/** The RFC 6750 §3.1 error codes. */
export type BearerError = 'invalid_request' | 'invalid_token' | 'insufficient_scope'
