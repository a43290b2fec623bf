import { duration, z } from '@gw/core'
import {
  checkKey,
  keyFields,
  memoryStoreSchema,
  policyName,
  redisStoreSchema,
  storeErrorFields,
} from '../shared-schema.js'
import type { ConcurrencyStore } from '../store/types.js'

/**
 * Options of the `concurrency-limit` policy.
 *
 * @example
 * ```ts
 * concurrencyLimitSchema.parse({ max: 10, key: 'header', header: 'x-api-key' })
 * ```
 */
export const concurrencyLimitSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Off switch: when false the policy does nothing.'),
    max: z.number().int().positive().describe('Most requests in flight per key.'),
    ...keyFields,
    name: policyName().default('concurrency').describe('Quota policy name in RateLimit headers and logs.'),
    id: policyName()
      .optional()
      .describe('Namespace of the counters; default the route id (gateway-level: "gateway").'),
    lease: duration()
      .default(60_000)
      .describe(
        'Redis: a slot not released within this time (crashed gateway) is freed. Keep above your slowest request.',
      ),
    store: z
      .union([
        z.discriminatedUnion('type', [memoryStoreSchema, redisStoreSchema]),
        z.custom<ConcurrencyStore>(
          (value) =>
            typeof value === 'object' &&
            value !== null &&
            typeof (value as ConcurrencyStore).acquire === 'function',
          'expected { type: memory | redis } or a ConcurrencyStore',
        ),
      ])
      .default({ type: 'memory', maxKeys: 100_000 })
      .describe(
        "Where in-flight counts live: { type: 'memory' } (per process), { type: 'redis' } (shared), or a store object.",
      ),
    ...storeErrorFields,
    headers: z
      .boolean()
      .default(true)
      .describe('Send RateLimit-Policy / RateLimit with quota unit "concurrent-requests".'),
  })
  .strict()
  .superRefine((value, ctx) => checkKey({ ...value, key: value.key ?? 'ip' }, ctx))
  .transform((value) => ({ ...value, key: value.key ?? 'ip' }))

/**
 * Input options of `concurrency-limit`.
 *
 * @example
 * ```ts
 * const options: ConcurrencyLimitOptions = { max: 10, key: 'principal' }
 * ```
 */
export type ConcurrencyLimitOptions = z.input<typeof concurrencyLimitSchema>
