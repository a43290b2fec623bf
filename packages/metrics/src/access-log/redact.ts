/**
 * The placeholder written instead of a secret.
 *
 * @example
 * ```ts
 * line.headers?.authorization === REDACTED // true when it was listed
 * ```
 */
export const REDACTED = '[REDACTED]'

/**
 * Redacts the values of query parameters whose names are in `names` (case-insensitive), keeping the rest of
 * the query byte for byte. Parameter names are compared after percent-decoding.
 *
 * @example
 * ```ts
 * redactQuery('a=1&api_key=s3cret', new Set(['api_key'])) // 'a=1&api_key=[REDACTED]'
 * ```
 */
export function redactQuery(search: string, names: ReadonlySet<string>): string {
  if (search === '') return ''
  let out = ''
  for (const pair of search.split('&')) {
    const eq = pair.indexOf('=')
    const rawName = eq === -1 ? pair : pair.slice(0, eq)
    let name = rawName
    try {
      name = decodeURIComponent(rawName.replace(/\+/g, ' '))
    } catch {
      name = rawName
    }
    const keep = !names.has(name.toLowerCase())
    out += (out === '' ? '' : '&') + (keep ? pair : rawName + '=' + REDACTED)
  }
  return out
}
