import type { Exchange, SetupContext } from '@gw/core'
import type { MatchedRule } from '../seclang/index.js'

/** One matched rule as it reaches the decision log. */
export interface RuleMatch {
  /** Rule id, e.g. `942100`. */
  rule: string
  /** The rule's `msg`. */
  message?: string
  /** The rule's `logdata` (matched data). */
  data?: string
  /** The variable that matched, e.g. `ARGS:id`. */
  target?: string
}

/** Converts engine matches for logs and decision records. */
export function toRuleMatches(matched: readonly MatchedRule[]): RuleMatch[] {
  return matched.map((m) => {
    const out: RuleMatch = { rule: String(m.id) }
    if (m.message !== '') out.message = m.message
    if (m.data !== '') out.data = m.data
    if (m.target !== '') out.target = m.target
    return out
  })
}

/**
 * Records an attack-filter denial (or, in report mode, a would-be denial): the one place that talks to the
 * decision log, so moving to the runner's `decision` option is a change here only.
 *
 * @example
 * ```ts
 * recordAttackDecision(setup, ex, '949110', 'ARGS:id', 'Inbound Anomaly Score Exceeded (Total Score: 5)', matches)
 * ```
 */
export function recordAttackDecision(
  setup: SetupContext,
  ex: Exchange,
  rule: string,
  key: string | undefined,
  reason: string,
  matches: readonly RuleMatch[],
): void {
  ex.log.warn(
    { policy: 'attack-filter', rule, key, reason, matches },
    setup.mode === 'report' ? 'attack-filter would block (report mode)' : 'attack-filter blocked the request',
  )
  const telemetry = setup.telemetry
  if (!telemetry.enabled) return
  const record: Parameters<typeof telemetry.decision>[1] = {
    policy: 'attack-filter',
    rule,
    outcome: setup.mode === 'report' ? 'report' : 'deny',
    reason,
  }
  if (key !== undefined) record.key = key
  telemetry.decision(ex, record)
  for (const m of matches) telemetry.count('gw_security_attack_matches_total', 1, { rule: m.rule })
}
