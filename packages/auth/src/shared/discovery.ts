import type { AuthFetch } from './fetch.js'

/**
 * The parts of an OpenID Provider / RFC 8414 metadata document gw uses.
 *
 * @example
 * ```ts
 * const { introspection_endpoint, jwks_uri }: ServerMetadata = await discover(issuer, fetch, 2000)
 * ```
 */
export interface ServerMetadata {
  issuer: string
  introspection_endpoint?: string
  jwks_uri?: string
  [key: string]: unknown
}

/**
 * Reads `<issuer>/.well-known/openid-configuration` and checks that it names the same issuer (OpenID Connect
 * Discovery §4.3), so a spoofed document cannot redirect token checks.
 *
 * @example
 * ```ts
 * const meta = await discover('https://idp.example', fetch, 2000)
 * meta.introspection_endpoint // 'https://idp.example/token/introspection'
 * ```
 */
export async function discover(issuer: string, http: AuthFetch, timeout: number): Promise<ServerMetadata> {
  const url = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`
  const res = await http(url, {
    signal: AbortSignal.timeout(timeout),
    headers: { accept: 'application/json' },
  })
  if (!res.ok) throw new Error(`discovery document answered ${res.status}`)
  const body = (await res.json()) as Partial<ServerMetadata> | null
  if (typeof body !== 'object' || body === null || typeof body.issuer !== 'string') {
    throw new Error('discovery document has no issuer')
  }
  if (body.issuer.replace(/\/$/, '') !== issuer.replace(/\/$/, '')) {
    throw new Error(`discovery document names issuer '${body.issuer}', expected '${issuer}'`)
  }
  return body as ServerMetadata
}
