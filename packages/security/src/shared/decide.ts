import type { Exchange, SetupContext } from '@gw/core'

/**
 * Records a denial (or, in report mode, a would-be denial) with the policy's telemetry.
 *
 * @deprecated Only `attack-filter` still calls it, until it throws its denial with `decision` (rule, key,
 * reason, matches) like every other policy; the runner records each denial once. In report mode this record
 * and the runner's are two for one request.
 *
 * @example
 * ```ts
 * recordDenial(setup, ex, 'ip-filter', 'deny-list', ex.request.ip, 'ip-denied')
 * ```
 */
export function recordDenial(
  setup: SetupContext,
  ex: Exchange,
  policy: string,
  rule: string,
  key: string | undefined,
  reason: string,
): void {
  const telemetry = setup.telemetry
  if (!telemetry.enabled) return
  const record: Parameters<typeof telemetry.decision>[1] = {
    policy,
    rule,
    outcome: setup.mode === 'report' ? 'report' : 'deny',
    reason,
  }
  if (key !== undefined) record.key = key
  telemetry.decision(ex, record)
}
