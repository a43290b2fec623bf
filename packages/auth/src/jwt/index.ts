import { createPublicKey, createSecretKey } from 'node:crypto'
import {
  coreErrors,
  definePolicy,
  type Exchange,
  type Logger,
  type PolicyHandlers,
  type Principal,
  principalKey,
  type SetupContext,
} from '@gw/core'
import {
  createLocalJWKSet,
  errors,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
  type KeyObject,
} from 'jose'
import { authErrors } from '../errors.js'
import { createAuditor } from '../shared/audit.js'
import { createCredentialReader, DUPLICATE, MALFORMED } from '../shared/credentials.js'
import { bearerDenials, parseScopes } from '../shared/deny.js'
import { discover } from '../shared/discovery.js'
import { authFetch } from '../shared/fetch.js'
import { createResultCache } from '../shared/result-cache.js'
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
    if (!config.discovery)
      return createHandlers(config, setup, buildKey(config, setup.clock, http, setup.log, undefined))
    const issuer = config.issuer as string
    return discover(issuer, http, config.jwksTimeout).then(
      (metadata) => {
        if (typeof metadata.jwks_uri !== 'string') {
          throw authErrors.unavailable.create(`jwt: ${issuer} advertises no jwks_uri`)
        }
        return createHandlers(
          config,
          setup,
          buildKey(config, setup.clock, http, setup.log, metadata.jwks_uri),
        )
      },
      (error: unknown) => {
        throw authErrors.unavailable.create(`jwt: OIDC discovery at ${issuer} failed`, { cause: error })
      },
    )
  },
})

function createHandlers(
  config: JwtConfig,
  setup: SetupContext,
  key: KeyObject | JWTVerifyGetKey,
): PolicyHandlers {
  const reader = createCredentialReader(config.tokenFrom)
  const deny = bearerDenials(config.realm)
  const audit = createAuditor(setup, 'jwt', config.audit)
  const cache = createResultCache<Verified>(config.cache, setup.clock)
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
    const error = reason === 'expired' ? deny.invalidToken(true) : deny.invalidToken(false)
    audit.failure(ex, reason, error.code)
    throw error
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

  const verify = async (ex: Exchange, token: string): Promise<void> => {
    let payload: JWTPayload
    try {
      const result = await jwtVerify(token, key, { ...verifyOptions, currentDate: new Date(ex.now()) })
      payload = result.payload
    } catch (error) {
      if (error instanceof JwksUnavailableError) {
        audit.failure(ex, 'jwks-unavailable', authErrors.unavailable.code)
        throw authErrors.unavailable.create('The signing keys could not be loaded', { cause: error })
      }
      return fail(ex, failureReason(error))
    }
    const verified = toVerified(payload)
    if (typeof verified === 'string') return fail(ex, verified)
    if (cache) {
      const exp =
        typeof payload.exp === 'number'
          ? payload.exp * 1000 + config.clockTolerance
          : Number.POSITIVE_INFINITY
      cache.set(token, verified, exp)
    }
    accept(ex, verified)
  }

  return {
    onRequest(ex) {
      for (const header of forwardHeaders) delete ex.request.headers[header]
      const token = reader.read(ex)
      if (token === undefined) {
        audit.failure(ex, 'missing', authErrors.missing.code)
        throw deny.missing()
      }
      if (token === DUPLICATE || token === MALFORMED) {
        const error = deny.invalidRequest(token === DUPLICATE)
        audit.failure(ex, token === DUPLICATE ? 'duplicate' : 'malformed', error.code)
        throw error
      }
      if (token.length > config.maxTokenLength) return fail(ex, 'too-long')
      if (!JWS_COMPACT.test(token)) return fail(ex, token.split('.').length === 5 ? 'jwe' : 'malformed')
      const hit = cache?.get(token)
      if (hit !== undefined) return accept(ex, hit)
      return verify(ex, token)
    },
  }
}

function buildKey(
  config: JwtConfig,
  clock: { now(): number },
  http: ReturnType<typeof authFetch>,
  log: Logger,
  discoveredJwksUri: string | undefined,
): KeyObject | JWTVerifyGetKey {
  if (config.secret !== undefined) {
    return createSecretKey(Buffer.from(config.secret, config.secretEncoding))
  }
  if (config.publicKey !== undefined) {
    try {
      const pk = config.publicKey
      const keyObject =
        typeof pk === 'string'
          ? createPublicKey(pk.includes('CERTIFICATE') ? { key: pk, format: 'pem' } : pk)
          : createPublicKey({ key: pk as import('node:crypto').JsonWebKey, format: 'jwk' })
      if (keyObject.type !== 'public') throw new Error('not a public key')
      return keyObject
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
    return createLocalJWKSet(config.jwks as Parameters<typeof createLocalJWKSet>[0])
  return new RemoteJwks({
    url: discoveredJwksUri ?? config.jwksUri!,
    timeout: config.jwksTimeout,
    cacheMaxAge: config.jwksCacheMaxAge,
    cooldown: config.jwksCooldown,
    clock,
    fetch: http,
    log,
  }).getKey
}

function failureReason(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired'
  if (error instanceof errors.JWTClaimValidationFailed) return `claim-${error.claim}`
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad-signature'
  if (error instanceof errors.JOSEAlgNotAllowed) return 'alg-not-allowed'
  if (error instanceof errors.JWKSNoMatchingKey) return 'unknown-kid'
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'ambiguous-kid'
  if (error instanceof errors.JOSENotSupported) return 'unsupported'
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) return 'malformed'
  return 'invalid'
}

function headerValue(value: unknown): string {
  const text =
    typeof value === 'string' ? value : Array.isArray(value) ? value.join(' ') : JSON.stringify(value)
  return /^[\t\x20-\x7e]*$/.test(text) ? text : encodeURIComponent(text)
}
