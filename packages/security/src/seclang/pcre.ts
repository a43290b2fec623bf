/**
 * PCRE -> JavaScript regular expression translation for the constructs CRS uses, with PCRE's byte-mode
 * semantics: subjects are "byte strings" (one char per byte, latin1), so `\x{bc}` is the byte 0xBC, `.` matches
 * every byte but `\n` (JS's `.` would also skip `\r`), `\s` is `[\t-\r ]` (JS's would also match 0xA0), `$`
 * matches at the end or before a final newline (as `(?:\n?$)`, without a lookahead, so the pattern stays
 * eligible for V8's linear-time engine; a match may then include that final newline), inline `(?i)` / `(?i:...)` / `(?s)` work at any position, and
 * `(?P<name>...)` named groups, `\A`, `\z`, `\Z`, `\h`, `\v`, `\R`, `\Q...\E`, `\e` and POSIX classes are
 * supported. Constructs JS cannot express with the same meaning (possessive quantifiers, atomic groups,
 * recursion, `\G`, `\K`, `\X`, `\p{..}`, `(?x)`, `(?|`) throw a {@link PcreError}.
 */

/** A pattern that cannot be translated faithfully. */
export class PcreError extends Error {
  override readonly name = 'PcreError'
}

/** The translation: a JS source and its flags. */
export interface TranslatedRegex {
  readonly source: string
  readonly flags: string
}

const POSIX: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: '0-9A-Za-z',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\t-\\r ',
  blank: '\\t ',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '0-9A-Za-z_',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
  ascii: '\\x00-\\x7f',
}

const DOT = '[^\\n]'
const DOT_ALL = '[\\s\\S]'
const SPACE_CLASS = '\\t-\\r '
const NOT_SPACE_CLASS = '\\x00-\\x08\\x0e-\\x1f\\x21-\\uffff'
const H_CLASS = '\\t \\xa0'
const NOT_H_CLASS = '\\x00-\\x08\\n-\\x1f\\x21-\\x9f\\xa1-\\uffff'
const V_CLASS = '\\n-\\r\\x85'
const NOT_V_CLASS = '\\x00-\\t\\x0e-\\x84\\x86-\\uffff'

interface Scope {
  caseless: boolean
  dotAll: boolean
}

/**
 * Translates a PCRE pattern to a JavaScript `RegExp` source and flags with the same meaning on byte strings.
 *
 * @example
 * ```ts
 * translatePcre('(?i)\\Ax\\s+\\x{bc}') // { source: '^[xX][\\t-\\r ]+\\xbc', flags: '' }
 * ```
 */
