import { duration, z } from '@gw/core'
import { ALGORITHMS, type Algorithm } from '../algorithms.js'
import type { KeyFunction, KeyKind } from '../keys.js'
import {
  checkKey,
  keyFields,
  memoryStoreSchema,
  policyName,
  redisStoreSchema,
  storeErrorFields,
} from '../shared-schema.js'
import type { RateLimitStore } from '../store/types.js'

const DEFAULT_LIMIT = 100
const DEFAULT_WINDOW = 900_000

const algorithm = z
  .enum(ALGORITHMS)
  .describe(
    "'fixed-window' (exact, resets at window boundaries), 'sliding-window' (weighted two-window counter; see its error bound), 'token-bucket' (burst of `burst`, refills `limit` per window), 'gcra' (evenly spaced, `burst` at once).",
  )

/**
 * One limit of a `rate-limit` policy.
 *
 * @example
 * ```ts
 * limitSchema.parse({ name: 'per-user', limit: 1000, window: '1h', key: 'principal' })
 * ```
 */
export const limitSchema = z
  .object({
    name: policyName()
      .optional()
      .describe(
        "Quota policy name in RateLimit headers and logs; default 'default' for one limit, else '<key>-<i>'.",
      ),
    limit: z.number().int().positive().describe('Requests (cost units) allowed per window.'),
    window: duration()
      .refine((ms) => ms >= 1, 'must be at least 1 ms')
      .describe('Window, e.g. 1s, 15m, 1d, 30d (for token bucket and GCRA: the time to refill `limit`).'),
    algorithm: algorithm.optional().describe("Overrides the policy's algorithm for this limit."),
    burst: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Token bucket capacity / GCRA burst; default `limit`. Not allowed for window algorithms.'),
    ...keyFields,
  })
  .strict()

/**
 * A store: `memory` (default), `redis`, or (in code) any {@link RateLimitStore}.
 *
 * @example
 * ```ts
 * rateLimitStoreSchema.parse({ type: 'redis', prefix: 'edge:rl:' })
 * ```
 */
export const rateLimitStoreSchema = z
  .union([
    z.discriminatedUnion('type', [memoryStoreSchema, redisStoreSchema]),
    z.custom<RateLimitStore>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as RateLimitStore).consume === 'function',
      'expected { type: memory | redis } or a RateLimitStore',
    ),
  ])
  .default({ type: 'memory', maxKeys: 100_000 })
  .describe(
    "Where counters live: { type: 'memory' } (per process, default), { type: 'redis' } (shared), or a store object.",
  )

/**
 * A limit after normalisation: every default resolved.
 *
 * @example
 * ```ts
 * const [first]: NormalizedLimit[] = rateLimitSchema.parse({}).limits // 100 per 15 minutes per ip
 * ```
 */
export interface NormalizedLimit {
  name: string
  limit: number
  windowMs: number
  algorithm: Algorithm
  burst: number
  key: KeyKind
  header: string | undefined
  keyFn: KeyFunction | undefined
}

/**
 * Options of the `rate-limit` policy (the shorthand `limit`/`window`/`key` or `limits`), normalised to `limits`.
 *
 * @example
 * ```ts
 * rateLimitSchema.parse({ limit: 10, window: '1s', algorithm: 'gcra' }).limits[0].windowMs // 1000
 * ```
 */
