import {
  ATTR_NAME,
  ATTR_VALUE,
  CTX_DATA,
  CTX_VALUE_BACK_QUOTE,
  DOCTYPE,
  Html5Tokenizer,
  TAG_COMMENT,
  TAG_NAME_OPEN,
} from './html5.js'
import { BLACK_ATTRS, BLACK_EVENTS, BLACK_TAGS } from './xss-data.js'

/**
 * libinjection's XSS check: tokenize the input as HTML5 from each context user input can be reflected into
 * (text, and unquoted/single/double/back-quoted attribute values) and flag the first token that could run
 * script: a doctype, a dangerous tag, an event-handler or other dangerous attribute, a URL attribute whose
 * value is a javascript:/vbscript:/data:/view-source: URL (HTML entities decoded), or an IE/XML comment trick.
 */

const ATTR_NONE = 0
const ATTR_BLACK = 1
const ATTR_URL = 2
const ATTR_STYLE = 3
const ATTR_INDIRECT = 4
const ATTR_TYPE = { black: ATTR_BLACK, url: ATTR_URL, style: ATTR_STYLE, indirect: ATTR_INDIRECT } as const

/**
 * How `on*` attribute names are judged. ON_EVENTS (current libinjection, as in ModSecurity 3.0.14): names
 * that continue with a known event name (`onerror`, `onload`, ..., matched as a prefix). ON_ANY (libinjection
 * 3.9.2, as in ModSecurity up to 3.0.9): every `on*` name of 5 bytes or more.
 */
export const ON_EVENTS = 0
export const ON_ANY = 1

/** URL schemes (prefixes, upper case) that run script or hide content. JAVA covers JAVASCRIPT. */
const BLACK_URL_PREFIXES: readonly string[] = ['DATA', 'VIEW-SOURCE', 'JAVA', 'VBSCRIPT']

/** Byte at `i`, 0 past the end of the input (the C code may read the byte after a token, or the NUL). */
function byteAt(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : 0
}

function upper(c: number): number {
  return c >= 0x61 && c <= 0x7a ? c - 0x20 : c
}

/**
 * `len` bytes of `s` from `start`, NUL bytes ignored and a-z upper-cased, equal `word` (upper case)?
 * (libinjection's cstrcasecmp_with_null)
 */
function equalsIgnoringNul(word: string, s: string, start: number, len: number): boolean {
  if (len < word.length) return false
  let w = 0
  for (let i = start; i < start + len; i++) {
    const c = s.charCodeAt(i)
    if (c === 0) continue
    if (w >= word.length || word.charCodeAt(w) !== upper(c)) return false
    w++
  }
  return w === word.length
}

/**
 * The bytes at `pos` spell `word` (upper case), a-z upper-cased, with no NUL: libinjection compares
 * strlen(word) bytes, and a NUL it skips leaves a letter of `word` unmatched. Past the end reads as NUL.
 */
function spellsAt(word: string, s: string, pos: number): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = byteAt(s, pos + i)
    if (c === 0 || upper(c) !== word.charCodeAt(i)) return false
  }
  return true
}

/** Names grouped by first byte (an array indexed by byte), so a token meets only the names it could equal. */
function byFirstChar<T>(
  entries: ReadonlyArray<readonly [string, T]>,
): ReadonlyArray<ReadonlyArray<readonly [string, T]>> {
  const table: Array<Array<readonly [string, T]>> = Array.from({ length: 256 }, () => [])
  for (const entry of entries) table[entry[0].charCodeAt(0)]!.push(entry)
  return table
}
const ATTRS_BY_FIRST = byFirstChar(BLACK_ATTRS.map(([name, type]) => [name, ATTR_TYPE[type]] as const))
const TAGS_BY_FIRST = byFirstChar(BLACK_TAGS.map((tag) => [tag, true] as const))
const EVENTS_BY_FIRST = byFirstChar(BLACK_EVENTS.map((event) => [event, true] as const))

/** First non-NUL byte of the span, upper-cased (a-z); 0 when the span is all NUL. */
function firstUpper(s: string, start: number, len: number): number {
  for (let i = start; i < start + len; i++) {
    const c = s.charCodeAt(i)
    if (c !== 0) return upper(c)
  }
  return 0
}