export function translatePcre(pattern: string, options: { caseFlag?: boolean } = {}): TranslatedRegex {
  const caseFlag = options.caseFlag ?? false
  let p = pattern
  let globalCaseless = false
  let globalDotAll = false
  // Leading option settings apply to the whole pattern and become flags.
  for (;;) {
    const m = /^\(\?([a-zA-Z]+)\)/.exec(p)
    if (!m) break
    for (const f of m[1]!) {
      if (f === 'i') globalCaseless = true
      else if (f === 's') globalDotAll = true
      else if (f === 'm' || f === 'x' || f === 'U' || f === 'J')
        throw new PcreError(`inline option (?${f}) is not supported`)
      else throw new PcreError(`unknown inline option (?${f})`)
    }
    p = p.slice(m[0].length)
  }
  let out = ''
  const stack: Scope[] = []
  let scope: Scope = { caseless: globalCaseless, dotAll: globalDotAll }
  const flagCaseless = globalCaseless && caseFlag
  const expandCase = (): boolean => scope.caseless && !flagCaseless
  let i = 0
  const n = p.length
  while (i < n) {
    const c = p[i]!
    if (c === '\\') {
      const [text, len] = translateEscape(p, i, false, expandCase())
      out += text
      i += len
      continue
    }
    if (c === '[') {
      const [text, len] = translateClass(p, i, expandCase())
      out += text
      i += len
      continue
    }
    if (c === '(') {
      if (p[i + 1] === '?') {
        const rest = p.slice(i + 2)
        if (rest.startsWith('#')) {
          const end = p.indexOf(')', i)
          if (end === -1) throw new PcreError('unterminated comment')
          i = end + 1
          continue
        }
        if (rest.startsWith('P<')) {
          stack.push(scope)
          scope = { ...scope }
          out += '(?<'
          i += 4
          continue
        }
        if (rest.startsWith('P=')) {
          const end = p.indexOf(')', i)
          out += `\\k<${p.slice(i + 4, end)}>`
          i = end + 1
          continue
        }
        if (rest.startsWith('P>') || rest.startsWith('R') || /^[0-9+-]/.test(rest) || rest.startsWith('&'))
          throw new PcreError('recursion and subroutine calls are not supported')
        if (rest.startsWith('>')) throw new PcreError('atomic groups are not supported')
        if (rest.startsWith('|')) throw new PcreError('branch reset groups are not supported')
        if (rest.startsWith(':') || rest.startsWith('=') || rest.startsWith('!')) {
          stack.push(scope)
          scope = { ...scope }
          out += `(?${rest[0]}`
          i += 3
          continue
        }
        if (rest.startsWith('<=') || rest.startsWith('<!')) {
          stack.push(scope)
          scope = { ...scope }
          out += `(?${rest.slice(0, 2)}`
          i += 4
          continue
        }
        if (rest.startsWith('<')) {
          stack.push(scope)
          scope = { ...scope }
          out += '(?<'
          i += 3
          continue
        }
        const opt = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest)
        if (!opt) throw new PcreError(`unsupported group syntax (?${rest.slice(0, 3)}`)
        const next = { ...scope }
        for (const f of opt[1]!) applyOption(next, f, true)
        for (const f of opt[2] ?? '') applyOption(next, f, false)
        if (!next.caseless && flagCaseless)
          throw new PcreError('turning off case-insensitivity inside a (?i) pattern is not supported')
        if (opt[3] === ')') {
          scope = next
          i += 2 + opt[0].length
          continue
        }
        stack.push(scope)
        scope = next
        out += '(?:'
        i += 2 + opt[0].length
        continue
      }
      stack.push(scope)
      scope = { ...scope }
      out += '('
      i++
      continue
    }
    if (c === ')') {
      scope = stack.pop() ?? scope
      out += ')'
      i++
      continue
    }
    if (c === '.') {
      out += scope.dotAll ? DOT_ALL : DOT
      i++
      continue
    }
    if (c === '$') {
      out += '(?:\\n?$)'
      i++
      continue
    }
    if (c === '*' || c === '+' || c === '?' || c === '}') {
      out += c
      i++
      if (p[i] === '+') throw new PcreError('possessive quantifiers are not supported')
      continue
    }
    out += expandCase() ? caseChar(c) : c
    i++
  }
  return { source: out, flags: flagCaseless ? 'i' : '' }
}

function applyOption(scope: Scope, f: string, on: boolean): void {
  if (f === 'i') scope.caseless = on
  else if (f === 's') scope.dotAll = on
  else throw new PcreError(`inline option ${f} is not supported`)
}

function caseChar(c: string): string {
  const lower = c.toLowerCase()
  const upper = c.toUpperCase()
  if (lower === upper || c.length !== 1 || !/[a-zA-Z]/.test(c)) return c
  return `[${lower}${upper}]`
}

function hex2(code: number): string {
  if (code > 0xffff) throw new PcreError(`code point ${code.toString(16)} is out of range`)
  return code <= 0xff
    ? `\\x${code.toString(16).padStart(2, '0')}`
    : `\\u${code.toString(16).padStart(4, '0')}`
}

