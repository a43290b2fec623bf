import {
  createStateKey,
  type ErrorDecision,
  type Exchange,
  type Principal,
  type SetupContext,
} from '@gw/core'

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

/** Writes audit events and `allow` decision records for one policy instance. */
export interface Auditor {
  /** Logs a success (at level `all`) and records an `allow` decision keyed by the subject. */
  success(ex: Exchange, principal: Principal, detail?: string): void
  /**
   * Logs a failure (unless `off`) and returns the decision to throw with the error: the runner records the
   * denial (or, in report mode, the would-be denial) once from it.
   */
  failure(ex: Exchange, reason: string, code: string, key?: string): ErrorDecision
}

/**
 * Builds the auditor of a policy at start-up. Events go through the exchange logger (bound to the request id)
 * with the policy, the principal or the reason, the route and the client ip; credentials are never part of
 * an event, only safe reasons. Successes are recorded as `allow` decisions in `setup.telemetry`; failures are
 * recorded by the runner from the `decision` of the thrown error, never here.
 *
 * @example
 * ```ts
 * const audit = createAuditor(setup, 'jwt', 'all')
 * throw deny.invalidToken(true, audit.failure(ex, 'expired', 'GW_ERR_AUTH_INVALID_TOKEN'))
 * ```
 */
export function createAuditor(setup: SetupContext, policy: string, level: AuditLevel): Auditor {
  const telemetry = setup.telemetry
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
      const decision: ErrorDecision = key === undefined ? { reason } : { key, reason }
      if (level === 'off' || (reason === 'missing' && ex.get(insideAnyOfKey) === true)) return decision
      ex.log.warn(
        { event: 'auth.failure', policy, reason, code, key, route: ex.route.id, ip: ex.request.ip },
        'authentication failed',
      )
      return decision
    },
  }
}
