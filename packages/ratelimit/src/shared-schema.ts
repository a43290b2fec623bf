import { duration, z } from '@gw/core'
import { POLICY_NAME } from './headers.js'
import { KEY_KINDS, type KeyFunction } from './keys.js'

/**
 * The key options shared by `rate-limit` limits and `concurrency-limit`.
 *
 * @example
 * ```ts
 * z.object({ ...keyFields })
 * ```
 */
export const keyFields = {
  key: z
    .enum(KEY_KINDS)
    .optional()
    .describe(
      "What to count by: 'ip' (default), 'header' (e.g. an API key), 'principal' (authenticated subject, needs an auth policy earlier), 'consumer' (principal consumer, else subject), 'route', 'global' (one counter), 'custom' (keyFn, code only).",
    ),
  header: z
    .string()
    .min(1)
    .toLowerCase()
    .optional()
    .describe("Header to count by when key is 'header'; requests without it are not limited by this limit."),
  keyFn: z
    .custom<KeyFunction>(
      (value) => typeof value === 'function',
      'expected a function (ex) => string | undefined',
    )
    .optional()
    .describe("Key function when key is 'custom' (code only); returning undefined skips the limit."),
}

/**
 * Cross-field rules of the key options (header with key 'header', keyFn with key 'custom').
 *
 * @example
 * ```ts
 * schema.superRefine((value, ctx) => checkKey(value, ctx))
 * ```
 */
export function checkKey(
  value: { key?: string | undefined; header?: string | undefined; keyFn?: unknown },
  ctx: z.RefinementCtx,
  path: (string | number)[] = [],
): void {
  if (value.key === 'header' && value.header === undefined)
    ctx.addIssue({ code: 'custom', path: [...path, 'header'], message: "required when key is 'header'" })
  if (value.key === 'custom' && value.keyFn === undefined)
    ctx.addIssue({ code: 'custom', path: [...path, 'keyFn'], message: "required when key is 'custom'" })
  if (value.header !== undefined && value.key !== 'header')
    ctx.addIssue({ code: 'custom', path: [...path, 'header'], message: "only used when key is 'header'" })
  if (value.keyFn !== undefined && value.key !== 'custom')
    ctx.addIssue({ code: 'custom', path: [...path, 'keyFn'], message: "only used when key is 'custom'" })
}

/**
 * A quota policy name as shown in RateLimit headers.
 *
 * @example
 * ```ts
 * policyName().parse('per-ip')
 * ```
 */
export const policyName = () =>
  z.string().regex(POLICY_NAME, 'use letters, digits, and _ . : - (at most 64 characters)')

/**
 * How a policy behaves when its store fails: onStoreError, timeout, breaker, fallback.
 *
 * @example
 * ```ts
 * z.object({ ...storeErrorFields }).parse({ onStoreError: 'closed' })
 * ```
 */
export const storeErrorFields = {
  onStoreError: z
    .enum(['open', 'closed'])
    .default('open')
    .describe(
      "When the store fails, times out or its breaker is open: 'open' decides with a local limiter instead (each gateway process admits at most ceil(limit / fallback.instances) per window on its own; the bound is in the README), 'closed' answers 503.",
    ),
  timeout: duration()
    .default(100)
    .describe(
      'Per-call store timeout (asynchronous stores such as Redis); an answer later than this counts as a failure and the request is decided per onStoreError. An answer that arrived while the gateway itself was busy is not late.',
    ),
  breaker: z
    .object({
      failures: z
        .number()
        .int()
        .positive()
        .default(3)
        .describe('Consecutive store failures (errors or timeouts) that open the breaker.'),
      cooldown: duration()
        .default(1000)
        .describe(
          'How long the open breaker skips the store; then one request probes it (the others stay on the fallback until the probe answers).',
        ),
    })
    .strict()
    .prefault({})
    .describe('Circuit breaker around the store: while open, a dead store costs nothing per request.'),
  fallback: z
    .object({
      instances: z
        .number()
        .int()
        .positive()
        .default(4)
        .describe(
          'Gateway processes (replicas x workers) sharing the store. While the store is unavailable, each process admits at most ceil(limit / instances) per window (ceil(burst / instances) at once) per key on its own.',
        ),
      maxKeys: z
        .number()
        .int()
        .positive()
        .default(10_000)
        .describe('Most keys the local fallback limiter keeps (least recently used forgotten beyond it).'),
    })
    .strict()
    .prefault({})
    .describe("The local limiter that decides while the store is unavailable and onStoreError is 'open'."),
}

/**
 * The memory store option.
 *
 * @example
 * ```ts
 * memoryStoreSchema.parse({ type: 'memory', maxKeys: 50_000 })
 * ```
 */
export const memoryStoreSchema = z
  .object({
    type: z.literal('memory').describe('Per-process store (lru-cache).'),
    maxKeys: z
      .number()
      .int()
      .positive()
      .default(100_000)
      .describe(
        'Most keys kept per policy (about 450 bytes each); the least recently used is forgotten beyond it.',
      ),
  })
  .strict()

/**
 * The Redis store option.
 *
 * @example
 * ```ts
 * redisStoreSchema.parse({ type: 'redis', prefix: 'edge:rl:' })
 * ```
 */
export const redisStoreSchema = z
  .object({
    type: z
      .literal('redis')
      .describe("Shared store on the app's `redis` resource (ioredis: standalone, Sentinel or Cluster)."),
    prefix: z.string().default('gw:rl:').describe('Prefix of every Redis key this policy writes.'),
    clock: z
      .enum(['redis', 'local'])
      .default('redis')
      .describe(
        "'redis': Redis server TIME, so gateways with skewed clocks agree; 'local': the gateway clock.",
      ),
    startupWait: duration()
      .default(2000)
      .describe(
        'At start-up, wait up to this long for the Redis connection and load the Lua script (SCRIPT LOAD on every master) before the gateway listens; past it, start anyway on the fallback. A script Redis refuses fails the start.',
      ),
  })
  .strict()