/** Translates the escape at `p[i]` (a backslash); returns the JS text and the number of chars consumed. */
function translateEscape(p: string, i: number, inClass: boolean, caseless: boolean): [string, number] {
  const e = p[i + 1]
  if (e === undefined) throw new PcreError('pattern ends with a backslash')
  switch (e) {
    case 'x': {
      if (p[i + 2] === '{') {
        const end = p.indexOf('}', i)
        if (end === -1) throw new PcreError('unterminated \\x{')
        const code = Number.parseInt(p.slice(i + 3, end), 16)
        if (Number.isNaN(code)) throw new PcreError('bad \\x{} escape')
        return [literalCode(code, inClass, caseless), end - i + 1]
      }
      const m = /^[0-9a-fA-F]{1,2}/.exec(p.slice(i + 2, i + 4))
      const code = m ? Number.parseInt(m[0], 16) : 0
      return [literalCode(code, inClass, caseless), 2 + (m ? m[0].length : 0)]
    }
    case 'A':
      if (inClass) throw new PcreError('\\A inside a class')
      return ['^', 2]
    case 'z':
      if (inClass) throw new PcreError('\\z inside a class')
      return ['$', 2]
    case 'Z':
      if (inClass) throw new PcreError('\\Z inside a class')
      return ['(?:\\n?$)', 2]
    case 's':
      return [inClass ? SPACE_CLASS : `[${SPACE_CLASS}]`, 2]
    case 'S':
      return [inClass ? NOT_SPACE_CLASS : `[^${SPACE_CLASS}]`, 2]
    case 'h':
      return [inClass ? H_CLASS : `[${H_CLASS}]`, 2]
    case 'H':
      return [inClass ? NOT_H_CLASS : `[^${H_CLASS}]`, 2]
    case 'v':
      return [inClass ? V_CLASS : `[${V_CLASS}]`, 2]
    case 'V':
      return [inClass ? NOT_V_CLASS : `[^${V_CLASS}]`, 2]
    case 'R':
      if (inClass) throw new PcreError('\\R inside a class')
      return ['(?:\\r\\n|[\\n-\\r\\x85])', 2]
    case 'e':
      return ['\\x1b', 2]
    case 'a':
      return ['\\x07', 2]
    case 'Q': {
      let end = p.indexOf('\\E', i + 2)
      if (end === -1) end = p.length
      let text = ''
      for (const ch of p.slice(i + 2, end)) {
        text += inClass ? escapeClassChar(ch) : caseless ? caseChar(escapeLiteral(ch)) : escapeLiteral(ch)
      }
      return [text, end - i + (end === p.length ? 0 : 2)]
    }
    case 'E':
      return ['', 2]
    case 'G':
    case 'K':
    case 'X':
    case 'C':
    case 'p':
    case 'P':
    case 'g':
    case 'N':
      throw new PcreError(`\\${e} is not supported`)
    case 'b':
      return [inClass ? '\\x08' : '\\b', 2]
    case '0': {
      const m = /^[0-7]{0,2}/.exec(p.slice(i + 2, i + 4))
      const code = Number.parseInt(`0${m ? m[0] : ''}`, 8)
      return [literalCode(code, inClass, caseless), 2 + (m ? m[0].length : 0)]
    }
    case 'o':
      throw new PcreError('\\o{} is not supported')
    default:
      if (/[1-9]/.test(e)) {
        if (inClass) throw new PcreError('octal escapes inside classes are not supported')
        return [`\\${e}`, 2]
      }
      if (/[a-zA-Z]/.test(e)) {
        if ('dDwWBtnrfc'.includes(e)) {
          if (e === 'c') return [`\\c${p[i + 2] ?? ''}`, 3]
          return [`\\${e}`, 2]
        }
        throw new PcreError(`unknown escape \\${e}`)
      }
      return [inClass ? escapeClassChar(e) : `\\${e}`, 2]
  }
}