function isAsciiChar(c: number, lower: number): boolean {
  return c === lower || c === lower - 0x20
}

function isBlackTag(s: string, start: number, len: number): boolean {
  if (len < 3) return false
  for (const [tag] of TAGS_BY_FIRST[firstUpper(s, start, len)]!)
    if (equalsIgnoringNul(tag, s, start, len)) return true
  const c0 = s.charCodeAt(start)
  const c1 = s.charCodeAt(start + 1)
  const c2 = s.charCodeAt(start + 2)
  if (isAsciiChar(c0, 0x73) && isAsciiChar(c1, 0x76) && isAsciiChar(c2, 0x67)) return true // svg*
  if (isAsciiChar(c0, 0x78) && isAsciiChar(c1, 0x73) && isAsciiChar(c2, 0x6c)) return true // xsl*
  return false
}

/** `on` followed by a known event name (BLACKATTREVENT), at `start`. */
function isEventHandler(s: string, start: number): boolean {
  for (const [event] of EVENTS_BY_FIRST[upper(byteAt(s, start + 2))]!)
    if (spellsAt(event, s, start + 2)) return true
  return false
}

function blackAttrType(s: string, start: number, len: number, onRule: number): number {
  if (len < 2) return ATTR_NONE
  if (len >= 5) {
    const on = isAsciiChar(s.charCodeAt(start), 0x6f) && isAsciiChar(s.charCodeAt(start + 1), 0x6e)
    // on*: JavaScript event handlers.
    if (on && (onRule === ON_ANY || isEventHandler(s, start))) return ATTR_BLACK
    // xmlns* and xlink* can declare namespaces that turn arbitrary tags into script.
    const x = firstUpper(s, start, 5) === 0x58
    if (x && (equalsIgnoringNul('XMLNS', s, start, 5) || equalsIgnoringNul('XLINK', s, start, 5)))
      return ATTR_BLACK
  }
  for (const [name, type] of ATTRS_BY_FIRST[firstUpper(s, start, len)]!) {
    if (equalsIgnoringNul(name, s, start, len)) return type
  }
  return ATTR_NONE
}

const HEX = new Int16Array(256).fill(-1)
for (let i = 0; i < 10; i++) HEX[0x30 + i] = i
for (let i = 0; i < 6; i++) {
  HEX[0x41 + i] = 10 + i
  HEX[0x61 + i] = 10 + i
}

/** Result slot of decodeAt(): bytes consumed. Module-level to keep the hot loop allocation-free. */
let consumed = 0

/**
 * The character at `pos` of an `n`-byte span with numeric HTML entities (&#65; &#x41;) decoded; named
 * entities are not decoded. Sets `consumed`. (libinjection's html_decode_char_at)
 */
function decodeAt(s: string, pos: number, n: number): number {
  consumed = 1
  const c = byteAt(s, pos)
  if (c !== 0x26 /* & */ || n < 2) return c
  if (byteAt(s, pos + 1) !== 0x23 /* # */) return 0x26
  let val: number
  let i: number
  const c2 = byteAt(s, pos + 2)
  if (c2 === 0x78 || c2 === 0x58) {
    const d = HEX[byteAt(s, pos + 3)]!
    if (d < 0) return 0x26
    val = d
    for (i = 4; i < n; i++) {
      const ch = byteAt(s, pos + i)
      if (ch === 0x3b /* ; */) {
        consumed = i + 1
        return val
      }
      const h = HEX[ch]!
      if (h < 0) {
        consumed = i
        return val
      }
      val = val * 16 + h
      if (val > 0x1000ff) return 0x26
    }
  } else {
    if (c2 < 0x30 || c2 > 0x39) return 0x26
    val = c2 - 0x30
    for (i = 3; i < n; i++) {
      const ch = byteAt(s, pos + i)
      if (ch === 0x3b) {
        consumed = i + 1
        return val
      }
      if (ch < 0x30 || ch > 0x39) {
        consumed = i
        return val
      }
      val = val * 10 + (ch - 0x30)
      if (val > 0x1000ff) return 0x26
    }
  }
  consumed = i
  return val
}

