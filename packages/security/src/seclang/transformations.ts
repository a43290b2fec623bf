import { createHash } from 'node:crypto'

/**
 * SecLang transformations (`t:name`) on byte strings (one char per byte, latin1), with ModSecurity v2's
 * semantics: decoders leave invalid sequences as they are, `lowercase` only changes ASCII, `%uHHHH` keeps the
 * low byte (full-width ASCII `%uff01`-`%uff5e` becomes its ASCII twin).
 */
export type Transformation = (input: string) => string

const isHex = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102)
const hexVal = (c: number): number => (c <= 57 ? c - 48 : (c | 0x20) - 87)
const hexByte = (s: string, i: number): number => (hexVal(s.charCodeAt(i)) << 4) | hexVal(s.charCodeAt(i + 1))
const NON_ASCII = /[\u0080-\uffff]/
const UPPER = /[A-Z]/

/** ASCII-only lower-casing (bytes >= 0x80 are left alone, as C's tolower does). */
export function lowercase(s: string): string {
  if (!UPPER.test(s)) return s
  if (!NON_ASCII.test(s)) return s.toLowerCase()
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    out += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i]
  }
  return out
}

function uppercase(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    out += c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : s[i]
  }
  return out
}

function fullWidthLowByte(hi: string, low: number): number {
  if (low > 0 && low < 0x5f && (hi === 'ff' || hi === 'FF' || hi === 'fF' || hi === 'Ff')) return low + 0x20
  return low
}

function urlDecodeImpl(s: string, uni: boolean): string {
  if (s.indexOf('%') === -1 && s.indexOf('+') === -1) return s
  let out = ''
  const n = s.length
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i)
    if (c === 43) {
      out += ' '
      continue
    }
    if (c === 37) {
      if (uni && (s[i + 1] === 'u' || s[i + 1] === 'U') && i + 5 < n) {
        if (
          isHex(s.charCodeAt(i + 2)) &&
          isHex(s.charCodeAt(i + 3)) &&
          isHex(s.charCodeAt(i + 4)) &&
          isHex(s.charCodeAt(i + 5))
        ) {
          out += String.fromCharCode(fullWidthLowByte(s.slice(i + 2, i + 4), hexByte(s, i + 4)))
          i += 5
          continue
        }
      }
      if (i + 2 < n && isHex(s.charCodeAt(i + 1)) && isHex(s.charCodeAt(i + 2))) {
        out += String.fromCharCode(hexByte(s, i + 1))
        i += 2
        continue
      }
    }
    out += s[i]
  }
  return out
}

/** `t:urlDecode`: `%HH` and `+`; invalid escapes stay. */
export const urlDecode: Transformation = (s) => urlDecodeImpl(s, false)
/** `t:urlDecodeUni`: `urlDecode` plus `%uHHHH`. */
export const urlDecodeUni: Transformation = (s) => urlDecodeImpl(s, true)

const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', nbsp: '\xa0' }

/** `t:htmlEntityDecode`: `&#DDD;`, `&#xHH;` (semicolon optional, value truncated to a byte) and five named entities. */
export function htmlEntityDecode(s: string): string {
  if (s.indexOf('&') === -1) return s
  let out = ''
  const n = s.length
  let i = 0
  while (i < n) {
    const c = s[i]!
    if (c !== '&' || i + 1 >= n) {
      out += c
      i++
      continue
    }
    if (s[i + 1] === '#') {
      let j = i + 2
      let hex = false
      if (s[j] === 'x' || s[j] === 'X') {
        hex = true
        j++
      }
      const start = j
      while (j < n && (hex ? isHex(s.charCodeAt(j)) : s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57)) j++
      if (j > start) {
        let digits = start
        while (digits < j - 1 && s[digits] === '0') digits++
        const value = Number.parseInt(s.slice(digits, Math.min(j, digits + 8)), hex ? 16 : 10)
        out += String.fromCharCode(value & 0xff)
        i = s[j] === ';' ? j + 1 : j
        continue
      }
      out += c
      i++
      continue
    }
    let j = i + 1
    while (j < n && j - i <= 8 && /[a-zA-Z]/.test(s[j]!)) j++
    const name = s.slice(i + 1, j).toLowerCase()
    const value = ENTITIES[name]
    if (value !== undefined) {
      out += value
      i = s[j] === ';' ? j + 1 : j
      continue
    }
    out += c
    i++
  }
  return out
}