function literalCode(code: number, inClass: boolean, caseless: boolean): string {
  if (caseless && code < 0x80) {
    const ch = String.fromCharCode(code)
    if (/[a-zA-Z]/.test(ch)) return inClass ? `${ch.toLowerCase()}${ch.toUpperCase()}` : caseChar(ch)
  }
  return hex2(code)
}

function escapeLiteral(ch: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(ch) ? `\\${ch}` : ch
}

function escapeClassChar(ch: string): string {
  return /[\\\]^-]/.test(ch) ? `\\${ch}` : ch
}

/** Translates the class starting at `p[i]` (`[`); returns the JS text and the number of chars consumed. */
function translateClass(p: string, i: number, caseless: boolean): [string, number] {
  let j = i + 1
  let out = '['
  if (p[j] === '^') {
    out += '^'
    j++
  }
  if (p[j] === ']') {
    out += '\\]'
    j++
  }
  const extra: string[] = []
  while (j < p.length && p[j] !== ']') {
    const c = p[j]!
    if (c === '[' && p[j + 1] === ':') {
      const end = p.indexOf(':]', j + 2)
      if (end === -1) throw new PcreError('unterminated POSIX class')
      let name = p.slice(j + 2, end)
      const negated = name.startsWith('^')
      if (negated) throw new PcreError('negated POSIX classes are not supported')
      name = name.toLowerCase()
      const cls = POSIX[name]
      if (cls === undefined) throw new PcreError(`unknown POSIX class [:${name}:]`)
      out += cls
      j = end + 2
      continue
    }
    if (c === '\\') {
      const [text, len] = translateEscape(p, j, true, false)
      const raw = p.slice(j, j + len)
      out += text
      if (caseless) collectCaseVariants(rawClassChar(raw), p, j + len, extra)
      j += len
      continue
    }
    if (c === '[') {
      out += '\\['
      j++
      continue
    }
    out += c
    if (caseless) collectCaseVariants(c, p, j + 1, extra)
    j++
  }
  if (j >= p.length) throw new PcreError('unterminated character class')
  out += extra.join('')
  out += ']'
  return [out, j - i + 1]
}

function rawClassChar(raw: string): string | undefined {
  const m = /^\\x\{?([0-9a-fA-F]+)\}?$/.exec(raw)
  if (m) return String.fromCharCode(Number.parseInt(m[1]!, 16))
  if (raw.length === 2 && !/[a-zA-Z0-9]/.test(raw[1]!)) return raw[1]
  return undefined
}

/** For a caseless class, adds the other case of a letter (or of every letter in a range `c-x`). */
function collectCaseVariants(c: string | undefined, p: string, next: number, extra: string[]): void {
  if (c === undefined) return
  if (p[next] === '-' && p[next + 1] !== ']' && p[next + 1] !== undefined) {
    let hiChar: string | undefined = p[next + 1]
    if (hiChar === '\\') {
      const m = /^\\x\{?([0-9a-fA-F]+)\}?/.exec(p.slice(next + 1))
      hiChar = m ? String.fromCharCode(Number.parseInt(m[1]!, 16)) : undefined
    }
    if (hiChar !== undefined) {
      const lo = c.charCodeAt(0)
      const hi = hiChar.charCodeAt(0)
      for (let code = lo; code <= hi && code < 0x80; code++) {
        const ch = String.fromCharCode(code)
        if (/[a-zA-Z]/.test(ch)) extra.push(ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())
      }
      return
    }
  }
  if (/^[a-zA-Z]$/.test(c)) extra.push(c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())
}

/**
 * Compiles a PCRE pattern to a `RegExp` with the same meaning on byte strings.
 *
 * @example
 * ```ts
 * compilePcre('(?i)union\\s+select').test('UNION  SELECT') // true
 * ```
 */
export function compilePcre(pattern: string): RegExp {
  const { source, flags } = translatePcre(pattern)
  try {
    return new RegExp(source, flags)
  } catch (error) {
    throw new PcreError(`not a valid regular expression: ${(error as Error).message}`)
  }
}