/**
 * Does the HTML-encoded span start with `prefix` (upper case), ignoring leading white space and control
 * characters, NULs and newlines anywhere, and case? (libinjection's htmlencode_startswith)
 */
function htmlStartsWith(prefix: string, s: string, pos: number, n: number): boolean {
  let matched = 0
  let first = true
  while (n > 0) {
    if (matched === prefix.length) return true
    let c = decodeAt(s, pos, n)
    pos += consumed
    n -= consumed
    if (first && c <= 32) continue
    first = false
    if (c === 0 || c === 10) continue
    if (c >= 0x61 && c <= 0x7a) c -= 0x20
    // The C code compares the decoded value as a (signed) char: only its low byte counts.
    if (prefix.charCodeAt(matched) !== (c & 0xff)) return false
    matched++
  }
  return matched === prefix.length
}

function isBlackUrl(s: string, start: number, len: number): boolean {
  // Skip white space, control characters and every non-ASCII byte (browsers ignore some of them).
  while (len > 0) {
    const c = s.charCodeAt(start)
    if (c > 0x20 && c < 0x7f) break
    start++
    len--
  }
  for (const prefix of BLACK_URL_PREFIXES) if (htmlStartsWith(prefix, s, start, len)) return true
  return false
}

function isBlackComment(s: string, start: number, len: number): boolean {
  // IE treats '`' as a tag end.
  for (let i = start; i < start + len; i++) if (s.charCodeAt(i) === 0x60) return true
  if (len > 3) {
    const c0 = s.charCodeAt(start)
    const c1 = s.charCodeAt(start + 1)
    const c2 = s.charCodeAt(start + 2)
    // IE conditional comments <!--[if ...]> and <?xml ...>.
    if (c0 === 0x5b && isAsciiChar(c1, 0x69) && isAsciiChar(c2, 0x66)) return true
    if (isAsciiChar(c0, 0x78) && isAsciiChar(c1, 0x6d) && isAsciiChar(c2, 0x6c)) return true
  }
  if (len > 5) {
    // IE's <?import> pseudo-tag and XML entity definitions.
    if (equalsIgnoringNul('IMPORT', s, start, 6) || equalsIgnoringNul('ENTITY', s, start, 6)) return true
  }
  return false
}

const h5 = new Html5Tokenizer()

/** Work done by the last isXssInContext() calls (tokenizer steps), for the bounded-work tests. */
export function html5Work(): number {
  return h5.work
}

/** libinjection_is_xss: XSS in byte string `s` when reflected into HTML `context` (CTX_* in html5.ts)? */
export function isXssInContext(s: string, context: number, onRule = ON_EVENTS): boolean {
  h5.init(s, context)
  let attr = ATTR_NONE
  while (h5.next()) {
    const type = h5.tokenType
    const start = h5.tokenStart
    const len = h5.tokenLen
    if (type !== ATTR_VALUE) attr = ATTR_NONE
    if (type === DOCTYPE) return true
    if (type === TAG_NAME_OPEN) {
      if (isBlackTag(s, start, len)) return true
    } else if (type === ATTR_NAME) {
      attr = blackAttrType(s, start, len, onRule)
    } else if (type === ATTR_VALUE) {
      if (attr === ATTR_BLACK || attr === ATTR_STYLE) return true
      if (attr === ATTR_URL && isBlackUrl(s, start, len)) return true
      if (attr === ATTR_INDIRECT && blackAttrType(s, start, len, onRule) !== ATTR_NONE) return true
      attr = ATTR_NONE
    } else if (type === TAG_COMMENT) {
      if (isBlackComment(s, start, len)) return true
    }
  }
  return false
}

/** libinjection_xss: XSS in byte string `s` in any of the five contexts? */
export function isXss(s: string, onRule = ON_EVENTS): boolean {
  for (let ctx = CTX_DATA; ctx <= CTX_VALUE_BACK_QUOTE; ctx++) if (isXssInContext(s, ctx, onRule)) return true
  return false
}
