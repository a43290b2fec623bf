/**
 * Parsed `Cache-Control` directives: lowercase names; `true` when a directive has no argument. First occurrence wins.
 *
 * @example
 * ```ts
 * const d: Directives = parseCacheControl('no-cache, max-age=5') // { 'no-cache': true, 'max-age': '5' }
 * ```
 */
export type Directives = Readonly<Record<string, string | true>>

const EMPTY: Directives = Object.freeze(Object.create(null) as Record<string, string | true>)

/**
 * Largest delta-seconds value a cache must handle (RFC 9111 §1.2.2); larger values are capped to it.
 *
 * @example
 * ```ts
 * deltaSeconds(parseCacheControl('max-age=9999999999'), 'max-age') === MAX_DELTA_SECONDS // true
 * ```
 */
export const MAX_DELTA_SECONDS = 2_147_483_648

/**
 * Parses `Cache-Control` field values (RFC 9111 §5.2): comma-separated directives with optional token or
 * quoted-string arguments. Directive names are case-insensitive; the first occurrence of a directive is kept.
 *
 * @example
 * ```ts
 * parseCacheControl('public, max-age="60", no-cache="set-cookie"')
 * // { public: true, 'max-age': '60', 'no-cache': 'set-cookie' }
 * ```
 */
export function parseCacheControl(value: string | readonly string[] | number | undefined): Directives {
  if (value === undefined) return EMPTY
  const text = typeof value === 'string' ? value : Array.isArray(value) ? value.join(',') : String(value)
  if (text === '') return EMPTY
  const out: Record<string, string | true> = Object.create(null)
  const length = text.length
  let i = 0
  while (i < length) {
    while (i < length && (text[i] === ' ' || text[i] === '\t' || text[i] === ',')) i++
    const nameStart = i
    while (i < length && text[i] !== '=' && text[i] !== ',') i++
    const name = text.slice(nameStart, i).trim().toLowerCase()
    let arg: string | true = true
    if (text[i] === '=') {
      i++
      while (i < length && (text[i] === ' ' || text[i] === '\t')) i++
      if (text[i] === '"') {
        i++
        let buf = ''
        while (i < length && text[i] !== '"') {
          if (text[i] === '\\' && i + 1 < length) i++
          buf += text[i]
          i++
        }
        i++
        arg = buf
        while (i < length && text[i] !== ',') i++
      } else {
        const argStart = i
        while (i < length && text[i] !== ',') i++
        arg = text.slice(argStart, i).trim()
      }
    }
    if (name !== '' && !(name in out)) out[name] = arg
  }
  return out
}

/**
 * Reads a delta-seconds directive argument: `undefined` when the directive is absent, `-1` when present but
 * invalid (no argument, not all digits), otherwise the value capped at {@link MAX_DELTA_SECONDS}.
 *
 * @example
 * ```ts
 * deltaSeconds(parseCacheControl('max-age=60'), 'max-age') // 60
 * deltaSeconds(parseCacheControl('max-age=-1'), 'max-age') // -1
 * ```
 */
export function deltaSeconds(directives: Directives, name: string): number | undefined {
  const arg = directives[name]
  if (arg === undefined) return undefined
  if (arg === true || !/^\d+$/.test(arg)) return -1
  return Math.min(Number(arg), MAX_DELTA_SECONDS)
}

/**
 * Field names listed in a qualified directive such as `private="set-cookie, x-internal"` (lowercase).
 *
 * @example
 * ```ts
 * qualifiedFields(parseCacheControl('no-cache="Set-Cookie"'), 'no-cache') // ['set-cookie']
 * ```
 */
export function qualifiedFields(directives: Directives, name: string): string[] {
  const arg = directives[name]
  if (arg === undefined || arg === true) return []
  return arg
    .split(',')
    .map((f) => f.trim().toLowerCase())
    .filter((f) => f !== '')
}
