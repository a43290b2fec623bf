import type { Exchange } from './exchange/exchange.js'

/** What a denying (or would-be denying) policy decided, so an operator can answer "why was this rejected?". */
export interface DecisionRecord {
  /** Policy name, e.g. `rate-limit`. */
  policy: string
  /** The rule within the policy, e.g. `per-ip`. */
  rule?: string
  /** The key the decision applied to (an ip, a principal id); never a secret. */
  key?: string
  /** `allow`, `deny`, or `report` (a deny that report mode let through). */
  outcome: 'allow' | 'deny' | 'report'
  /** Short machine-readable reason, e.g. `limit-exceeded`. */
  reason?: string
}

/**
 * The sink policies report to. @gw/metrics (or anything else) implements it; with none installed, gw uses
 * {@link noopTelemetry} and reporting costs one property check.
 *
 * @example
 * ```ts
 * const telemetry: Telemetry = {
 *   enabled: true,
 *   decision: (ex, d) => console.log(ex.id, d.policy, d.outcome),
 *   count: (name, value, labels) => {},
 *   observe: (name, value, labels) => {},
 * }
 * ```
 */
export interface Telemetry {
  /** False when nothing listens; callers may skip building records. */
  readonly enabled: boolean
  decision(ex: Exchange, record: DecisionRecord): void
  count(name: string, value: number, labels?: Record<string, string>): void
  observe(name: string, value: number, labels?: Record<string, string>): void
}

/**
 * Telemetry that drops everything.
 *
 * @example
 * ```ts
 * createGateway({ telemetry: noopTelemetry, routes: [] })
 * ```
 */
export const noopTelemetry: Telemetry = {
  enabled: false,
  decision: () => {},
  count: () => {},
  observe: () => {},
}
