import { concurrencyLimit } from './concurrency-limit/index.js'
import { rateLimit } from './rate-limit/index.js'

export { ALGORITHMS, type Algorithm, evaluate, type LimitOutcome, type LimitSpec } from './algorithms.js'
export { type ConcurrencyLimitOptions, concurrencyLimitSchema } from './concurrency-limit/schema.js'
export { ratelimitErrors } from './errors.js'
export { policyItem, sfString } from './headers.js'
export { KEY_KINDS, type KeyFunction, type KeyKind } from './keys.js'
export {
  limitSchema,
  type RateLimitConfig,
  type RateLimitOptions,
  rateLimitSchema,
} from './rate-limit/schema.js'
export {
  createMemoryConcurrencyStore,
  createMemoryStore,
  type MemoryConcurrencyStore,
  type MemoryRateLimitStore,
  type MemoryStoreOptions,
} from './store/memory.js'
export type { Acquisition, ConcurrencyStore, Decision, LimitCheck, RateLimitStore } from './store/types.js'
export { concurrencyLimit, rateLimit }

/**
 * Every policy of this package, for registries and the gw CLI.
 *
 * @example
 * ```ts
 * const registry = createPolicyRegistry([...policies])
 * ```
 */
export const policies = [rateLimit, concurrencyLimit]