/** `t:jsDecode`: JavaScript escapes (`\uHHHH`, `\xHH`, octal, `\n`...). */
export function jsDecode(s: string): string {
  if (s.indexOf('\\') === -1) return s
  let out = ''
  const n = s.length
  let i = 0
  while (i < n) {
    const c = s[i]!
    if (c !== '\\' || i + 1 >= n) {
      out += c
      i++
      continue
    }
    const e = s[i + 1]!
    if (
      (e === 'u' || e === 'U') &&
      i + 5 < n &&
      isHex(s.charCodeAt(i + 2)) &&
      isHex(s.charCodeAt(i + 3)) &&
      isHex(s.charCodeAt(i + 4)) &&
      isHex(s.charCodeAt(i + 5))
    ) {
      out += String.fromCharCode(fullWidthLowByte(s.slice(i + 2, i + 4), hexByte(s, i + 4)))
      i += 6
      continue
    }
    if (e === 'x' && i + 3 < n && isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3))) {
      out += String.fromCharCode(hexByte(s, i + 2))
      i += 4
      continue
    }
    if (e >= '0' && e <= '7') {
      let j = i + 1
      let v = 0
      while (j < n && j < i + 4 && s[j]! >= '0' && s[j]! <= '7') {
        const nv = v * 8 + (s.charCodeAt(j) - 48)
        if (nv > 255) break
        v = nv
        j++
      }
      out += String.fromCharCode(v)
      i = j
      continue
    }
    out += SIMPLE_ESCAPES[e] ?? e
    i += 2
  }
  return out
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
}

/** `t:cssDecode`: CSS 2 escapes (`\HHHHHH` with an optional following space, `\` + newline, `\` + char). */
export function cssDecode(s: string): string {
  if (s.indexOf('\\') === -1) return s
  let out = ''
  const n = s.length
  let i = 0
  while (i < n) {
    const c = s[i]!
    if (c !== '\\') {
      out += c
      i++
      continue
    }
    if (i + 1 >= n) {
      i++
      continue
    }
    let j = i + 1
    while (j < n && j < i + 7 && isHex(s.charCodeAt(j))) j++
    const len = j - i - 1
    if (len > 0) {
      const hex = s.slice(i + 1, j)
      let code: number
      if (len > 2) {
        code = Number.parseInt(hex.slice(-2), 16)
        const fw = hex.length >= 4 ? hex.slice(-4, -2) : ''
        const allZeroOrFfPrefix = /^0*$/.test(hex.slice(0, -4))
        if (len >= 4 && allZeroOrFfPrefix) code = fullWidthLowByte(fw, code)
      } else code = Number.parseInt(hex, 16)
      out += String.fromCharCode(code)
      i = j
      if (i < n && (s[i] === ' ' || s[i] === '\t' || s[i] === '\n' || s[i] === '\r' || s[i] === '\f')) i++
      continue
    }
    if (s[i + 1] === '\n') {
      i += 2
      continue
    }
    out += s[i + 1]
    i += 2
  }
  return out
}

/** `t:cmdLine`: removes `\ " ' ^`, turns `, ;` and whitespace runs into one space, drops a space before `/` or `(`, lower-cases. */
export function cmdLine(s: string): string {
  let out = ''
  let space = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    switch (c) {
      case '"':
      case "'":
      case '\\':
      case '^':
        break
      case ' ':
      case ',':
      case ';':
      case '\t':
      case '\r':
      case '\n':
        if (!space) {
          out += ' '
          space = true
        }
        break
      case '/':
      case '(':
        if (space) out = out.slice(0, -1)
        space = false
        out += c
        break
      default: {
        const code = s.charCodeAt(i)
        out += code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : c
        space = false
      }
    }
  }
  return out
}

const isWs = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || c === 0xa0

/** `t:compressWhitespace`: runs of whitespace (including 0xA0) become one space. */
export function compressWhitespace(s: string): string {
  let out = ''
  let inWs = false
  for (let i = 0; i < s.length; i++) {
    if (isWs(s.charCodeAt(i))) {
      if (!inWs) out += ' '
      inWs = true
    } else {
      out += s[i]
      inWs = false
    }
  }
  return out
}

