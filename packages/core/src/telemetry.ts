import type { DecisionMatch } from './decision.js'
import type { Exchange } from './exchange/exchange.js'

export type { DecisionMatch } from './decision.js'

/**
 * What a policy decided about a request, so an operator can answer "why was this rejected?". The runner
 * records every denial (`deny`) and every would-be denial in report mode (`report`) exactly once, from the
 * `decision` a policy put on the `GatewayError` it threw; policies record only `allow` decisions themselves.
 */
export interface DecisionRecord {
  /** Policy name, e.g. `rate-limit`. */
  policy: string
  /** The rule within the policy, e.g. `per-ip`. */
  rule?: string
  /** The key the decision applied to (an ip, a principal id); never a secret. */
  key?: string
  /** `allow`, `deny`, or `report` (a deny that report mode let through). */
  outcome: 'allow' | 'deny' | 'report'
  /** Short machine-readable reason, e.g. `limit-exceeded`; the error code when the policy gave none. */
  reason?: string
  /** The rules that matched, when a denial has several findings. */
  matches?: DecisionMatch[]
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
  /**
   * Adds `value` to a counter. `name` is `<area>_<name>` in snake_case, the area being the package
   * (`ratelimit_denied`, `cache_requests`): no `gw_` prefix and no `_total`, which a Prometheus sink adds
   * (`gw_ratelimit_denied_total`). Labels are bounded sets (route ids, outcomes), never keys or ips.
   */
  count(name: string, value: number, labels?: Record<string, string>): void
  /**
   * Records one observation in a histogram. `name` is `<area>_<name>_<unit>` with a base unit (`_seconds`,
   * `_bytes`); the Prometheus sink adds the `gw_` prefix.
   */
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
