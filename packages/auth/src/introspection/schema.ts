import { duration, z } from '@gw/core'
import {
  auditSchema,
  realmSchema,
  resultCacheSchema,
  stripCredentialSchema,
  tokenSourcesSchema,
} from '../shared/schemas.js'

/**
 * Options of the `introspection` policy.
 *
 * @example
 * ```ts
 * introspectionSchema.parse({ issuer: 'https://idp.example', clientId: 'gw', clientSecret }).timeout // 2000
 * ```
 */
export const introspectionSchema = z
  .object({
    issuer: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe(
        'Authorization server issuer; `<issuer>/.well-known/openid-configuration` is read at start-up to find the introspection endpoint.',
      ),
    introspectionEndpoint: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('RFC 7662 endpoint; skips discovery when set.'),
    clientId: z.string().min(1).describe('Client id the gateway authenticates with.'),
    clientSecret: z.string().min(1).describe('Client secret (from the environment; never logged).'),
    clientAuth: z
      .enum(['client_secret_basic', 'client_secret_post'])
      .default('client_secret_basic')
      .describe('How the gateway authenticates to the introspection endpoint (RFC 6749 §2.3.1).'),
    tokenTypeHint: z
      .string()
      .min(1)
      .optional()
      .default('access_token')
      .describe('`token_type_hint` sent with each request.'),
    audience: z
      .union([z.string().min(1), z.array(z.string().min(1)).nonempty()])
      .optional()
      .describe('Accepted `aud` value(s) of the introspection response; required when set.'),
    timeout: duration().default(2_000).describe('Timeout of one introspection call (and of discovery).'),
    onError: z
      .enum(['unavailable', 'unauthorized'])
      .default('unavailable')
      .describe(
        'Answer when the authorization server fails or times out: 503 (`unavailable`) or 401 (`unauthorized`).',
      ),
    cache: resultCacheSchema(60_000),
    inactiveCacheTtl: duration()
      .default(10_000)
      .describe(
        'How long an `active: false` answer is remembered (protects the server from replayed junk); 0 disables.',
      ),
    tokenFrom: tokenSourcesSchema,
    stripCredential: stripCredentialSchema,
    realm: realmSchema,
    audit: auditSchema,
  })
  .strict()
  .refine((c) => c.issuer !== undefined || c.introspectionEndpoint !== undefined, {
    message: 'set issuer (for discovery) or introspectionEndpoint',
    path: ['issuer'],
  })

/**
 * Options of the `introspection` policy as written.
 *
 * @example
 * ```ts
 * const options: IntrospectionOptions = { introspectionEndpoint: 'https://idp.example/introspect', clientId: 'gw', clientSecret }
 * ```
 */
export type IntrospectionOptions = z.input<typeof introspectionSchema>
