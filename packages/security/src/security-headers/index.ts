import { coreErrors, definePolicy, type GwResponse } from '@gw/core'
import { type SecurityHeadersOptions, securityHeadersSchema } from './schema.js'

export {
  DEFAULT_CSP_DIRECTIVES,
  DEFAULT_PERMISSIONS_POLICY,
  DEFAULT_REMOVED_HEADERS,
  type SecurityHeadersOptions,
  securityHeadersSchema,
} from './schema.js'

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)

/**
 * Builds the header list a `security-headers` entry sends, once, at start-up.
 *
 * @example
 * ```ts
 * buildSecurityHeaders(securityHeadersSchema.parse({})) // [['content-security-policy', "default-src 'self'; ..."], ...]
 * ```
 */
export function buildSecurityHeaders(options: SecurityHeadersOptions): Array<[string, string]> {
  const out: Array<[string, string]> = []
  const csp = options.contentSecurityPolicy
  if (csp !== false) {
    const parts: string[] = []
    for (const [name, value] of Object.entries(csp.directives)) {
      if (value === false) continue
      const directive = kebab(name)
      if (!/^[a-z-]+$/.test(directive)) throw coreErrors.config.create(`invalid CSP directive name '${name}'`)
      if (value === true) parts.push(directive)
      else {
        for (const source of value)
          if (/[;,\s]/.test(source))
            throw coreErrors.config.create(`invalid CSP source '${source}' in ${directive}`)
        parts.push(value.length === 0 ? directive : `${directive} ${value.join(' ')}`)
      }
    }
    if (parts.length > 0)
      out.push([
        csp.reportOnly ? 'content-security-policy-report-only' : 'content-security-policy',
        parts.join('; '),
      ])
  }
  if (options.hsts !== false) {
    let value = `max-age=${options.hsts.maxAge}`
    if (options.hsts.includeSubDomains) value += '; includeSubDomains'
    if (options.hsts.preload) value += '; preload'
    out.push(['strict-transport-security', value])
  }
  if (options.frameguard !== false) out.push(['x-frame-options', options.frameguard.toUpperCase()])
  if (options.referrerPolicy !== false && options.referrerPolicy.length > 0)
    out.push(['referrer-policy', options.referrerPolicy.join(', ')])
  if (options.noSniff) out.push(['x-content-type-options', 'nosniff'])
  if (options.xssProtection !== false) out.push(['x-xss-protection', options.xssProtection])
  if (options.crossOriginOpenerPolicy !== false)
    out.push(['cross-origin-opener-policy', options.crossOriginOpenerPolicy])
  if (options.crossOriginResourcePolicy !== false)
    out.push(['cross-origin-resource-policy', options.crossOriginResourcePolicy])
  if (options.crossOriginEmbedderPolicy !== false)
    out.push(['cross-origin-embedder-policy', options.crossOriginEmbedderPolicy])
  if (options.originAgentCluster) out.push(['origin-agent-cluster', '?1'])
  if (options.permissionsPolicy !== false) {
    const features = Object.entries(options.permissionsPolicy).map(
      ([feature, allow]) =>
        `${kebab(feature)}=(${allow.map((a) => (a === 'self' || a === '*' || a === 'src' ? a : `"${a}"`)).join(' ')})`,
    )
    if (features.length > 0) out.push(['permissions-policy', features.join(', ')])
  }
  if (options.dnsPrefetchControl) out.push(['x-dns-prefetch-control', 'off'])
  if (options.permittedCrossDomainPolicies !== false)
    out.push(['x-permitted-cross-domain-policies', options.permittedCrossDomainPolicies])
  return out
}

/**
 * Adds security response headers (CSP, HSTS, X-Frame-Options, Referrer-Policy, nosniff, X-XSS-Protection,
 * COOP/CORP, Permissions-Policy, ...) to every response, including the gateway's own error replies, and removes
 * headers that reveal the implementation (`Server`, `X-Powered-By`). Header values are built once at start-up.
 *
 * @example
 * ```ts
 * createGateway({
 *   policies: [securityHeaders({ hsts: { maxAge: 63_072_000, includeSubDomains: true, preload: true } })],
 *   routes: [{ path: '/api/*', upstream: 'api' }],
 * })
 * ```
 */
export const securityHeaders = definePolicy({
  name: 'security-headers',
  stage: 'observe',
  description:
    'Security response headers (helmet equivalent) and removal of implementation-revealing headers.',
  schema: securityHeadersSchema,
  create(options) {
    const headers = buildSecurityHeaders(options)
    const remove = options.removeHeaders
    const removed = new Set(remove)
    const overwrite = options.overwrite
    return {
      onResponse(_ex, res) {
        let target = res.headers
        // Removing by `delete` would turn the headers into a slow dictionary-mode object that node then
        // serialises; a copy without them stays fast (and is only made when one is present).
        for (let i = 0; i < remove.length; i++) {
          if (target[remove[i]!] !== undefined) {
            target = withoutHeaders(target, removed)
            res.headers = target
            break
          }
        }
        for (let i = 0; i < headers.length; i++) {
          const [name, value] = headers[i]!
          if (overwrite || target[name] === undefined) target[name] = value
        }
      },
    }
  },
})

function withoutHeaders(headers: GwResponse['headers'], removed: ReadonlySet<string>): GwResponse['headers'] {
  const out: GwResponse['headers'] = {}
  for (const name in headers) if (!removed.has(name)) out[name] = headers[name]!
  return out
}
