import { createHash, timingSafeEqual } from 'node:crypto'
import { definePolicy, type Exchange, type GatewayError, type Principal, principalKey } from '@gw/core'
import { LRUCache } from 'lru-cache'
import { authErrors } from '../errors.js'
import { createAuditor } from '../shared/audit.js'
import { challenge } from '../shared/challenge.js'
import { type CredentialSource, createCredentialReader, DUPLICATE, MALFORMED } from '../shared/credentials.js'
import { parseScopes } from '../shared/deny.js'
import { needRedis, type RedisLike } from '../shared/redis-like.js'
import { type ApiKeyConfig, apiKeySchema } from './schema.js'

export { generateApiKey, hashApiKey } from './hash.js'
export {
  type ApiKeyConfig,
  type ApiKeyOptions,
  apiKeyConsumerSchema,
  apiKeyEntrySchema,
  apiKeySchema,
} from './schema.js'

interface KeyRecord {
  digest: Buffer
  principal: Principal
  keyId: string | undefined
  expiresAt: number
}

type Lookup = KeyRecord | null

/**
 * Authenticates API keys from a header (default `X-API-Key`) or a query parameter. Keys are configured only
 * as SHA-256 hashes (see `hashApiKey` / `gw-auth hash-key`); the presented key is hashed and compared in
 * constant time. Each key maps to a consumer (id, plan, scopes) that becomes the principal; a consumer may
 * have several keys (with optional expiry) for rotation. Optionally, keys are also looked up in Redis.
 *
 * @example
 * ```ts
 * apiKey({
 *   header: process.env.API_KEY_HEADER ?? 'X-API-Key',
 *   consumers: [{ id: 'billing', plan: 'pro', scopes: ['orders:read'], keys: [hashApiKey(process.env.BILLING_KEY!)] }],
 * })
 * ```
 */
export const apiKey = definePolicy({
  name: 'api-key',
  stage: 'authn',
  description: 'Authenticates API keys (configured as SHA-256 hashes) and sets the consumer as principal.',
  schema: apiKeySchema,
  state: () => ({ provides: [principalKey] }),
  create(config, setup) {
    const sources: CredentialSource[] = []
    if (config.header !== null) sources.push({ in: 'header', name: config.header, scheme: undefined })
    if (config.query !== undefined) sources.push({ in: 'query', name: config.query })
    const reader = createCredentialReader(sources)
    const audit = createAuditor(setup, 'api-key', config.audit)
    const records = buildRecords(config)
    const headers = { 'www-authenticate': challenge('ApiKey', { realm: config.realm }) }
    const missingDetail = `Send an API key${config.header === null ? '' : ` in the ${config.header} header`}`
    const invalid = (ex: Exchange, reason: string): GatewayError =>
      authErrors.invalidApiKey.create('The API key is not valid', {
        headers,
        decision: audit.failure(ex, reason, authErrors.invalidApiKey.code),
      })
    const store = config.redis === undefined ? undefined : createRedisLookup(needRedis(setup), config.redis)

    const check = (ex: Exchange, record: Lookup, digest: Buffer): void => {
      if (record === null || !timingSafeEqual(record.digest, digest)) throw invalid(ex, 'unknown-key')
      if (ex.now() >= record.expiresAt) throw invalid(ex, 'expired-key')
      ex.set(principalKey, record.principal)
      if (config.consumerHeader !== undefined)
        ex.request.headers[config.consumerHeader] = record.principal.subject
      if (config.stripCredential) reader.strip(ex)
      audit.success(ex, record.principal, record.keyId)
    }

    return {
      onRequest(ex) {
        if (config.consumerHeader !== undefined) delete ex.request.headers[config.consumerHeader]
        const key = reader.read(ex)
        if (key === undefined) {
          throw authErrors.missing.create(missingDetail, {
            headers,
            decision: audit.failure(ex, 'missing', authErrors.missing.code),
          })
        }
        if (key === DUPLICATE) {
          throw authErrors.duplicate.create('Send exactly one API key', {
            headers,
            decision: audit.failure(ex, 'duplicate', authErrors.duplicate.code),
          })
        }
        if (key === MALFORMED || key.length > config.maxKeyLength) throw invalid(ex, 'malformed')
        const digest = createHash('sha256').update(key, 'utf8').digest()
        const hex = digest.toString('hex')
        const record = records.get(hex)
        if (record !== undefined || store === undefined) return check(ex, record ?? null, digest)
        return store(hex).then(
          (found) => check(ex, found, digest),
          (error: unknown) => {
            throw authErrors.unavailable.create('The API key store is unavailable', {
              cause: error,
              decision: audit.failure(ex, 'store-unavailable', authErrors.unavailable.code),
            })
          },
        )
      },
    }
  },
})

function buildRecords(config: ApiKeyConfig): Map<string, KeyRecord> {
  const records = new Map<string, KeyRecord>()
  for (const consumer of config.consumers) {
    const principal: Principal = Object.freeze({
      subject: consumer.id,
      consumer: consumer.id,
      scopes: Object.freeze([...consumer.scopes]),
      claims: Object.freeze({
        ...consumer.claims,
        ...(consumer.plan === undefined ? {} : { plan: consumer.plan }),
      }),
      method: 'api-key',
    })
    for (const key of consumer.keys) {
      const hex = typeof key === 'string' ? key : key.sha256
      records.set(hex, {
        digest: Buffer.from(hex, 'hex'),
        principal,
        keyId: typeof key === 'string' ? undefined : key.id,
        expiresAt:
          typeof key === 'string' || key.expiresAt === undefined
            ? Number.POSITIVE_INFINITY
            : Date.parse(key.expiresAt),
      })
    }
  }
  return records
}

function createRedisLookup(
  redis: RedisLike,
  options: NonNullable<ApiKeyConfig['redis']>,
): (hex: string) => Promise<Lookup> {
  const cache = new LRUCache<string, { value: Lookup }>({ max: options.cacheMax, ttl: options.cacheTtl })
  const pending = new Map<string, Promise<Lookup>>()
  return async (hex) => {
    const cached = cache.get(hex)
    if (cached !== undefined) return cached.value
    let inflight = pending.get(hex)
    if (inflight === undefined) {
      inflight = redis
        .hgetall(options.prefix + hex)
        .then((fields) => {
          const value = recordFromHash(hex, fields)
          if (options.cacheTtl > 0) cache.set(hex, { value })
          return value
        })
        .finally(() => pending.delete(hex))
      pending.set(hex, inflight)
    }
    return inflight
  }
}

/**
 * Turns a Redis hash (`id`, optional `plan`, `scopes` space-separated, `claims` JSON, `expiresAt` ISO, `keyId`)
 * into a key record; a missing or invalid hash is "no such key".
 */
function recordFromHash(hex: string, fields: Record<string, string>): Lookup {
  const id = fields.id
  if (id === undefined || id === '') return null
  let claims: Record<string, unknown> = {}
  if (fields.claims !== undefined) {
    try {
      const parsed: unknown = JSON.parse(fields.claims)
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
        claims = parsed as Record<string, unknown>
    } catch {
      return null
    }
  }
  if (fields.plan !== undefined) claims = { ...claims, plan: fields.plan }
  const expiresAt = fields.expiresAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(fields.expiresAt)
  return {
    digest: Buffer.from(hex, 'hex'),
    principal: {
      subject: id,
      consumer: id,
      scopes: parseScopes(fields.scopes ?? ''),
      claims,
      method: 'api-key',
    },
    keyId: fields.keyId,
    expiresAt: Number.isNaN(expiresAt) ? 0 : expiresAt,
  }
}