/** `t:removeWhitespace`. */
export function removeWhitespace(s: string): string {
  let out = ''
  for (let i = 0; i < s.length; i++) if (!isWs(s.charCodeAt(i))) out += s[i]
  return out
}

/** `t:replaceComments`: each C comment (`/* ... *\/`, unterminated ones to the end) becomes one space. */
export function replaceComments(s: string): string {
  if (s.indexOf('/*') === -1) return s
  let out = ''
  let i = 0
  while (i < s.length) {
    if (s[i] === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2)
      out += ' '
      if (end === -1) return out
      i = end + 2
      continue
    }
    out += s[i]
    i++
  }
  return out
}

/** `t:removeCommentsChar`: removes `/*`, `*\/`, `--` and `#`. */
export function removeCommentsChar(s: string): string {
  let out = ''
  let i = 0
  while (i < s.length) {
    const c = s[i]!
    const d = s[i + 1]
    if ((c === '/' && d === '*') || (c === '*' && d === '/') || (c === '-' && d === '-')) {
      i += 2
      continue
    }
    if (c === '#') {
      i++
      continue
    }
    out += c
    i++
  }
  return out
}

/** `t:removeComments`: removes C comments, and `--` / `#` comments to the end of the line. */
export function removeComments(s: string): string {
  let out = ''
  let i = 0
  while (i < s.length) {
    if (s[i] === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2)
      if (end === -1) return out
      i = end + 2
      continue
    }
    if ((s[i] === '-' && s[i + 1] === '-') || s[i] === '#') {
      const end = s.indexOf('\n', i)
      if (end === -1) return out
      i = end
      continue
    }
    out += s[i]
    i++
  }
  return out
}

/** `t:normalizePath`: removes `./` and repeated slashes and resolves `../` segments. */
export function normalizePath(s: string): string {
  if (s === '') return s
  if (s.indexOf('/.') === -1 && s.indexOf('//') === -1 && !s.startsWith('.')) return s
  const absolute = s.startsWith('/')
  const trailing = s.endsWith('/') || s.endsWith('/.') || s.endsWith('/..') || s === '.' || s === '..'
  const parts = s.split('/')
  const out: string[] = []
  for (const part of parts) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop()
      else if (!absolute) out.push('..')
      continue
    }
    out.push(part)
  }
  let result = (absolute ? '/' : '') + out.join('/')
  if (trailing && out.length > 0) result += '/'
  return result
}

/** `t:normalizePathWin`: backslashes become slashes, then `normalizePath`. */
export function normalizePathWin(s: string): string {
  return normalizePath(s.indexOf('\\') === -1 ? s : s.replaceAll('\\', '/'))
}

const B64 = /[A-Za-z0-9+/]/

/** `t:base64Decode`: decodes up to the first character outside the alphabet. */
export function base64Decode(s: string): string {
  let end = 0
  while (end < s.length && B64.test(s[end]!)) end++
  return Buffer.from(s.slice(0, end), 'base64').toString('latin1')
}

/** `t:base64DecodeExt`: forgiving decoding that skips characters outside the alphabet. */
export function base64DecodeExt(s: string): string {
  return Buffer.from(s.replace(/[^A-Za-z0-9+/]/g, ''), 'base64').toString('latin1')
}

/** `t:utf8toUnicode`: valid multi-byte UTF-8 sequences become `%uHHHH`. */
export function utf8toUnicode(s: string): string {
  if (!NON_ASCII.test(s)) return s
  let out = ''
  const n = s.length
  let i = 0
  while (i < n) {
    const c = s.charCodeAt(i)
    if (c < 0x80) {
      out += s[i]
      i++
      continue
    }
    let len = 0
    let cp = 0
    if ((c & 0xe0) === 0xc0) {
      len = 2
      cp = c & 0x1f
    } else if ((c & 0xf0) === 0xe0) {
      len = 3
      cp = c & 0x0f
    } else if ((c & 0xf8) === 0xf0) {
      len = 4
      cp = c & 0x07
    }
    let ok = len > 0 && i + len <= n
    for (let k = 1; ok && k < len; k++) {
      const cc = s.charCodeAt(i + k)
      if ((cc & 0xc0) !== 0x80) ok = false
      else cp = (cp << 6) | (cc & 0x3f)
    }
    if (!ok) {
      out += s[i]
      i++
      continue
    }
    out += `%u${(cp & 0xffff).toString(16).padStart(4, '0')}`
    i += len
  }
  return out
}

