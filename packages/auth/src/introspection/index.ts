import { definePolicy, type Exchange, type Principal, principalKey } from '@gw/core'
import { authErrors } from '../errors.js'
import { createAuditor } from '../shared/audit.js'
import { createCredentialReader, DUPLICATE, MALFORMED } from '../shared/credentials.js'
import { bearerDenials, parseScopes } from '../shared/deny.js'
import { discover } from '../shared/discovery.js'
import { authFetch } from '../shared/fetch.js'
import { createResultCache } from '../shared/result-cache.js'
import { introspectionSchema } from './schema.js'

export { discover, type ServerMetadata } from '../shared/discovery.js'
export { type IntrospectionOptions, introspectionSchema } from './schema.js'

interface Cached {
  principal: Principal | null
}

class ServerFailure extends Error {
  override readonly name = 'ServerFailure'
}

/**
 * OAuth 2.0 Token Introspection (RFC 7662): opaque (or any) bearer tokens are checked with the authorization
 * server, the gateway authenticating with `client_secret_basic` or `client_secret_post`. The endpoint comes
 * from OIDC discovery at start-up or from the config. `active: false` is a 401; results are cached until the
 * token's `exp` (bounded by `cache.maxTtl`), concurrent checks of one token share one call, and a slow or
 * failing server answers 503 (or 401, by `onError`) after `timeout`, never a hang.
 *
 * @example
 * ```ts
 * introspection({ issuer: 'https://idp.example', clientId: 'gateway', clientSecret: process.env.GW_CLIENT_SECRET! })
 * ```
 */
export const introspection = definePolicy({
  name: 'introspection',
  stage: 'authn',
  description: 'Validates bearer tokens with an OAuth 2.0 token introspection endpoint (RFC 7662).',
  schema: introspectionSchema,
  state: () => ({ provides: [principalKey] }),
  async create(config, setup) {
    const http = authFetch(setup)
    let endpoint = config.introspectionEndpoint
    if (endpoint === undefined) {
      try {
        const metadata = await discover(config.issuer!, http, config.timeout)
        endpoint = metadata.introspection_endpoint
      } catch (error) {
        throw authErrors.unavailable.create(`introspection: OIDC discovery at ${config.issuer} failed`, {
          cause: error,
        })
      }
      if (typeof endpoint !== 'string') {
        throw authErrors.unavailable.create(
          `introspection: ${config.issuer} advertises no introspection_endpoint`,
        )
      }
    }
    const url = endpoint
    const reader = createCredentialReader(config.tokenFrom)
    const deny = bearerDenials(config.realm)
    const audit = createAuditor(setup, 'introspection', config.audit)
    const cache = createResultCache<Cached>(config.cache, setup.clock)
    const audiences = config.audience === undefined ? undefined : [config.audience].flat()
    const baseHeaders: Record<string, string> = {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
    }
    if (config.clientAuth === 'client_secret_basic') {
      const id = encodeURIComponent(config.clientId)
      const secret = encodeURIComponent(config.clientSecret)
      baseHeaders.authorization = `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`
    }
    const formSuffix =
      (config.tokenTypeHint === undefined
        ? ''
        : `&token_type_hint=${encodeURIComponent(config.tokenTypeHint)}`) +
      (config.clientAuth === 'client_secret_post'
        ? `&client_id=${encodeURIComponent(config.clientId)}&client_secret=${encodeURIComponent(config.clientSecret)}`
        : '')
    const inflight = new Map<string, Promise<Cached>>()

    const callServer = async (token: string, now: number): Promise<Cached> => {
      let body: unknown
      try {
        const res = await http(url, {
          method: 'POST',
          signal: AbortSignal.timeout(config.timeout),
          headers: baseHeaders,
          body: `token=${encodeURIComponent(token)}${formSuffix}`,
        })
        if (!res.ok) throw new ServerFailure(`introspection endpoint answered ${res.status}`)
        body = await res.json()
      } catch (error) {
        throw error instanceof ServerFailure
          ? error
          : new ServerFailure('introspection call failed', { cause: error })
      }
      if (
        typeof body !== 'object' ||
        body === null ||
        typeof (body as { active?: unknown }).active !== 'boolean'
      ) {
        throw new ServerFailure('introspection response has no boolean "active"')
      }
      const claims = body as Record<string, unknown>
      const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : undefined
      const active =
        claims.active === true &&
        (exp === undefined || exp > now) &&
        (typeof claims.nbf !== 'number' || claims.nbf * 1000 <= now) &&
        (audiences === undefined || audiences.some((a) => [claims.aud].flat().includes(a)))
      const result: Cached = { principal: active ? toPrincipal(claims) : null }
      if (cache) {
        if (result.principal) cache.set(token, result, exp ?? Number.POSITIVE_INFINITY)
        else if (config.inactiveCacheTtl > 0) cache.set(token, result, now + config.inactiveCacheTtl)
      }
      return result
    }

    const settle = (ex: Exchange, result: Cached): void => {
      if (result.principal === null)
        throw deny.invalidToken(false, audit.failure(ex, 'inactive', authErrors.invalidToken.code))
      ex.set(principalKey, result.principal)
      if (config.stripCredential) reader.strip(ex)
      audit.success(ex, result.principal)
    }

    return {
      onRequest(ex) {
        const token = reader.read(ex)
        if (token === undefined) throw deny.missing(audit.failure(ex, 'missing', authErrors.missing.code))
        if (token === DUPLICATE || token === MALFORMED) {
          const duplicate = token === DUPLICATE
          throw deny.invalidRequest(
            duplicate,
            audit.failure(
              ex,
              duplicate ? 'duplicate' : 'malformed',
              duplicate ? authErrors.duplicate.code : authErrors.invalidRequest.code,
            ),
          )
        }
        if (token.length > 8192)
          throw deny.invalidToken(false, audit.failure(ex, 'too-long', authErrors.invalidToken.code))
        const hit = cache?.get(token)
        if (hit !== undefined) return settle(ex, hit)
        let pending = inflight.get(token)
        if (pending === undefined) {
          pending = callServer(token, ex.now()).finally(() => inflight.delete(token))
          inflight.set(token, pending)
        }
        return pending.then(
          (result) => settle(ex, result),
          (error: unknown) => {
            ex.log.error({ err: error, policy: 'introspection' }, 'token introspection failed')
            if (config.onError === 'unauthorized')
              throw deny.invalidToken(false, audit.failure(ex, 'server-error', authErrors.invalidToken.code))
            throw authErrors.unavailable.create('The authorization server is unavailable', {
              cause: error,
              decision: audit.failure(ex, 'server-error', authErrors.unavailable.code),
            })
          },
        )
      },
    }
  },
})

function toPrincipal(claims: Record<string, unknown>): Principal {
  const subject = [claims.sub, claims.username, claims.client_id].find(
    (v) => typeof v === 'string' && v !== '',
  )
  return {
    subject: (subject as string | undefined) ?? 'anonymous',
    consumer: typeof claims.client_id === 'string' ? claims.client_id : undefined,
    scopes: parseScopes(claims.scope),
    claims,
    method: 'introspection',
  }
}
