import { z } from '@gw/core'

const sourceList = z.array(z.string().min(1))

/** The seed's helmet CSP directives plus helmet's hardening defaults for an API (object-src, base-uri, ...). */
export const DEFAULT_CSP_DIRECTIVES: Record<string, string[] | boolean> = {
  'default-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'script-src': ["'self'"],
  'img-src': ["'self'", 'data:', 'https:'],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
}

/** Default Permissions-Policy: powerful features disabled for every origin. */
export const DEFAULT_PERMISSIONS_POLICY: Record<string, string[]> = {
  camera: [],
  microphone: [],
  geolocation: [],
  payment: [],
  usb: [],
}

/** Response headers removed by default because they reveal the implementation behind the gateway. */
export const DEFAULT_REMOVED_HEADERS = [
  'server',
  'x-powered-by',
  'x-aspnet-version',
  'x-aspnetmvc-version',
  'x-runtime',
  'x-generator',
]

const csp = z
  .object({
    directives: z
      .record(z.string().min(1), z.union([sourceList, z.boolean()]))
      .default(DEFAULT_CSP_DIRECTIVES)
      .describe(
        "CSP directives by name (camelCase or kebab-case). A list gives the sources; `true` emits a valueless directive such as `upgrade-insecure-requests`; `false` drops it. Default: the seed's directives (`default-src 'self'`, `style-src 'self' 'unsafe-inline'`, `script-src 'self'`, `img-src 'self' data: https:`) plus `object-src 'none'`, `base-uri 'self'`, `form-action 'self'`, `frame-ancestors 'none'`.",
      ),
    reportOnly: z
      .boolean()
      .default(false)
      .describe('Send `Content-Security-Policy-Report-Only` instead of enforcing the policy.'),
  })
  .strict()

const hsts = z
  .object({
    maxAge: z
      .number()
      .int()
      .min(0)
      .default(31_536_000)
      .describe('`max-age` in seconds (one year; preload lists require at least one year).'),
    includeSubDomains: z.boolean().default(true).describe('Add `includeSubDomains`.'),
    preload: z.boolean().default(true).describe('Add `preload` (as the seed does).'),
  })
  .strict()
  .refine((h) => !h.preload || (h.includeSubDomains && h.maxAge >= 31_536_000), {
    message: 'preload requires includeSubDomains and maxAge >= 31536000 (hstspreload.org rules)',
  })

/** Options of the `security-headers` policy. */
export const securityHeadersSchema = z
  .object({
    contentSecurityPolicy: z
      .union([z.literal(false), csp])
      .default({ directives: DEFAULT_CSP_DIRECTIVES, reportOnly: false })
      .describe('`Content-Security-Policy` settings, or `false` to omit the header.'),
    hsts: z
      .union([z.literal(false), hsts])
      .default({ maxAge: 31_536_000, includeSubDomains: true, preload: true })
      .describe('`Strict-Transport-Security` settings, or `false` to omit the header.'),
    frameguard: z
      .union([z.literal(false), z.enum(['deny', 'sameorigin'])])
      .default('deny')
      .describe('`X-Frame-Options` value (the seed uses `deny`), or `false` to omit it.'),
    referrerPolicy: z
      .union([
        z.literal(false),
        z.array(
          z.enum([
            'no-referrer',
            'no-referrer-when-downgrade',
            'origin',
            'origin-when-cross-origin',
            'same-origin',
            'strict-origin',
            'strict-origin-when-cross-origin',
            'unsafe-url',
          ]),
        ),
      ])
      .default(['no-referrer'])
      .describe('`Referrer-Policy` tokens (the last one the browser supports wins), or `false`.'),
    noSniff: z.boolean().default(true).describe('Send `X-Content-Type-Options: nosniff`.'),
    xssProtection: z
      .union([z.literal(false), z.enum(['0', '1', '1; mode=block'])])
      .default('0')
      .describe(
        '`X-XSS-Protection` value. Default `0` disables the legacy XSS auditor, which could itself be abused to leak data (OWASP, MDN); the seed enabled it.',
      ),
    crossOriginOpenerPolicy: z
      .union([z.literal(false), z.enum(['same-origin', 'same-origin-allow-popups', 'unsafe-none'])])
      .default('same-origin')
      .describe('`Cross-Origin-Opener-Policy` value, or `false`.'),
    crossOriginResourcePolicy: z
      .union([z.literal(false), z.enum(['same-origin', 'same-site', 'cross-origin'])])
      .default('same-origin')
      .describe(
        '`Cross-Origin-Resource-Policy` value, or `false`. It restricts no-cors embedding only; CORS requests are governed by the `cors` policy.',
      ),
    crossOriginEmbedderPolicy: z
      .union([z.literal(false), z.enum(['require-corp', 'credentialless', 'unsafe-none'])])
      .default(false)
      .describe('`Cross-Origin-Embedder-Policy` value, or `false` (default, as in helmet).'),
    originAgentCluster: z.boolean().default(true).describe('Send `Origin-Agent-Cluster: ?1`.'),
    permissionsPolicy: z
      .union([z.literal(false), z.record(z.string().min(1), z.array(z.string().min(1)))])
      .default(DEFAULT_PERMISSIONS_POLICY)
      .describe(
        '`Permissions-Policy` features and their allowlists (`self`, `*`, `src` or origins; `[]` disables the feature), or `false`.',
      ),
    dnsPrefetchControl: z.boolean().default(true).describe('Send `X-DNS-Prefetch-Control: off`.'),
    permittedCrossDomainPolicies: z
      .union([z.literal(false), z.enum(['none', 'master-only', 'by-content-type', 'all'])])
      .default('none')
      .describe('`X-Permitted-Cross-Domain-Policies` value, or `false`.'),
    removeHeaders: z
      .array(z.string().min(1).toLowerCase())
      .default(DEFAULT_REMOVED_HEADERS)
      .describe(
        'Response headers removed because they leak implementation details (`Server`, `X-Powered-By`, ...).',
      ),
    overwrite: z
      .boolean()
      .default(true)
      .describe('Replace a header the upstream already set; `false` keeps the upstream value.'),
  })
  .strict()

/** Parsed options of the `security-headers` policy. */
export type SecurityHeadersOptions = z.output<typeof securityHeadersSchema>