/** `t:escapeSeqDecode`: ANSI C escapes (`\n`, `\xHH`, `\OOO`, `\\`, ...). */
export function escapeSeqDecode(s: string): string {
  if (s.indexOf('\\') === -1) return s
  let out = ''
  const n = s.length
  let i = 0
  while (i < n) {
    const c = s[i]!
    if (c !== '\\' || i + 1 >= n) {
      out += c
      i++
      continue
    }
    const e = s[i + 1]!
    const simple = SIMPLE_ESCAPES[e]
    if (simple !== undefined) {
      out += simple
      i += 2
      continue
    }
    if (e === '\\' || e === '?' || e === "'" || e === '"') {
      out += e
      i += 2
      continue
    }
    if (e === 'x' && i + 3 < n && isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3))) {
      out += String.fromCharCode(hexByte(s, i + 2))
      i += 4
      continue
    }
    if (e >= '0' && e <= '7') {
      let j = i + 1
      let v = 0
      while (j < n && j < i + 4 && s[j]! >= '0' && s[j]! <= '7') {
        v = v * 8 + (s.charCodeAt(j) - 48)
        j++
      }
      out += String.fromCharCode(v & 0xff)
      i = j
      continue
    }
    out += c
    i++
  }
  return out
}

/** `t:hexEncode`. */
export function hexEncode(s: string): string {
  return Buffer.from(s, 'latin1').toString('hex')
}

const trimSet = (c: number): boolean => c === 32 || (c >= 9 && c <= 13)

/** Every transformation by its (case-insensitive) name. `none` is handled by the compiler. */
export const TRANSFORMATIONS: ReadonlyMap<string, Transformation> = new Map<string, Transformation>([
  ['lowercase', lowercase],
  ['uppercase', uppercase],
  ['urldecode', urlDecode],
  ['urldecodeuni', urlDecodeUni],
  ['htmlentitydecode', htmlEntityDecode],
  ['jsdecode', jsDecode],
  ['cssdecode', cssDecode],
  ['cmdline', cmdLine],
  ['compresswhitespace', compressWhitespace],
  ['removewhitespace', removeWhitespace],
  ['removenulls', (s) => (s.indexOf('\0') === -1 ? s : s.replaceAll('\0', ''))],
  ['replacenulls', (s) => (s.indexOf('\0') === -1 ? s : s.replaceAll('\0', ' '))],
  ['replacecomments', replaceComments],
  ['removecommentschar', removeCommentsChar],
  ['removecomments', removeComments],
  ['normalizepath', normalizePath],
  ['normalisepath', normalizePath],
  ['normalizepathwin', normalizePathWin],
  ['normalisepathwin', normalizePathWin],
  ['base64decode', base64Decode],
  ['base64decodeext', base64DecodeExt],
  ['base64encode', (s) => Buffer.from(s, 'latin1').toString('base64')],
  ['hexencode', hexEncode],
  ['hexdecode', (s) => Buffer.from(s.replace(/[^0-9a-fA-F]/g, ''), 'hex').toString('latin1')],
  ['sha1', (s) => createHash('sha1').update(s, 'latin1').digest().toString('latin1')],
  ['md5', (s) => createHash('md5').update(s, 'latin1').digest().toString('latin1')],
  ['length', (s) => String(s.length)],
  ['utf8tounicode', utf8toUnicode],
  ['escapeseqdecode', escapeSeqDecode],
  [
    'trim',
    (s) => {
      let a = 0
      let b = s.length
      while (a < b && trimSet(s.charCodeAt(a))) a++
      while (b > a && trimSet(s.charCodeAt(b - 1))) b--
      return a === 0 && b === s.length ? s : s.slice(a, b)
    },
  ],
  [
    'trimleft',
    (s) => {
      let a = 0
      while (a < s.length && trimSet(s.charCodeAt(a))) a++
      return a === 0 ? s : s.slice(a)
    },
  ],
  [
    'trimright',
    (s) => {
      let b = s.length
      while (b > 0 && trimSet(s.charCodeAt(b - 1))) b--
      return b === s.length ? s : s.slice(0, b)
    },
  ],
])
