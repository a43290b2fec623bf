const HEX = /%([0-9a-f]{2})|%u([0-9a-f]{4})/gi
const ENTITY =
  /&(?:#x([0-9a-f]{1,6})|#(\d{1,7})|(lt|gt|quot|apos|amp|colon|lpar|rpar|sol|bsol|tab|newline|semi|equals|grave|nbsp));?/gi
const NAMED: Record<string, string> = {
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  amp: '&',
  colon: ':',
  lpar: '(',
  rpar: ')',
  sol: '/',
  bsol: '\\',
  tab: '\t',
  newline: '\n',
  semi: ';',
  equals: '=',
  grave: '`',
  nbsp: ' ',
}
const OVERLONG = /%(?:c0%af|c1%9c|c0%2f|c0%5c|e0%80%af|c1%1c)/i
const OVERLONG_ALL = /%(?:c0%af|c1%9c|c0%2f|c0%5c|e0%80%af|c1%1c)/gi
const NON_ASCII = /[^ -~\t\n\r]/
const SQL_VERSIONED_COMMENT = /\/\*!\d*(.*?)\*\//g
const SQL_COMMENT = /\/\*.*?\*\//g
const WHITESPACE = /[ \t\v\f\u00a0]+/g

/**
 * Decodes percent-encoding (`%2e`, `%u002e`, double and triple encoding: up to `rounds` passes), leniently:
 * invalid sequences stay as they are and multi-byte UTF-8 sequences are decoded when valid.
 *
 * @example
 * ```ts
 * percentDecode('%252e%252e%252f', 3) // '../'
 * ```
 */
export function percentDecode(value: string, rounds: number): string {
  let current = value
  for (let i = 0; i < rounds && current.includes('%'); i++) {
    if (OVERLONG.test(current))
      current = current.replace(OVERLONG_ALL, (m) => (m.endsWith('9c') || m.endsWith('5c') ? '\\' : '/'))
    let next: string
    try {
      next = decodeURIComponent(current)
    } catch {
      next = current.replace(HEX, (_m, hex: string | undefined, uni: string | undefined) =>
        String.fromCharCode(Number.parseInt(hex ?? uni!, 16)),
      )
    }
    if (next === current) break
    current = next
  }
  return current
}

/**
 * Decodes HTML character references (numeric, hex and the named ones used to hide payloads), twice.
 *
 * @example
 * ```ts
 * decodeEntities('&lt;script&gt;') // '<script>'
 * ```
 */
export function decodeEntities(value: string): string {
  let current = value
  for (let i = 0; i < 2 && current.includes('&'); i++) {
    const next = current.replace(
      ENTITY,
      (_m, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
        if (name !== undefined) return NAMED[name.toLowerCase()] ?? ''
        const code = hex !== undefined ? Number.parseInt(hex, 16) : Number(dec)
        return code > 0x10ffff ? '' : String.fromCodePoint(code)
      },
    )
    if (next === current) break
    current = next
  }
  return current
}

/**
 * The text attack rules are matched against: percent-decoded (repeatedly), HTML entities decoded, Unicode
 * NFKC-folded (full-width `＜` becomes `<`), lower-cased, backslashes as slashes, SQL comments removed
 * (`UNION/**\/SELECT` -> `union select`; `/*!50000UNION*\/` -> `union`), null bytes dropped and runs of spaces and tabs
 * collapsed to one space (CR and LF are kept for the CRLF-injection rule). `plusIsSpace` applies form decoding (query strings, form bodies).
 *
 * @example
 * ```ts
 * normalize('%3CScRiPt%3E', false) // '<script>'
 * ```
 */
export function normalize(raw: string, plusIsSpace: boolean, rounds = 3): string {
  let value = plusIsSpace && raw.includes('+') ? raw.replaceAll('+', ' ') : raw
  value = percentDecode(value, rounds)
  value = decodeEntities(value)
  if (NON_ASCII.test(value)) value = value.normalize('NFKC')
  value = value.toLowerCase()
  if (value.includes('\\')) value = value.replaceAll('\\', '/')
  if (value.includes('\0')) value = value.replaceAll('\0', '')
  if (value.includes('/*')) value = value.replace(SQL_VERSIONED_COMMENT, ' $1 ').replace(SQL_COMMENT, ' ')
  return value.replace(WHITESPACE, ' ')
}

/** Whether a raw or decoded value contains a NUL or another C0 control character that has no business in a URL. */
export function hasControlBytes(raw: string, rounds = 3): boolean {
  const decoded = raw.includes('%') ? percentDecode(raw, rounds) : raw
  // biome-ignore lint/suspicious/noControlCharactersInRegex: detecting control characters is the point
  return /[\x00-\x08\x0e-\x1f]/.test(decoded)
}
