import { createPublicKey, createSecretKey } from 'node:crypto'
import {
  coreErrors,
  definePolicy,
  type Exchange,
  type PolicyHandlers,
  type Principal,
  principalKey,
  type SetupContext,
} from '@gw/core'
import { createLocalJWKSet, type JWTPayload, type JWTVerifyGetKey, jwtVerify, type KeyObject } from 'jose'
import { authErrors } from '../errors.js'
import { createAuditor } from '../shared/audit.js'
import { createCredentialReader, DUPLICATE, MALFORMED } from '../shared/credentials.js'
import { bearerDenials, parseScopes } from '../shared/deny.js'
import { discover } from '../shared/discovery.js'
import { authFetch } from '../shared/fetch.js'
import { createResultCache } from '../shared/result-cache.js'
import { failureReason } from './failure.js'
import { createHmacVerifier, type HmacVerifyOptions } from './hmac.js'
import { JwksUnavailableError, RemoteJwks } from './remote-jwks.js'
import { type JwtConfig, jwtSchema } from './schema.js'

export { JwksUnavailableError, RemoteJwks, type RemoteJwksOptions } from './remote-jwks.js'
export { JWS_ALGORITHMS, type JwsAlgorithm, type JwtConfig, type JwtOptions, jwtSchema } from './schema.js'

interface Verified {
  principal: Principal
  forward: [string, string][] | undefined
}

const JWS_COMPACT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/**
 * Validates JSON Web Tokens (RFC 7519) with `jose`: allow-listed algorithms (never `none`, never HMAC with an
 * asymmetric key or the reverse), keys built at start-up from a secret, a PEM/JWK, an inline JWKS or a remote
 * JWKS URL; `iss`, `aud`, `exp`, `nbf`, `iat` and required claims; one token per request. Verified tokens are
 * cached (LRU keyed by a SHA-256 of the token, never past `exp`), so a reused token costs a hash, not a
 * signature check. Sets `principalKey`; 401/400 carry RFC 6750 challenges.
 *
 * @example
 * ```ts
 * createGateway({
 *   policies: [jwt({ algorithms: ['HS256'], secret: process.env.JWT_SECRET, issuer: 'https://idp.example' })],
 *   routes: [{ path: '/api/*', upstream: 'api' }],
 * })
 * ```
 */
export const jwt = definePolicy({
  name: 'jwt',
  stage: 'authn',
  description:
    'Validates JWT bearer tokens (HMAC, RSA, ECDSA, EdDSA; static keys or JWKS) and sets the principal.',
  schema: jwtSchema,
  state: () => ({ provides: [principalKey] }),
  create(config, setup) {
    const http = authFetch(setup)
    if (!config.discovery) return createHandlers(config, setup, buildKey(config, setup, http, undefined))
    const issuer = config.issuer as string
    return discover(issuer, http, config.jwksTimeout).then(
      (metadata) => {
        if (typeof metadata.jwks_uri !== 'string') {
          throw authErrors.unavailable.create(`jwt: ${issuer} advertises no jwks_uri`)
        }
        return createHandlers(config, setup, buildKey(config, setup, http, metadata.jwks_uri))
      },
      (error: unknown) => {
        throw authErrors.unavailable.create(`jwt: OIDC discovery at ${issuer} failed`, { cause: error })
      },
    )
  },
})

/** How tokens are verified: a static key or key resolver for jose, a remote JWKS, or the HMAC fast path. */
interface Keys {
  readonly key: KeyObject | JWTVerifyGetKey
  readonly remote?: RemoteJwks
  readonly hmac?: ReturnType<typeof createHmacVerifier>
}

