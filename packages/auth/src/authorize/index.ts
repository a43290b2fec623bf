import { definePolicy, type ErrorDecision, type Exchange, type Principal, principalKey } from '@gw/core'
import { authErrors } from '../errors.js'
import { challenge } from '../shared/challenge.js'
import { authorizeSchema, type claimRuleSchema } from './schema.js'

export { type AuthorizeOptions, authorizeSchema, claimRuleSchema } from './schema.js'

type Check = (principal: Principal) => string | undefined

/**
 * Per-route requirements on the principal set by an earlier auth policy: scopes (all-of and any-of),
 * roles, and claim rules (equals / oneOf / contains). A failing requirement answers 403 with
 * `WWW-Authenticate: Bearer error="insufficient_scope"` (RFC 6750 §3.1, with the required `scope` when
 * scopes failed); no principal at all answers 401. Requires `principalKey` (checked at start-up).
 *
 * @example
 * ```ts
 * routes: [{
 *   path: '/api/orders/*', upstream: 'orders',
 *   policies: [authorize({ scopes: ['orders:read'], claims: [{ claim: 'tenant', equals: 'acme' }] })],
 * }]
 * ```
 */
export const authorize = definePolicy({
  name: 'authorize',
  stage: 'authz',
  description: 'Requires scopes, roles or claim values on the authenticated principal (403 otherwise).',
  schema: authorizeSchema,
  state: () => ({ requires: [principalKey] }),
  create(config) {
    const checks: Check[] = []
    const all = config.scopes
    if (all.length > 0) {
      checks.push((p) => (all.every((s) => p.scopes.includes(s)) ? undefined : 'missing-scope'))
    }
    const any = config.anyScopes
    if (any.length > 0) {
      checks.push((p) => (any.some((s) => p.scopes.includes(s)) ? undefined : 'missing-scope'))
    }
    if (config.roles.length > 0) {
      const path = config.rolesClaim.split('.')
      const roles = config.roles
      checks.push((p) => {
        const held = asList(readPath(p.claims, path))
        return roles.some((r) => held.includes(r)) ? undefined : 'missing-role'
      })
    }
    for (const rule of config.claims) checks.push(claimCheck(rule))

    const requiredScopes = [...all, ...any.filter((s) => !all.includes(s))].join(' ')
    const scopeHeaders = {
      'www-authenticate': challenge('Bearer', {
        realm: config.realm,
        error: 'insufficient_scope',
        error_description: 'The access token lacks the scope this resource requires',
        scope: requiredScopes === '' ? undefined : requiredScopes,
      }),
    }
    const forbiddenHeaders = {
      'www-authenticate': challenge('Bearer', {
        realm: config.realm,
        error: 'insufficient_scope',
        error_description: 'The principal is not allowed to access this resource',
      }),
    }
    const unauthenticated = { 'www-authenticate': challenge('Bearer', { realm: config.realm }) }
    const deny = (ex: Exchange, subject: string | undefined, reason: string): ErrorDecision => {
      ex.log.warn(
        {
          event: 'authz.failure',
          policy: 'authorize',
          subject,
          reason,
          route: ex.route.id,
          ip: ex.request.ip,
        },
        'authorization failed',
      )
      return subject === undefined ? { reason } : { key: subject, reason }
    }

    return {
      onRequest(ex) {
        const principal = ex.get(principalKey)
        if (principal === undefined) {
          throw authErrors.missing.create('Authentication required', {
            headers: unauthenticated,
            decision: deny(ex, undefined, 'unauthenticated'),
          })
        }
        for (const check of checks) {
          const reason = check(principal)
          if (reason === undefined) continue
          const decision = deny(ex, principal.subject, reason)
          throw reason === 'missing-scope'
            ? authErrors.insufficientScope.create(`This resource requires the scope(s): ${requiredScopes}`, {
                headers: scopeHeaders,
                decision,
              })
            : authErrors.forbidden.create('You are not allowed to access this resource', {
                headers: forbiddenHeaders,
                decision,
              })
        }
      },
    }
  },
})

function claimCheck(rule: ReturnType<typeof claimRuleSchema.parse>): Check {
  const path = rule.claim.split('.')
  const reason = `claim-${rule.claim}`
  if (rule.equals !== undefined) {
    const expected = rule.equals
    return (p) => (readPath(p.claims, path) === expected ? undefined : reason)
  }
  if (rule.oneOf !== undefined) {
    const allowed = rule.oneOf as readonly unknown[]
    return (p) => (allowed.includes(readPath(p.claims, path)) ? undefined : reason)
  }
  const needle = rule.contains
  return (p) => (asList(readPath(p.claims, path)).includes(needle) ? undefined : reason)
}

function readPath(claims: Readonly<Record<string, unknown>>, path: readonly string[]): unknown {
  let value: unknown = claims
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) return undefined
    value = (value as Record<string, unknown>)[segment]
  }
  return value
}

function asList(value: unknown): readonly unknown[] {
  if (Array.isArray(value)) return value
  if (typeof value === 'string') return value.split(' ')
  return []
}
