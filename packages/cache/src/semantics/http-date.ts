const IMF_FIXDATE =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/
const RFC850 =
  /^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \d{2}-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{2} \d{2}:\d{2}:\d{2} GMT$/
const ASCTIME =
  /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/

/**
 * Parses an HTTP-date (RFC 9110 §5.6.7: IMF-fixdate, obsolete RFC 850 and asctime forms) to epoch ms;
 * anything else (including `0` or `-1`) is `undefined`.
 *
 * @example
 * ```ts
 * parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT') // 784111777000
 * parseHttpDate('0') // undefined
 * ```
 */
export function parseHttpDate(value: string | readonly string[] | number | undefined): number | undefined {
  if (value === undefined) return undefined
  const text = (typeof value === 'string' ? value : Array.isArray(value) ? value[0] : String(value))?.trim()
  if (text === undefined) return undefined
  if (IMF_FIXDATE.test(text)) return Date.parse(text)
  if (RFC850.test(text)) {
    const [, rest] = text.split(', ')
    const [day, month, yy] = (rest ?? '').slice(0, 9).split('-')
    const twoDigit = Number(yy)
    const nowYear = new Date().getUTCFullYear()
    let year = 1900 + twoDigit
    while (year + 50 < nowYear) year += 100
    const ms = Date.parse(`${day} ${month} ${year} ${(rest ?? '').slice(10)}`)
    return Number.isNaN(ms) ? undefined : ms
  }
  if (ASCTIME.test(text)) {
    const ms = Date.parse(`${text} GMT`)
    return Number.isNaN(ms) ? undefined : ms
  }
  return undefined
}

/**
 * Formats epoch ms as an IMF-fixdate.
 *
 * @example
 * ```ts
 * formatHttpDate(0) // 'Thu, 01 Jan 1970 00:00:00 GMT'
 * ```
 */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString()
}