function createHandlers(config: JwtConfig, setup: SetupContext, keys: Keys): PolicyHandlers {
  const reader = createCredentialReader(config.tokenFrom)
  const deny = bearerDenials(config.realm)
  const audit = createAuditor(setup, 'jwt', config.audit)
  const cache = createResultCache<Verified>(config.cache, setup.clock)
  const { key, remote, hmac } = keys
  if (remote !== undefined && cache !== undefined) {
    remote.onRemoved = (kids) => {
      let dropped = 0
      for (const kid of kids) dropped += cache.dropTag(kid)
      if (dropped > 0)
        setup.log.info({ kids: [...kids], dropped }, 'jwt: dropped tokens verified with removed keys')
    }
  }
  const forwardEntries = Object.entries(config.forwardClaims)
  const forwardHeaders = forwardEntries.map(([, header]) => header)
  const clockToleranceSec = config.clockTolerance / 1000
  const verifyOptions = {
    algorithms: config.algorithms,
    issuer: config.issuer,
    audience: config.audience,
    requiredClaims: config.requiredClaims,
    clockTolerance: clockToleranceSec,
    maxTokenAge: config.maxTokenAge === undefined ? undefined : config.maxTokenAge / 1000,
    typ: config.typ,
  }

  const accept = (ex: Exchange, verified: Verified): void => {
    ex.set(principalKey, verified.principal)
    if (verified.forward) for (const [header, value] of verified.forward) ex.request.headers[header] = value
    if (config.stripCredential) reader.strip(ex)
    audit.success(ex, verified.principal)
  }

  const fail = (ex: Exchange, reason: string): never => {
    throw deny.invalidToken(reason === 'expired', audit.failure(ex, reason, authErrors.invalidToken.code))
  }

  const toVerified = (payload: JWTPayload): Verified | string => {
    const subject = payload[config.subjectClaim]
    if (typeof subject !== 'string' || subject === '') return 'missing-subject'
    let scopes: string[] = []
    for (const claim of config.scopeClaims) {
      if (payload[claim] !== undefined) {
        scopes = parseScopes(payload[claim])
        break
      }
    }
    const consumer = payload[config.consumerClaim] ?? payload.azp
    const principal: Principal = {
      subject,
      consumer: typeof consumer === 'string' ? consumer : undefined,
      scopes,
      claims: payload,
      method: 'jwt',
    }
    let forward: [string, string][] | undefined
    for (const [claim, header] of forwardEntries) {
      const value = payload[claim]
      if (value === undefined || value === null) continue
      forward ??= []
      forward.push([header, headerValue(value)])
    }
    return { principal, forward }
  }

  const settle = (ex: Exchange, token: string, payload: JWTPayload, kid: string | undefined): void => {
    const verified = toVerified(payload)
    if (typeof verified === 'string') fail(ex, verified)
    else settleVerified(ex, token, payload, verified, kid)
  }

  const settleVerified = (
    ex: Exchange,
    token: string,
    payload: JWTPayload,
    verified: Verified,
    kid: string | undefined,
  ): void => {
    if (cache) {
      const exp =
        typeof payload.exp === 'number'
          ? payload.exp * 1000 + config.clockTolerance
          : Number.POSITIVE_INFINITY
      cache.set(token, verified, exp, remote === undefined ? undefined : (kid ?? ''))
    }
    accept(ex, verified)
  }

  const verify = async (ex: Exchange, token: string): Promise<void> => {
    let result: Awaited<ReturnType<typeof jwtVerify>>
    try {
      result = await jwtVerify(token, key, { ...verifyOptions, currentDate: new Date(ex.now()) })
    } catch (error) {
      if (error instanceof JwksUnavailableError) {
        throw authErrors.unavailable.create('The signing keys could not be loaded', {
          cause: error,
          decision: audit.failure(ex, 'jwks-unavailable', authErrors.unavailable.code),
        })
      }
      return fail(ex, failureReason(error))
    }
    settle(ex, token, result.payload, result.protectedHeader.kid)
  }

  return {
    onRequest(ex) {
      for (const header of forwardHeaders) delete ex.request.headers[header]
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
      if (token.length > config.maxTokenLength) return fail(ex, 'too-long')
      if (!JWS_COMPACT.test(token)) return fail(ex, token.split('.').length === 5 ? 'jwe' : 'malformed')
      const hit = cache?.get(token)
      if (hit !== undefined) {
        remote?.refreshIfStale()
        return accept(ex, hit)
      }
      if (hmac === undefined) return verify(ex, token)
      const result = hmac(token, ex.now())
      if (result.reason !== undefined) return fail(ex, result.reason)
      settle(ex, token, result.payload, undefined)
    },
  }
}

function buildKey(
  config: JwtConfig,
  setup: SetupContext,
  http: ReturnType<typeof authFetch>,
  discoveredJwksUri: string | undefined,
): Keys {
  if (config.secret !== undefined) {
    const key = createSecretKey(Buffer.from(config.secret, config.secretEncoding))
    return { key, hmac: createHmacVerifier(key, hmacOptions(config)) }
  }
  if (config.publicKey !== undefined) {
    try {
      const pk = config.publicKey
      const keyObject =
        typeof pk === 'string'
          ? createPublicKey(pk.includes('CERTIFICATE') ? { key: pk, format: 'pem' } : pk)
          : createPublicKey({ key: pk as import('node:crypto').JsonWebKey, format: 'jwk' })
      if (keyObject.type !== 'public') throw new Error('not a public key')
      return { key: keyObject }
    } catch (error) {
      throw coreErrors.config.create(
        'jwt: publicKey is not a valid public key (PEM SPKI, X.509 certificate or public JWK)',
        {
          cause: error,
        },
      )
    }
  }
  if (config.jwks !== undefined)
    return { key: createLocalJWKSet(config.jwks as Parameters<typeof createLocalJWKSet>[0]) }
  const remote = new RemoteJwks({
    url: discoveredJwksUri ?? config.jwksUri!,
    timeout: config.jwksTimeout,
    maxAge: config.jwksCacheMaxAge,
    minAge: config.jwksCacheMinAge,
    cooldown: config.jwksCooldown,
    clock: setup.clock,
    fetch: http,
    log: setup.log,
  })
  return { key: remote.getKey, remote }
}

function hmacOptions(config: JwtConfig): HmacVerifyOptions {
  return {
    algorithms: config.algorithms,
    issuer: config.issuer,
    audience: config.audience,
    requiredClaims: config.requiredClaims,
    clockTolerance: config.clockTolerance / 1000,
    maxTokenAge: config.maxTokenAge === undefined ? undefined : config.maxTokenAge / 1000,
    typ: config.typ,
  }
}

function headerValue(value: unknown): string {
  const text =
    typeof value === 'string' ? value : Array.isArray(value) ? value.join(' ') : JSON.stringify(value)
  return /^[\t\x20-\x7e]*$/.test(text) ? text : encodeURIComponent(text)
}
