import { duration, z } from '@gw/core'
import { auditSchema, realmSchema, stripCredentialSchema } from '../shared/schemas.js'

const sha256Hex = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^[0-9a-f]{64}$/,
    'expected the SHA-256 of the key as 64 hex digits (see hashApiKey / gw-auth hash-key)',
  )

/**
 * One key of a consumer: its SHA-256 and optionally when it stops working (for rotation).
 *
 * @example
 * ```ts
 * apiKeyEntrySchema.parse({ sha256: hashApiKey(key), id: '2026-q1', expiresAt: '2026-04-01T00:00:00Z' })
 * ```
 */
export const apiKeyEntrySchema = z.union([
  sha256Hex,
  z
    .object({
      sha256: sha256Hex.describe('SHA-256 of the key, hex.'),
      id: z.string().min(1).optional().describe('A label for logs (e.g. `2026-q1`); never the key.'),
      expiresAt: z.iso
        .datetime({ offset: true })
        .optional()
        .describe('ISO 8601 instant after which the key is refused (rotation).'),
    })
    .strict(),
])

/**
 * A consumer: who the key belongs to.
 *
 * @example
 * ```ts
 * apiKeyConsumerSchema.parse({ id: 'billing', plan: 'pro', keys: [hashApiKey(key)] })
 * ```
 */
export const apiKeyConsumerSchema = z
  .object({
    id: z.string().min(1).describe('Consumer id; becomes the principal subject and consumer.'),
    plan: z.string().min(1).optional().describe('Plan or tier (e.g. `free`, `pro`), in `claims.plan`.'),
    scopes: z.array(z.string().min(1)).default([]).describe('Scopes granted to the consumer.'),
    claims: z.record(z.string(), z.unknown()).default({}).describe('Extra claims on the principal.'),
    keys: z
      .array(apiKeyEntrySchema)
      .nonempty()
      .describe('Active keys as SHA-256 hashes; several per consumer allow rotation without downtime.'),
  })
  .strict()

/**
 * Options of the `api-key` policy.
 *
 * @example
 * ```ts
 * apiKeySchema.parse({ consumers: [{ id: 'billing', keys: [hashApiKey(key)] }] }).header // 'x-api-key'
 * ```
 */
export const apiKeySchema = z
  .object({
    header: z
      .string()
      .min(1)
      .toLowerCase()
      .nullable()
      .default('x-api-key')
      .describe(
        'Header carrying the key (in config files e.g. from the API_KEY_HEADER variable); `null` to disable.',
      ),
    query: z
      .string()
      .min(1)
      .optional()
      .describe('Query parameter carrying the key (keys in URLs end up in logs: prefer the header).'),
    consumers: z.array(apiKeyConsumerSchema).default([]).describe('Consumers and the hashes of their keys.'),
    redis: z
      .object({
        prefix: z
          .string()
          .min(1)
          .default('gw:apikey:')
          .describe('Key prefix; a key is looked up at `<prefix><sha256>` (a Redis hash).'),
        cacheTtl: duration()
          .default(30_000)
          .describe('How long lookups (hits and misses) are cached in memory.'),
        cacheMax: z.number().int().positive().default(10_000).describe('Maximum cached lookups.'),
      })
      .strict()
      .optional()
      .describe(
        'Also look keys up in Redis (the app provides the `redis` resource), for keys managed outside the config.',
      ),
    maxKeyLength: z
      .number()
      .int()
      .positive()
      .default(512)
      .describe('Longer keys are refused without hashing.'),
    consumerHeader: z
      .string()
      .min(1)
      .toLowerCase()
      .optional()
      .describe('Forward the consumer id upstream in this header (client copies are always removed).'),
    stripCredential: stripCredentialSchema,
    realm: realmSchema,
    audit: auditSchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.header === null && config.query === undefined) {
      ctx.addIssue({ code: 'custom', path: ['header'], message: 'set a header or a query parameter' })
    }
    if (config.consumers.length === 0 && config.redis === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['consumers'],
        message: 'configure consumers or a redis key store',
      })
    }
    const seen = new Map<string, string>()
    config.consumers.forEach((consumer, i) => {
      consumer.keys.forEach((key, j) => {
        const hash = typeof key === 'string' ? key : key.sha256
        const owner = seen.get(hash)
        if (owner !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['consumers', i, 'keys', j],
            message: `this key hash is already configured for consumer '${owner}'`,
          })
        }
        seen.set(hash, consumer.id)
      })
    })
  })

/**
 * Options of the `api-key` policy as written.
 *
 * @example
 * ```ts
 * const options: ApiKeyOptions = { header: 'X-Partner-Key', consumers }
 * ```
 */
export type ApiKeyOptions = z.input<typeof apiKeySchema>
/**
 * Options of the `api-key` policy after validation.
 *
 * @example
 * ```ts
 * const config: ApiKeyConfig = apiKey({ consumers }).options
 * ```
 */
export type ApiKeyConfig = z.output<typeof apiKeySchema>
