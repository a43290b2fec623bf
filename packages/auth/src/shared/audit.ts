import { createStateKey, type Exchange, type Principal, type SetupContext } from '@gw/core'

/** Set by `any-of` while it tries alternatives: an alternative whose credential is absent stays quiet. */
export const insideAnyOfKey = createStateKey<boolean>('auth.any-of')

/**
 * How much an auth policy writes to the log: every attempt, failures only, or nothing.
 *
 * @example
 * ```ts
 * jwt({ algorithms: ['HS256'], secret, audit: 'failures' satisfies AuditLevel })
 * ```
 */
export type AuditLevel = 'all' | 'failures' | 'off'

/** Writes audit events and decision records for one policy instance. */
export interface Auditor {
  success(ex: Exchange, principal: Principal, detail?: string): void
  failure(ex: Exchange, reason: string, code: string, key?: string): void
}

/**
 * Builds the auditor of a policy at start-up. Events go through the exchange logger (bound to the request id)
 * with the policy, the principal or the reason, the route and the client ip; credentials are never part of
 * an event, only safe reasons. Decision records go to `setup.telemetry` (in report mode the runner records
 * the would-be denial itself).
 *
 * @example
 * ```ts
 * const audit = createAuditor(setup, 'jwt', 'all')
 * audit.failure(ex, 'expired', 'GW_ERR_AUTH_INVALID_TOKEN')
 * ```
 */
export function createAuditor(setup: SetupContext, policy: string, level: AuditLevel): Auditor {
  const telemetry = setup.telemetry
  const enforce = setup.mode === 'enforce'
  return {
    success(ex, principal, detail) {
      if (level === 'all') {
        ex.log.info(
          {
            event: 'auth.success',
            policy,
            subject: principal.subject,
            consumer: principal.consumer,
            method: principal.method,
            route: ex.route.id,
            ip: ex.request.ip,
            detail,
          },
          'authentication succeeded',
        )
      }
      if (telemetry.enabled) telemetry.decision(ex, { policy, key: principal.subject, outcome: 'allow' })
    },
    failure(ex, reason, code, key) {
      if (reason === 'missing' && ex.get(insideAnyOfKey) === true) return
      if (level !== 'off') {
        ex.log.warn(
          { event: 'auth.failure', policy, reason, code, key, route: ex.route.id, ip: ex.request.ip },
          'authentication failed',
        )
      }
      if (enforce && telemetry.enabled) telemetry.decision(ex, { policy, key, outcome: 'deny', reason })
    },
  }
}
