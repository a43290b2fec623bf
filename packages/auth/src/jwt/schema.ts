import { duration, z } from '@gw/core'
import {
  auditSchema,
  realmSchema,
  resultCacheSchema,
  stripCredentialSchema,
  tokenSourcesSchema,
} from '../shared/schemas.js'

/**
 * JWS algorithms the jwt policy can allow. `none` is not among them: unsecured tokens are always rejected.
 *
 * @example
 * ```ts
 * JWS_ALGORITHMS.includes('ES256') // true; 'none' is not in the list
 * ```
 */
export const JWS_ALGORITHMS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const

/**
 * One of {@link JWS_ALGORITHMS}.
 *
 * @example
 * ```ts
 * const algs: JwsAlgorithm[] = ['RS256', 'PS256']
 * ```
 */
export type JwsAlgorithm = (typeof JWS_ALGORITHMS)[number]

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).nonempty()])

const jwkSchema = z
  .looseObject({
    kty: z.string().describe('Key type (RSA, EC, OKP).'),
  })
  .describe('A public JSON Web Key.')

/**
 * Options of the `jwt` policy.
 *
 * @example
 * ```ts
 * jwtSchema.parse({ algorithms: ['HS256'], secret: process.env.JWT_SECRET }).maxTokenLength // 8192
 * ```
 */
export const jwtSchema = z
  .object({
    algorithms: z
      .array(z.enum(JWS_ALGORITHMS))
      .nonempty()
      .describe(
        'Allowed JWS algorithms. HMAC (HS*) only with `secret`; asymmetric ones only with `publicKey`, `jwks` or `jwksUri`. `none` is never accepted.',
      ),
    secret: z
      .string()
      .min(32, 'an HMAC secret must be at least 32 bytes (RFC 7518 §3.2)')
      .optional()
      .describe('Shared HMAC secret (e.g. from the JWT_SECRET variable), at least 32 bytes.'),
    secretEncoding: z
      .enum(['utf8', 'base64', 'base64url'])
      .default('utf8')
      .describe('How `secret` is encoded.'),
    publicKey: z
      .union([z.string().min(1), jwkSchema])
      .optional()
      .describe('A public key: PEM (SPKI or X.509 certificate) or a JWK object.'),
    jwks: z
      .object({ keys: z.array(jwkSchema).nonempty().describe('Public JWKs (with `kid` when several).') })
      .optional()
      .describe('An inline JSON Web Key Set; the token `kid` selects the key.'),
    jwksUri: z
      .url({ protocol: /^https?$/ })
      .optional()
      .describe('URL of a remote JSON Web Key Set (keys cached, refetched on unknown `kid`).'),
    discovery: z
      .boolean()
      .default(false)
      .describe(
        'Find the JWKS at start-up from `<issuer>/.well-known/openid-configuration` (`jwks_uri`); needs one `issuer`.',
      ),
    jwksCacheMaxAge: duration()
      .default(50_000)
      .describe(
        'Longest time a fetched key set is used: its `Cache-Control: max-age` is clamped to this (and used when absent). A key removed from the set stops verifying within this plus `jwksTimeout`.',
      ),
    jwksCacheMinAge: duration()
      .default(5_000)
      .describe(
        'Shortest time a fetched key set is used, whatever its `Cache-Control` says (`no-cache`, `max-age=0`).',
      ),
    jwksCooldown: duration()
      .default(5_000)
      .describe(
        'Minimum time between two fetches of the remote key set: a token with an unknown `kid` refetches at most this often (retries after failures too).',
      ),
    jwksTimeout: duration().default(5_000).describe('Timeout of one key set fetch.'),
    issuer: stringOrList.optional().describe('Accepted `iss` value(s); required when set.'),
    audience: stringOrList.optional().describe('Accepted `aud` value(s); required when set.'),
    requiredClaims: z
      .array(z.string().min(1))
      .default(['exp', 'sub'])
      .describe('Claims every token must carry.'),
    clockTolerance: duration().default(0).describe('Leeway when checking `exp`, `nbf` and `iat`.'),
    maxTokenAge: duration().optional().describe('Reject tokens whose `iat` is older than this.'),
    typ: z.string().optional().describe('Required `typ` header, e.g. `at+jwt` (RFC 9068).'),
    maxTokenLength: z
      .number()
      .int()
      .positive()
      .default(8192)
      .describe('Longer tokens are rejected before any parsing.'),
    tokenFrom: tokenSourcesSchema,
    subjectClaim: z.string().min(1).default('sub').describe('Claim that becomes the principal subject.'),
    consumerClaim: z
      .string()
      .min(1)
      .default('client_id')
      .describe('Claim that becomes the principal consumer (RFC 9068 `client_id`); `azp` is the fallback.'),
    scopeClaims: z
      .array(z.string().min(1))
      .default(['scope', 'scp'])
      .describe('Claims holding granted scopes (space-separated string or array), first present wins.'),
    forwardClaims: z
      .record(z.string().min(1), z.string().min(1).toLowerCase())
      .default({})
      .describe(
        'Claims forwarded upstream as headers, e.g. `{ sub: x-user-id }`. These headers are always removed from the client request first, so they cannot be spoofed.',
      ),
    stripCredential: stripCredentialSchema,
    cache: resultCacheSchema(300_000),
    realm: realmSchema,
    audit: auditSchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    const sources = [
      config.secret,
      config.publicKey,
      config.jwks,
      config.jwksUri,
      config.discovery ? true : undefined,
    ].filter((s) => s !== undefined)
    if (sources.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: 'set exactly one key source: secret, publicKey, jwks, jwksUri or discovery',
        path: [],
      })
      return
    }
    if (config.discovery && typeof config.issuer !== 'string') {
      ctx.addIssue({ code: 'custom', path: ['issuer'], message: 'discovery needs a single issuer' })
    }
    const hmac = config.secret !== undefined
    const secretBytes = hmac ? Buffer.from(config.secret!, config.secretEncoding).length : 0
    config.algorithms.forEach((alg, i) => {
      const needed = alg.startsWith('HS') ? Number(alg.slice(2)) / 8 : 0
      if (hmac && secretBytes < needed) {
        ctx.addIssue({
          code: 'custom',
          path: ['secret'],
          message: `${alg} needs a secret of at least ${needed} bytes (RFC 7518 §3.2); this one has ${secretBytes}`,
        })
      }
      if (alg.startsWith('HS') !== hmac) {
        ctx.addIssue({
          code: 'custom',
          path: ['algorithms', i],
          message: hmac
            ? `${alg} cannot be verified with an HMAC secret`
            : `${alg} needs a shared secret; asymmetric keys never verify HMAC tokens`,
        })
      }
    })
  })

/**
 * Options of the `jwt` policy as written.
 *
 * @example
 * ```ts
 * const options: JwtOptions = { algorithms: ['ES256'], jwksUri: 'https://idp.example/jwks' }
 * ```
 */
export type JwtOptions = z.input<typeof jwtSchema>
/**
 * Options of the `jwt` policy after validation and defaults.
 *
 * @example
 * ```ts
 * const config: JwtConfig = jwt({ algorithms: ['HS256'], secret }).options
 * ```
 */
export type JwtConfig = z.output<typeof jwtSchema>
