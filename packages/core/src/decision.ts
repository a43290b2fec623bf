// A leaf shared by errors.ts (a denial's decision) and telemetry.ts (the recorded decision).

/**
 * One rule that matched in a denial made of several findings (an attack-pattern engine names each rule that
 * fired). Values are samples for an operator, never a credential.
 */
export interface DecisionMatch {
  /** The rule id, e.g. `942100`. */
  rule: string
  /** What the rule detects, e.g. `SQL injection`. */
  message?: string
  /** A short, sanitised sample of the matched data. */
  data?: string
  /** Where it matched, e.g. `ARGS:id` or `REQUEST_HEADERS:user-agent`. */
  target?: string
}
