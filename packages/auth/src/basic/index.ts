import { createHmac, randomBytes } from 'node:crypto'
import { definePolicy, type Exchange, type GatewayError, type Principal, principalKey } from '@gw/core'
import { LRUCache } from 'lru-cache'
import { authErrors } from '../errors.js'
import { createAuditor } from '../shared/audit.js'
import { challenge } from '../shared/challenge.js'
import { createCredentialReader, DUPLICATE, MALFORMED } from '../shared/credentials.js'
import { parseScryptHash, type ScryptHash, verifyPassword } from './password.js'
import { basicSchema } from './schema.js'

export { hashPassword, parseScryptHash, type ScryptHash, verifyPassword } from './password.js'
export { type BasicOptions, basicSchema, basicUserSchema } from './schema.js'

interface User {
  hash: ScryptHash
  principal: Principal
}

/**
 * HTTP Basic authentication (RFC 7617) against users configured with scrypt password hashes, for internal
 * tools and legacy clients. Unknown users cost the same scrypt work as known ones; a verified pair is cached
 * under an HMAC with a per-process key so a client reusing its credentials does not pay scrypt each time.
 *
 * @example
 * ```ts
 * basic({ users: [{ username: 'ops', passwordHash: await hashPassword(process.env.OPS_PASSWORD!) }] })
 * ```
 */
export const basic = definePolicy({
  name: 'basic',
  stage: 'authn',
  description: 'HTTP Basic authentication against scrypt password hashes.',
  schema: basicSchema,
  state: () => ({ provides: [principalKey] }),
  create(config, setup) {
    const reader = createCredentialReader([{ in: 'header', name: 'authorization', scheme: 'Basic' }])
    const audit = createAuditor(setup, 'basic', config.audit)
    const headers = { 'www-authenticate': challenge('Basic', { realm: config.realm, charset: 'UTF-8' }) }
    const users = new Map<string, User>()
    for (const user of config.users) {
      users.set(user.username, {
        hash: parseScryptHash(user.passwordHash)!,
        principal: Object.freeze({
          subject: user.username,
          scopes: Object.freeze([...user.scopes]),
          claims: Object.freeze({ ...user.claims }),
          method: 'basic',
        }),
      })
    }
    const decoy = users.values().next().value!.hash
    const cacheKey = randomBytes(32)
    const cache =
      config.cacheTtl > 0
        ? new LRUCache<string, Principal>({ max: config.cacheMax, ttl: config.cacheTtl })
        : undefined

    const invalid = (ex: Exchange, reason: string, key?: string): GatewayError =>
      authErrors.invalidCredentials.create('Invalid username or password', {
        headers,
        decision: audit.failure(ex, reason, authErrors.invalidCredentials.code, key),
      })
    const accept = (ex: Exchange, principal: Principal): void => {
      ex.set(principalKey, principal)
      if (config.stripCredential) reader.strip(ex)
      audit.success(ex, principal)
    }

    return {
      onRequest(ex) {
        const credential = reader.read(ex)
        if (credential === undefined) {
          throw authErrors.missing.create('Send a username and password (HTTP Basic)', {
            headers,
            decision: audit.failure(ex, 'missing', authErrors.missing.code),
          })
        }
        if (credential === DUPLICATE) {
          throw authErrors.duplicate.create('Send exactly one Authorization header', {
            headers,
            decision: audit.failure(ex, 'duplicate', authErrors.duplicate.code),
          })
        }
        if (credential === MALFORMED || credential.length > 1024) throw invalid(ex, 'malformed')
        const tag = cache && createHmac('sha256', cacheKey).update(credential).digest('base64url')
        const cached = tag === undefined ? undefined : cache!.get(tag)
        if (cached !== undefined) return accept(ex, cached)
        const decoded = Buffer.from(credential, 'base64').toString('utf8')
        const colon = decoded.indexOf(':')
        if (colon <= 0) throw invalid(ex, 'malformed')
        const username = decoded.slice(0, colon)
        const user = users.get(username)
        return verifyPassword(decoded.slice(colon + 1), user?.hash ?? decoy).then((ok) => {
          if (!ok || user === undefined)
            throw invalid(ex, user === undefined ? 'unknown-user' : 'bad-password', username)
          if (tag !== undefined) cache!.set(tag, user.principal)
          accept(ex, user.principal)
        })
      },
    }
  },
})
