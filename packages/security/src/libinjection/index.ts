import { toByteString } from './bytes.js'
import { SqliState } from './sqli.js'
import { isXss } from './xss.js'

const state = new SqliState()

/**
 * libinjection's SQL injection check, as ModSecurity's and Coraza's `@detectSQLi` operator runs it: the input
 * is tokenized as SQL as-is and as if it followed a single or double quote (ANSI and MySQL comment rules),
 * the tokens are folded to at most five, and their type letters (the fingerprint, e.g. `s&1` for
 * `' OR 1`) are looked up in libinjection's set of 8,367 SQLi fingerprints, then passed through its
 * false-positive filters.
 *
 * The input is a byte string (chars 0x00-0xff, one per byte) after the rule's transformations; chars above
 * 0xff are taken as their UTF-8 bytes. Linear in the input length; allocation is limited to short token values.
 *
 * @param input - the (transformed) argument value
 * @returns `sqli`, and the matched `fingerprint` (`''` when not SQLi), which `@detectSQLi` stores in TX:0
 * @example
 * ```ts
 * detectSqli("1' OR '1'='1")   // { sqli: true, fingerprint: 's&sos' }
 * detectSqli('1 UNION SELECT password FROM users') // { sqli: true, fingerprint: '1UEnk' }
 * detectSqli("O'Reilly")       // { sqli: false, fingerprint: '' }
 * ```
 */
export function detectSqli(input: string): { sqli: boolean; fingerprint: string } {
  if (input.length === 0) return { sqli: false, fingerprint: '' }
  state.init(toByteString(input), 0)
  const sqli = state.isSqli()
  return { sqli, fingerprint: sqli ? state.fingerprint : '' }
}

/**
 * libinjection's XSS check, as `@detectXSS` runs it: the input is tokenized as HTML5 from five starting
 * contexts (text, and inside an unquoted, single-, double- or back-quoted attribute value) and flagged on a
 * doctype, a dangerous tag (`script`, `iframe`, `svg*`, ...), an event handler (`on*`) or other dangerous
 * attribute, a `javascript:`/`vbscript:`/`data:`/`view-source:` URL in a URL attribute (numeric HTML entities
 * decoded), or an IE/XML comment trick.
 *
 * The input is a byte string like {@link detectSqli}'s. Linear in the input length.
 *
 * @param input - the (transformed) argument value
 * @returns true when the input could inject script into an HTML page
 * @example
 * ```ts
 * detectXss('<script>alert(1)</script>')           // true
 * detectXss('"><img src=x onerror=alert(1)>')      // true
 * detectXss('<a href="jav&#x61;script:alert(1)">') // true
 * detectXss('<b>bold</b> and 1 < 2')               // false
 * ```
 */
export function detectXss(input: string): boolean {
  if (input.length === 0) return false
  return isXss(toByteString(input))
}
