/**
 * RateLimit-Policy and RateLimit header fields per draft-ietf-httpapi-ratelimit-headers (revision 10): both are
 * Structured Field Lists (RFC 9651) of Strings naming a quota policy, with parameters. Policy: `q` quota
 * (Integer), `qu` quota unit (String, default "requests"), `w` window (Integer seconds). RateLimit: `r`
 * remaining (Integer), `t` seconds until reset (Integer).
 */

/**
 * Policy names: what a Structured Field String can carry without escapes, kept short and readable.
 *
 * @example
 * ```ts
 * POLICY_NAME.test('per-ip') // true
 * ```
 */
export const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/

/**
 * Serialises a Structured Field String (RFC 9651 §4.1.6): printable ASCII, with `"` and `\` escaped.
 *
 * @example
 * ```ts
 * sfString('per-ip') // '"per-ip"'
 * ```
 */
export function sfString(value: string): string {
  if (!/^[\x20-\x7e]*$/.test(value)) throw new TypeError(`not a structured field string: ${value}`)
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/**
 * One item of `RateLimit-Policy`.
 *
 * @example
 * ```ts
 * policyItem('per-ip', 100, 900_000) // '"per-ip";q=100;w=900'
 * ```
 */
export function policyItem(name: string, quota: number, windowMs: number | undefined, unit?: string): string {
  let item = `${sfString(name)};q=${quota}`
  if (unit !== undefined && unit !== 'requests') item += `;qu=${sfString(unit)}`
  if (windowMs !== undefined) item += `;w=${Math.max(1, Math.ceil(windowMs / 1000))}`
  return item
}

/**
 * The `t` / `Retry-After` value: whole seconds, rounded up.
 *
 * @example
 * ```ts
 * seconds(1500) // 2
 * ```
 */
export function seconds(ms: number): number {
  return Math.ceil(ms / 1000)
}