export const rateLimitSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Off switch (RATE_LIMIT_ENABLED): when false the policy does nothing.'),
    limit: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Shorthand for one limit: requests per window (RATE_LIMIT_MAX_REQUESTS); default 100.'),
    window: duration()
      .refine((ms) => ms >= 1, 'must be at least 1 ms')
      .optional()
      .describe('Shorthand for one limit: the window (RATE_LIMIT_WINDOW_MS); default 15m.'),
    burst: z
      .number()
      .int()
      .positive()
      .optional()
      .describe('Shorthand for one limit: token bucket / GCRA burst.'),
    ...keyFields,
    limits: z
      .array(limitSchema)
      .min(1)
      .optional()
      .describe(
        'Several limits, each with its own key, all checked in one store call (instead of the shorthand).',
      ),
    algorithm: algorithm.default('fixed-window'),
    cost: z
      .number()
      .int()
      .positive()
      .default(1)
      .describe(
        'Units each request takes (a weight per route); a request costing more than a limit is always denied.',
      ),
    id: policyName()
      .optional()
      .describe(
        'Namespace of this policy\'s counters; default the route id (gateway-level: "gateway"). Equal ids share counters.',
      ),
    store: rateLimitStoreSchema,
    ...storeErrorFields,
    denyCache: z
      .boolean()
      .default(true)
      .describe(
        'Shared stores: remember a key the store denied until its Retry-After and deny it locally without a store call (the store could only deny it too). A counter deleted by hand in Redis stays denied on each gateway until then.',
      ),
    headers: z
      .object({
        ietf: z
          .boolean()
          .default(true)
          .describe('Send RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers).'),
        legacy: z
          .boolean()
          .default(false)
          .describe(
            'Also send X-RateLimit-Limit / -Remaining / -Reset (epoch seconds) of the most restrictive limit.',
          ),
      })
      .strict()
      .prefault({})
      .describe('Response headers.'),
  })
  .strict()
  .superRefine((value, ctx) => {
    const shorthand = ['limit', 'window', 'burst', 'key', 'header', 'keyFn'] as const
    if (value.limits !== undefined) {
      for (const field of shorthand)
        if (value[field] !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: [field],
            message: "use either 'limits' or the one-limit shorthand",
          })
      const names = new Set<string>()
      value.limits.forEach((limit, i) => {
        checkKey({ ...limit, key: limit.key ?? 'ip' }, ctx, ['limits', i])
        checkBurst(limit.algorithm ?? value.algorithm, limit.burst, ctx, ['limits', i, 'burst'])
        const name = limit.name ?? (value.limits!.length === 1 ? 'default' : `${limit.key ?? 'ip'}-${i}`)
        if (names.has(name))
          ctx.addIssue({
            code: 'custom',
            path: ['limits', i, 'name'],
            message: `duplicate limit name '${name}'`,
          })
        names.add(name)
      })
    } else {
      checkKey({ ...value, key: value.key ?? 'ip' }, ctx)
      checkBurst(value.algorithm, value.burst, ctx, ['burst'])
    }
  })
  .transform((value) => {
    const limits: NormalizedLimit[] = (
      value.limits ?? [
        {
          limit: value.limit ?? DEFAULT_LIMIT,
          window: value.window ?? DEFAULT_WINDOW,
          burst: value.burst,
          key: value.key,
          header: value.header,
          keyFn: value.keyFn,
          name: undefined,
          algorithm: undefined,
        },
      ]
    ).map((limit, i, all) => ({
      name: limit.name ?? (all.length === 1 ? 'default' : `${limit.key ?? 'ip'}-${i}`),
      limit: limit.limit,
      windowMs: limit.window,
      algorithm: limit.algorithm ?? value.algorithm,
      burst: limit.burst ?? limit.limit,
      key: limit.key ?? 'ip',
      header: limit.header,
      keyFn: limit.keyFn,
    }))
    return {
      enabled: value.enabled,
      limits,
      cost: value.cost,
      id: value.id,
      store: value.store,
      onStoreError: value.onStoreError,
      timeout: value.timeout,
      breaker: value.breaker,
      fallback: value.fallback,
      denyCache: value.denyCache,
      headers: value.headers,
    }
  })

function checkBurst(
  algo: Algorithm,
  burst: number | undefined,
  ctx: z.RefinementCtx,
  path: (string | number)[],
): void {
  if (burst !== undefined && (algo === 'fixed-window' || algo === 'sliding-window'))
    ctx.addIssue({ code: 'custom', path, message: `burst is not used by ${algo}` })
}

/**
 * Input options of `rate-limit`.
 *
 * @example
 * ```ts
 * const options: RateLimitOptions = { limit: 100, window: '15m', key: 'ip' }
 * ```
 */
export type RateLimitOptions = z.input<typeof rateLimitSchema>
/**
 * Validated, normalised options of `rate-limit`.
 *
 * @example
 * ```ts
 * const config: RateLimitConfig = rateLimitSchema.parse({ limit: 10, window: '1s' })
 * ```
 */
export type RateLimitConfig = z.output<typeof rateLimitSchema>
