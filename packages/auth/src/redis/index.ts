import type {} from '@gw/core'
import type { Redis } from 'ioredis'

declare module '@gw/core' {
  interface Resources {
    redis: import('ioredis').Redis | import('ioredis').Cluster
  }
}

/**
 * A consumer stored in Redis for the `api-key` policy's `redis` key store.
 *
 * @example
 * ```ts
 * const record: StoredApiKey = { sha256: hashApiKey(key), id: 'ops-tool', scopes: ['admin'] }
 * ```
 */
export interface StoredApiKey {
  /** SHA-256 of the key (hex), e.g. from `hashApiKey`. */
  sha256: string
  /** Consumer id: the principal subject. */
  id: string
  plan?: string
  scopes?: readonly string[]
  claims?: Record<string, unknown>
  /** A label for logs, never the key. */
  keyId?: string
  /** When the key stops working. */
  expiresAt?: Date
}

type RedisClient = Pick<Redis, 'hset' | 'del' | 'pexpireat' | 'multi'>

/**
 * Stores (or replaces) an API key in Redis for the `api-key` policy's `redis` option. The key itself is never
 * stored: the record lives at `<prefix><sha256>` as a hash (`id`, `plan`, `scopes`, `claims`, `keyId`,
 * `expiresAt`) and Redis expires it at `expiresAt`. Gateways pick changes up within their `cacheTtl`.
 *
 * @example
 * ```ts
 * import { hashApiKey } from '@gw/auth'
 * import { saveApiKey } from '@gw/auth/redis'
 * await saveApiKey(redis, { sha256: hashApiKey(key), id: 'billing', plan: 'pro', scopes: ['orders:read'] })
 * ```
 */
export async function saveApiKey(
  redis: RedisClient,
  key: StoredApiKey,
  prefix = 'gw:apikey:',
): Promise<void> {
  if (!/^[0-9a-f]{64}$/.test(key.sha256)) throw new TypeError('sha256 must be 64 lowercase hex digits')
  const fields: Record<string, string> = { id: key.id }
  if (key.plan !== undefined) fields.plan = key.plan
  if (key.scopes !== undefined) fields.scopes = key.scopes.join(' ')
  if (key.claims !== undefined) fields.claims = JSON.stringify(key.claims)
  if (key.keyId !== undefined) fields.keyId = key.keyId
  if (key.expiresAt !== undefined) fields.expiresAt = key.expiresAt.toISOString()
  const name = prefix + key.sha256
  const tx = redis.multi().del(name).hset(name, fields)
  if (key.expiresAt !== undefined) tx.pexpireat(name, key.expiresAt.getTime())
  const results = await tx.exec()
  const failed = results?.find(([error]) => error !== null)
  if (results === null || failed !== undefined)
    throw failed?.[0] ?? new Error('saving the API key was aborted')
}

/**
 * Removes an API key from Redis (gateways stop accepting it within their `cacheTtl`).
 *
 * @example
 * ```ts
 * await revokeApiKey(redis, hashApiKey(key))
 * ```
 */
export async function revokeApiKey(
  redis: RedisClient,
  sha256: string,
  prefix = 'gw:apikey:',
): Promise<boolean> {
  return (await redis.del(prefix + sha256)) === 1
}
