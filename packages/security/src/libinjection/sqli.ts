import { CHAR_CLASSES, FINGERPRINTS, KEYWORDS_BY_TYPE } from './sqli-data.js'

/**
 * libinjection's SQLi engine: a tokenizer for the union of SQL dialects, a folding pass that reduces the token
 * stream to at most five tokens, and a fingerprint made of their type letters, looked up in libinjection's
 * fingerprint set and then checked against a few hand-written "not SQLi after all" rules.
 *
 * Input is a byte string: one char per byte (0x00-0xff), as `toByteString()` in bytes.ts produces. Every
 * behaviour, including the C implementation's quirks (signed `char` comparisons, NUL handling in its span
 * functions, 31-byte token values), follows libinjection as bundled in ModSecurity 3.0.14 (whose SQLi code
 * and tables are those of 3.0.9's libinjection 3.9.2); `reference.test.ts` holds the two to identical output.
 */

/** Parsing flags (libinjection's `FLAG_*`): a quote context and a comment dialect. */
export const FLAG_QUOTE_NONE = 1
export const FLAG_QUOTE_SINGLE = 2
export const FLAG_QUOTE_DOUBLE = 4
export const FLAG_SQL_ANSI = 8
export const FLAG_SQL_MYSQL = 16

const MAX_TOKENS = 5
/** Token values keep at most 31 bytes, like the C `char val[32]`. */
const VAL_MAX = 31

const T_KEYWORD = 0x6b // k
const T_UNION = 0x55 // U
const T_GROUP = 0x42 // B
const T_EXPRESSION = 0x45 // E
const T_SQLTYPE = 0x74 // t
const T_FUNCTION = 0x66 // f
const T_BAREWORD = 0x6e // n
const T_NUMBER = 0x31 // 1
const T_VARIABLE = 0x76 // v
const T_STRING = 0x73 // s
const T_OPERATOR = 0x6f // o
const T_LOGIC_OPERATOR = 0x26 // &
const T_COMMENT = 0x63 // c
const T_COLLATE = 0x41 // A
const T_LEFTPARENS = 0x28 // (
const T_RIGHTPARENS = 0x29 // )
const T_LEFTBRACE = 0x7b // {
const T_RIGHTBRACE = 0x7d // }
const T_DOT = 0x2e // .
const T_COMMA = 0x2c // ,
const T_COLON = 0x3a // :
const T_SEMICOLON = 0x3b // ;
const T_TSQL = 0x54 // T
const T_UNKNOWN = 0x3f // ?
const T_EVIL = 0x58 // X
const T_FINGERPRINT = 0x46 // F
const T_BACKSLASH = 0x5c // \

const C_NUL = 0
const C_SINGLE = 0x27 // '
const C_DOUBLE = 0x22 // "
const C_TICK = 0x60 // `

/**
 * libinjection's word table: upper-case keyword (and '0' + fingerprint) -> token type code. A Map lookup is
 * equivalent to the C binary search (the generator checks the table is sorted and unique). Each entry is
 * also stored lower-cased, so that words in one case are found without building an upper-cased copy.
 */
const KEYWORDS = new Map<string, number>()
for (const [type, words] of Object.entries(KEYWORDS_BY_TYPE)) {
  for (const word of words) KEYWORDS.set(word, type.charCodeAt(0))
}
for (const fp of FINGERPRINTS) KEYWORDS.set(`0${fp}`, T_FINGERPRINT)
const MAX_KEYWORD_LEN = Math.max(...[...KEYWORDS.keys()].map((k) => k.length))
for (const [word, type] of [...KEYWORDS]) KEYWORDS.set(word.toLowerCase(), type)

/** Everything before a space in a multi-word keyword ("UNION" of "UNION ALL"): words that may merge. */
const PHRASE_HEADS = new Set<string>()
for (const word of Object.values(KEYWORDS_BY_TYPE).flat()) {
  for (let i = word.indexOf(' '); i > 0; i = word.indexOf(' ', i + 1)) {
    PHRASE_HEADS.add(word.slice(0, i))
    PHRASE_HEADS.add(word.slice(0, i).toLowerCase())
  }
}

/** Numeric key of a fingerprint of type codes, optionally upper-cased as the set lookup does. */
function fingerprintKey(codes: ArrayLike<number>, len: number, upper: boolean): number {
  let key = 1
  for (let i = 0; i < len; i++) {
    const c = codes[i]!
    key = key * 128 + (upper && c >= 0x61 && c <= 0x7a ? c - 0x20 : c)
  }
  return key
}
const codesOf = (s: string) => Array.from(s, (c) => c.charCodeAt(0))
/** The fingerprint set, as keys of the upper-cased fingerprints (libinjection_sqli_blacklist). */
const FINGERPRINT_KEYS = new Set(FINGERPRINTS.map((fp) => fingerprintKey(codesOf(fp), fp.length, false)))
const exactKey = (fp: string) => fingerprintKey(codesOf(fp), fp.length, false)
const FP_SOS = exactKey('sos')
const FP_S_AND_S = exactKey('s&s')
const FP_NUMERIC_LOGIC = new Set(['s&n', 'n&1', '1&1', '1&v', '1&s'].map(exactKey))

/** Byte-set membership tables for the C span functions. */
function byteSet(chars: string, withNul: boolean): Uint8Array {
  const set = new Uint8Array(256)
  for (let i = 0; i < chars.length; i++) set[chars.charCodeAt(i)] = 1
  // C strchr() finds the terminating NUL, so NUL is always "in" an accept or reject set.
  if (withNul) set[0] = 1
  return set
}
const WHITE = byteSet(' \t\n\v\f\r\xa0', true)
const WORD_DELIMS = byteSet(' []{}<>:\\?=@!#~+-*/&|^%(),\';\t\n\v\f\r"\xa0', true)
const VAR_DELIMS = byteSet(" <>:\\?=@!#~+-*/&|^%(),';\t\n\v\f\r'`\"", true)
const BIN_DIGITS = byteSet('01', true)
const HEX_DIGITS = byteSet('0123456789ABCDEFabcdef', true)
const MONEY_CHARS = byteSet('0123456789.,', true)
const LETTERS = byteSet('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ', true)

/** Length of the run of bytes from `start` (before `end`) that are in `set` (C strlenspn). */
function spanIn(s: string, start: number, end: number, set: Uint8Array): number {
  let i = start
  while (i < end && set[s.charCodeAt(i)] === 1) i++
  return i - start
}

/** Length of the run of bytes from `start` (before `end`) that are not in `set` (C strlencspn). */
function spanNotIn(s: string, start: number, end: number, set: Uint8Array): number {
  let i = start
  while (i < end && set[s.charCodeAt(i)] !== 1) i++
  return i - start
}

/** First index i in [from, end - 1) with s[i] = c0 and s[i + 1] = c1, or -1 (C memchr2). */
function findPair(s: string, from: number, end: number, c0: number, c1: number): number {
  for (let i = from; i + 1 < end; i++) {
    if (s.charCodeAt(i) === c0 && s.charCodeAt(i + 1) === c1) return i
  }
  return -1
}

/** Byte at `i`, or 0 past the end (ModSecurity hands libinjection a NUL-terminated buffer). */
function byteAt(s: string, i: number): number {
  return i < s.length ? s.charCodeAt(i) : 0
}

/** C `(signed char)` view of a byte: 0x80-0xff are negative. */
function signed(b: number): number {
  return b > 0x7f ? b - 0x100 : b
}

/**
 * Case of a word: 0 = no ASCII letters or one case only (so `word` itself is a key of the case-doubled
 * tables), 1 = mixed case (look up its upper-cased copy), -1 = has a byte >= 0x80 (in no table).
 */
function caseClass(word: string): number {
  let lower = false
  let upper = false
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i)
    if (c > 0x7f) return -1
    if (c >= 0x61 && c <= 0x7a) lower = true
    else if (c >= 0x41 && c <= 0x5a) upper = true
  }
  return lower && upper ? 1 : 0
}

/** Keyword table lookup with libinjection's case folding (ASCII a-z only). 0 when absent. */
export function lookupWord(word: string): number {
  const len = word.length
  if (len === 0 || len > MAX_KEYWORD_LEN) return 0
  const cls = caseClass(word)
  if (cls < 0) return 0
  return KEYWORDS.get(cls === 0 ? word : word.toUpperCase()) ?? 0
}

/** Two-byte operator lookups of parseOperator2, precomputed for its eight first bytes. */
const OPERATOR2 = new Uint8Array(65536)
for (const first of '!&*:<=>|') {
  for (let c = 0; c < 256; c++) {
    OPERATOR2[(first.charCodeAt(0) << 8) | c] = lookupWord(first + String.fromCharCode(c))
  }
}

/** One token; mirrors the fields of libinjection's `stoken_t` that decisions read. */
export class SqliToken {
  /** Token type as a character code ('s', 'n', '1', 'k', ...); 0 for none. */
  type = 0
  /** Opening and closing delimiters of a string-like token (0 when absent). */
  strOpen = 0
  strClose = 0
  /** Start of the value in the input, and its length as stored (at most 31). */
  pos = 0
  len = 0
  /** Number of leading '@' of a variable. */
  count = 0
  /** The stored value: at most 31 bytes. */
  val = ''

  clear(): void {
    this.type = 0
    this.strOpen = 0
    this.strClose = 0
    this.pos = 0
    this.len = 0
    this.count = 0
    this.val = ''
  }

  /** Stores `val` (already cut by the caller when it comes from elsewhere than the input). */
  set(type: number, pos: number, val: string): void {
    this.type = type
    this.pos = pos
    this.len = val.length
    this.val = val
  }

  /** Stores input bytes [pos, pos + len), cut to 31 bytes. */
  take(s: string, type: number, pos: number, len: number): void {
    this.set(type, pos, s.substr(pos, Math.min(len, VAL_MAX)))
  }

  copyFrom(o: SqliToken): void {
    this.type = o.type
    this.strOpen = o.strOpen
    this.strClose = o.strClose
    this.pos = o.pos
    this.len = o.len
    this.count = o.count
    this.val = o.val
  }

  /** Byte `i` of the stored value, 0 past its end (the C string terminator). */
  valAt(i: number): number {
    return i < this.val.length ? this.val.charCodeAt(i) : 0
  }

  /** The stored value up to its first NUL, as C string functions see it. */
  cString(): string {
    const nul = this.val.indexOf('\0')
    return nul < 0 ? this.val : this.val.slice(0, nul)
  }
}

type Parser = (st: SqliState) => number

/** Tokenizer, folder and fingerprint state for one input (libinjection's `libinjection_sqli_state`). */
export class SqliState {
  s = ''
  slen = 0
  flags = FLAG_QUOTE_NONE | FLAG_SQL_ANSI
  pos = 0
  /** Token slots: five for the fingerprint, plus room for the look-ahead the folding rules use. */
  readonly tokens: SqliToken[] = Array.from({ length: 8 }, () => new SqliToken())
  current: SqliToken = this.tokens[0]!
  readonly lastComment = new SqliToken()
  /** The fingerprint's type codes and length, and its numeric keys (exact and upper-cased). */
  readonly fpCodes = new Uint8Array(8)
  fpLen = 0
  fpExact = 1
  fpUpper = 1
  statsTokens = 0
  statsCommentDdx = 0
  statsCommentHash = 0
  /** Work counters (tokenizer steps, folding iterations) for the bounded-work tests. */
  work = 0
  /** Whether the tokenizer may have more tokens (fold's look-ahead). */
  private more = true

  /** The fingerprint of the last pass, e.g. `s&1c`. */
  get fingerprint(): string {
    let fp = ''
    for (let i = 0; i < this.fpLen; i++) fp += String.fromCharCode(this.fpCodes[i]!)
    return fp
  }

  init(s: string, flags: number): void {
    this.s = s
    this.slen = s.length
    this.reset(flags)
  }

  reset(flags: number): void {
    this.flags = flags === 0 ? FLAG_QUOTE_NONE | FLAG_SQL_ANSI : flags
    this.pos = 0
    // Token slots need no clearing: every pass reads only the slots it filled (each is cleared when tokenized).
    this.current = this.tokens[0]!
    this.fpLen = 0
    this.fpExact = 1
    this.fpUpper = 1
    this.statsTokens = 0
    this.statsCommentDdx = 0
    this.statsCommentHash = 0
  }

  /** Reads the next token into `current`; false at end of input. */
  tokenize(): boolean {
    const slen = this.slen
    if (slen === 0) return false
    const cur = this.current
    cur.clear()
    if (this.pos === 0 && (this.flags & (FLAG_QUOTE_SINGLE | FLAG_QUOTE_DOUBLE)) !== 0) {
      // Quote context: pretend the input is preceded by the opening quote.
      const delim = this.flags & FLAG_QUOTE_SINGLE ? C_SINGLE : C_DOUBLE
      this.pos = parseStringCore(this, 0, delim, 0)
      this.statsTokens++
      return true
    }
    while (this.pos < slen) {
      this.work++
      this.pos = PARSERS[this.s.charCodeAt(this.pos)]!(this)
      if (cur.type !== 0) {
        this.statsTokens++
        return true
      }
    }
    return false
  }

  /** Tokenizes into tokens[pos], skipping comments (remembered in lastComment); returns the new count. */
  private pull(pos: number, left: number, want: number): number {
    while (this.more && pos <= MAX_TOKENS && pos - left < want) {
      this.current = this.tokens[pos]!
      this.more = this.tokenize()
      if (this.more) {
        if (this.current.type === T_COMMENT) {
          this.lastComment.copyFrom(this.current)
        } else {
          this.lastComment.type = 0
          pos++
        }
      }
    }
    return pos
  }

  /**
   * Folds the token stream into at most five tokens (libinjection_sqli_fold): drops leading comments,
   * parentheses and unary operators, merges multi-word keywords, collapses arithmetic and lists, and keeps a
   * trailing comment. Returns the number of tokens in `tokens`.
   */
  fold(): number {
    const tv = this.tokens
    let pos = 0
    let left = 0
    this.more = true
    this.lastComment.clear()

    this.current = tv[0]!
    while (this.more) {
      this.more = this.tokenize()
      const t = this.current
      if (!(t.type === T_COMMENT || t.type === T_LEFTPARENS || t.type === T_SQLTYPE || isUnaryOp(t))) break
    }
    if (!this.more) return 0
    pos = 1

    while (true) {
      this.work++
      if (pos >= MAX_TOKENS) {
        const t0 = tv[0]!.type
        const t1 = tv[1]!.type
        const t2 = tv[2]!.type
        const t3 = tv[3]!.type
        const t4 = tv[4]!.type
        if (
          (t0 === T_NUMBER &&
            (t1 === T_OPERATOR || t1 === T_COMMA) &&
            t2 === T_LEFTPARENS &&
            t3 === T_NUMBER &&
            t4 === T_RIGHTPARENS) ||
          (t0 === T_BAREWORD &&
            t1 === T_OPERATOR &&
            t2 === T_LEFTPARENS &&
            (t3 === T_BAREWORD || t3 === T_NUMBER) &&
            t4 === T_RIGHTPARENS) ||
          (t0 === T_NUMBER &&
            t1 === T_RIGHTPARENS &&
            t2 === T_COMMA &&
            t3 === T_LEFTPARENS &&
            t4 === T_NUMBER) ||
          (t0 === T_BAREWORD &&
            t1 === T_RIGHTPARENS &&
            t2 === T_OPERATOR &&
            t3 === T_LEFTPARENS &&
            t4 === T_BAREWORD)
        ) {
          if (pos > MAX_TOKENS) {
            tv[1]!.copyFrom(tv[MAX_TOKENS]!)
            pos = 2
          } else {
            pos = 1
          }
          left = 0
        }
      }

      if (!this.more || left >= MAX_TOKENS) {
        left = pos
        break
      }

      pos = this.pull(pos, left, 2)
      if (pos - left < 2) {
        left = pos
        continue
      }

      const a = tv[left]!
      const b = tv[left + 1]!
      if (a.type === T_STRING && b.type === T_STRING) {
        pos--
        continue
      }
      if (a.type === T_SEMICOLON && b.type === T_SEMICOLON) {
        pos--
        continue
      }
      if ((a.type === T_OPERATOR || a.type === T_LOGIC_OPERATOR) && (isUnaryOp(b) || b.type === T_SQLTYPE)) {
        pos--
        left = 0
        continue
      }
      if (a.type === T_LEFTPARENS && isUnaryOp(b)) {
        pos--
        if (left > 0) left--
        continue
      }
      if (mergeWords(a, b)) {
        pos--
        if (left > 0) left--
        continue
      }
      if (a.type === T_SEMICOLON && b.type === T_FUNCTION && isIf(b)) {
        // IF after ';' is Transact-SQL control flow, not the IF() function.
        b.type = T_TSQL
        continue
      }
      if (
        (a.type === T_BAREWORD || a.type === T_VARIABLE) &&
        b.type === T_LEFTPARENS &&
        a.len >= 4 &&
        a.len <= 17 &&
        BAREWORD_FUNCTIONS.has(upperAscii(a.val))
      ) {
        a.type = T_FUNCTION
        continue
      }
      if (a.type === T_KEYWORD && (a.len === 2 || a.len === 6) && isInKeyword(a.val)) {
        a.type = b.type === T_LEFTPARENS ? T_OPERATOR : T_BAREWORD
        continue
      }
      if (a.type === T_OPERATOR && (a.len === 4 || a.len === 8) && isLikeOperator(a.val)) {
        if (b.type === T_LEFTPARENS) a.type = T_FUNCTION
      } else if (
        a.type === T_SQLTYPE &&
        (b.type === T_BAREWORD ||
          b.type === T_NUMBER ||
          b.type === T_SQLTYPE ||
          b.type === T_LEFTPARENS ||
          b.type === T_FUNCTION ||
          b.type === T_VARIABLE ||
          b.type === T_STRING)
      ) {
        a.copyFrom(b)
        pos--
        left = 0
        continue
      } else if (a.type === T_COLLATE && b.type === T_BAREWORD) {
        if (b.cString().includes('_')) {
          b.type = T_SQLTYPE
          left = 0
        }
      } else if (a.type === T_BACKSLASH) {
        if (isArithmeticOp(b)) {
          a.type = T_NUMBER
        } else {
          a.copyFrom(b)
          pos--
        }
        left = 0
        continue
      } else if (a.type === T_LEFTPARENS && b.type === T_LEFTPARENS) {
        pos--
        left = 0
        continue
      } else if (a.type === T_RIGHTPARENS && b.type === T_RIGHTPARENS) {
        pos--
        left = 0
        continue
      } else if (a.type === T_LEFTBRACE && b.type === T_BAREWORD) {
        // MySQL's `{ ``.``.id }` cannot be folded with three tokens of look-ahead: treated as evil.
        if (b.len === 0) {
          b.type = T_EVIL
          return left + 2
        }
        left = 0
        pos -= 2
        continue
      } else if (b.type === T_RIGHTBRACE) {
        pos--
        left = 0
        continue
      }

      pos = this.pull(pos, left, 3)
      if (pos - left < 3) {
        left = pos
        continue
      }

      const x = tv[left]!
      const y = tv[left + 1]!
      const z = tv[left + 2]!
      if (x.type === T_NUMBER && y.type === T_OPERATOR && z.type === T_NUMBER) {
        pos -= 2
        left = 0
        continue
      }
      if (x.type === T_OPERATOR && y.type !== T_LEFTPARENS && z.type === T_OPERATOR) {
        left = 0
        pos -= 2
        continue
      }
      if (x.type === T_LOGIC_OPERATOR && z.type === T_LOGIC_OPERATOR) {
        pos -= 2
        left = 0
        continue
      }
      if (
        x.type === T_VARIABLE &&
        y.type === T_OPERATOR &&
        (z.type === T_VARIABLE || z.type === T_NUMBER || z.type === T_BAREWORD)
      ) {
        pos -= 2
        left = 0
        continue
      }
      if (
        (x.type === T_BAREWORD || x.type === T_NUMBER) &&
        y.type === T_OPERATOR &&
        (z.type === T_NUMBER || z.type === T_BAREWORD)
      ) {
        pos -= 2
        left = 0
        continue
      }
      if (
        (x.type === T_BAREWORD || x.type === T_NUMBER || x.type === T_VARIABLE || x.type === T_STRING) &&
        y.type === T_OPERATOR &&
        y.cString() === '::' &&
        z.type === T_SQLTYPE
      ) {
        pos -= 2
        left = 0
        continue
      }
      if (
        (x.type === T_BAREWORD || x.type === T_NUMBER || x.type === T_STRING || x.type === T_VARIABLE) &&
        y.type === T_COMMA &&
        (z.type === T_NUMBER || z.type === T_BAREWORD || z.type === T_STRING || z.type === T_VARIABLE)
      ) {
        pos -= 2
        left = 0
        continue
      }
      if (
        (x.type === T_EXPRESSION || x.type === T_GROUP || x.type === T_COMMA) &&
        isUnaryOp(y) &&
        z.type === T_LEFTPARENS
      ) {
        y.copyFrom(z)
        pos--
        left = 0
        continue
      }
      if (
        (x.type === T_KEYWORD || x.type === T_EXPRESSION || x.type === T_GROUP) &&
        isUnaryOp(y) &&
        (z.type === T_NUMBER ||
          z.type === T_BAREWORD ||
          z.type === T_VARIABLE ||
          z.type === T_STRING ||
          z.type === T_FUNCTION)
      ) {
        y.copyFrom(z)
        pos--
        left = 0
        continue
      }
      if (
        x.type === T_COMMA &&
        isUnaryOp(y) &&
        (z.type === T_NUMBER || z.type === T_BAREWORD || z.type === T_VARIABLE || z.type === T_STRING)
      ) {
        y.copyFrom(z)
        left = 0
        pos -= 3
        continue
      }
      if (x.type === T_COMMA && isUnaryOp(y) && z.type === T_FUNCTION) {
        y.copyFrom(z)
        pos--
        left = 0
        continue
      }
      if (x.type === T_BAREWORD && y.type === T_DOT && z.type === T_BAREWORD) {
        pos -= 2
        left = 0
        continue
      }
      if (x.type === T_EXPRESSION && y.type === T_DOT && z.type === T_BAREWORD) {
        y.copyFrom(z)
        pos--
        left = 0
        continue
      }
      if (x.type === T_FUNCTION && y.type === T_LEFTPARENS && z.type !== T_RIGHTPARENS) {
        // USER(x) is a column or table named user, not the zero-argument function.
        if (x.len === 4 && upperAscii(x.val) === 'USER') x.type = T_BAREWORD
      }

      left++
    }

    if (left < MAX_TOKENS && this.lastComment.type === T_COMMENT) {
      tv[left]!.copyFrom(this.lastComment)
      left++
    }
    return Math.min(left, MAX_TOKENS)
  }

  /** Folds the input under `flags` and sets `fingerprint` (libinjection_sqli_fingerprint). */
  fingerprintWith(flags: number): void {
    this.reset(flags)
    const tlen = this.fold()
    const tv = this.tokens
    if (tlen > 2) {
      // An unterminated, empty backtick at the end is PHP's backtick comment trick.
      const last = tv[tlen - 1]!
      if (last.type === T_BAREWORD && last.strOpen === C_TICK && last.len === 0 && last.strClose === C_NUL) {
        last.type = T_COMMENT
      }
    }
    const codes = this.fpCodes
    let evil = false
    for (let i = 0; i < tlen; i++) {
      codes[i] = tv[i]!.type
      if (codes[i] === T_EVIL) evil = true
    }
    this.fpLen = tlen
    if (evil) {
      // Unparsable (nested or MySQL-executable comments, `{ ``...`): the whole fingerprint becomes 'X'.
      codes[0] = T_EVIL
      this.fpLen = 1
      tv[0]!.type = T_EVIL
      tv[0]!.val = 'X'
      tv[1]!.type = 0
    }
    this.fpExact = fingerprintKey(codes, this.fpLen, false)
    this.fpUpper = fingerprintKey(codes, this.fpLen, true)
  }

  /** The fingerprint is in libinjection's set (libinjection_sqli_blacklist). */
  inFingerprintSet(): boolean {
    return this.fpLen > 0 && FINGERPRINT_KEYS.has(this.fpUpper)
  }

  /** The hand-written false-positive filters (libinjection_sqli_not_whitelist): true = still SQLi. */
  notWhitelisted(): boolean {
    const tlen = this.fpLen
    const codes = this.fpCodes
    const tv = this.tokens
    const t0 = tv[0]!
    const t1 = tv[1]!
    const t2 = tv[2]!

    // MS SQL audit logs skip statements mentioning sp_password: a trailing comment with it is an attack.
    if (tlen > 1 && codes[tlen - 1] === T_COMMENT && this.s.includes('sp_password')) return true

    if (tlen === 2) {
      if (codes[1] === T_UNION) return this.statsTokens !== 2
      if (t1.valAt(0) === 0x23 /* # */) return false
      if (t0.type === T_BAREWORD && t1.type === T_COMMENT && t1.valAt(0) !== 0x2f /* / */) return false
      if (t0.type === T_NUMBER && t1.type === T_COMMENT && t1.valAt(0) === 0x2f) return true
      if (t0.type === T_NUMBER && t1.type === T_COMMENT) {
        if (this.statsTokens > 2) return true
        // libinjection reads the byte at index len(token 0), as if the number started the input.
        const ch = byteAt(this.s, t0.len)
        if (signed(ch) <= 32) return true
        if (ch === 0x2f && byteAt(this.s, t0.len + 1) === 0x2a) return true
        if (ch === 0x2d && byteAt(this.s, t0.len + 1) === 0x2d) return true
        return false
      }
      if (t1.len > 2 && t1.valAt(0) === 0x2d /* - */) return false
      return true
    }

    if (tlen === 3) {
      const fp = this.fpExact
      if (fp === FP_SOS || fp === FP_S_AND_S) {
        // ...foo' + 'bar... : the input closes one string and opens another.
        return t0.strOpen === C_NUL && t2.strClose === C_NUL && t0.strClose === t2.strOpen
      }
      if (FP_NUMERIC_LOGIC.has(fp)) {
        if (this.statsTokens === 3) return false
      } else if (t1.type === T_KEYWORD) {
        // Only INTO OUTFILE / INTO DUMPFILE make "x keyword y" an attack.
        if (t1.len < 5 || upperAscii(t1.val.slice(0, 4)) !== 'INTO') return false
      }
    }
    return true
  }

  /** Fingerprint set membership plus the not-whitelisted checks (libinjection_sqli_check_fingerprint). */
  checkFingerprint(): boolean {
    return this.inFingerprintSet() && this.notWhitelisted()
  }

  /**
   * libinjection_is_sqli: the input as-is (ANSI comments, then MySQL ones if it had `#` or `--x`), then as if
   * preceded by a single quote (same two dialects), then by a double quote (MySQL).
   */
  isSqli(): boolean {
    if (this.slen === 0) return false
    this.fingerprintWith(FLAG_QUOTE_NONE | FLAG_SQL_ANSI)
    if (this.checkFingerprint()) return true
    if (this.reparseAsMysql()) {
      this.fingerprintWith(FLAG_QUOTE_NONE | FLAG_SQL_MYSQL)
      if (this.checkFingerprint()) return true
    }
    if (this.s.includes("'")) {
      this.fingerprintWith(FLAG_QUOTE_SINGLE | FLAG_SQL_ANSI)
      if (this.checkFingerprint()) return true
      if (this.reparseAsMysql()) {
        this.fingerprintWith(FLAG_QUOTE_SINGLE | FLAG_SQL_MYSQL)
        if (this.checkFingerprint()) return true
      }
    }
    if (this.s.includes('"')) {
      this.fingerprintWith(FLAG_QUOTE_DOUBLE | FLAG_SQL_MYSQL)
      if (this.checkFingerprint()) return true
    }
    return false
  }

  private reparseAsMysql(): boolean {
    return this.statsCommentDdx !== 0 || this.statsCommentHash !== 0
  }
}

/** ASCII-only upper-casing, as libinjection's comparisons do (bytes >= 0x80 are left alone). */
function upperAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      let out = ''
      for (let j = 0; j < s.length; j++) {
        const c = s.charCodeAt(j)
        out += c >= 0x61 && c <= 0x7a ? String.fromCharCode(c - 0x20) : s[j]
      }
      return out
    }
  }
  return s.toUpperCase()
}

/** Words that are functions when followed by '(' but common column names otherwise. */
const BAREWORD_FUNCTIONS = new Set([
  'USER_ID',
  'USER_NAME',
  'DATABASE',
  'PASSWORD',
  'USER',
  'CURRENT_USER',
  'CURRENT_DATE',
  'CURRENT_TIME',
  'CURRENT_TIMESTAMP',
  'LOCALTIME',
  'LOCALTIMESTAMP',
])

function isInKeyword(val: string): boolean {
  const v = upperAscii(val)
  return v === 'IN' || v === 'NOT IN'
}

function isLikeOperator(val: string): boolean {
  const v = upperAscii(val)
  return v === 'LIKE' || v === 'NOT LIKE'
}

function isIf(t: SqliToken): boolean {
  return (t.valAt(0) | 0x20) === 0x69 && (t.valAt(1) | 0x20) === 0x66
}

function isArithmeticOp(t: SqliToken): boolean {
  if (t.type !== T_OPERATOR || t.len !== 1) return false
  const c = t.valAt(0)
  return c === 0x2a || c === 0x2f || c === 0x2d || c === 0x2b || c === 0x25
}

function isUnaryOp(t: SqliToken): boolean {
  if (t.type !== T_OPERATOR) return false
  const v = t.val
  switch (t.len) {
    case 1:
      return v === '+' || v === '-' || v === '!' || v === '~'
    case 2:
      return v === '!!'
    case 3:
      return upperAscii(v) === 'NOT'
    default:
      return false
  }
}

/** Token types that can start (1) or continue (1 and 2) a multi-word keyword. */
const MERGEABLE = new Uint8Array(128)
for (const t of [T_KEYWORD, T_BAREWORD, T_OPERATOR, T_UNION, T_FUNCTION, T_EXPRESSION, T_TSQL, T_SQLTYPE]) {
  MERGEABLE[t] = 1
}
MERGEABLE[T_LOGIC_OPERATOR] = 2

/** Merges two words into a known phrase ("UNION" + "ALL" -> "UNION ALL"), in place in `a`. */
function mergeWords(a: SqliToken, b: SqliToken): boolean {
  if (MERGEABLE[a.type] !== 1 || MERGEABLE[b.type] === 0) return false
  const merged = a.len + b.len + 1
  if (merged > VAL_MAX) return false
  const cls = caseClass(a.val)
  if (cls < 0 || !PHRASE_HEADS.has(cls === 0 ? a.val : a.val.toUpperCase())) return false
  const phrase = `${a.val} ${b.val}`
  const type = lookupWord(phrase)
  if (type === 0) return false
  a.set(type, a.pos, phrase)
  return true
}

/* Tokenizer entry points, one per class of first byte (CHAR_CLASSES). Each returns the new position. */

function parseWhite(st: SqliState): number {
  return st.pos + 1
}

function parseOperator1(st: SqliState): number {
  const pos = st.pos
  st.current.set(T_OPERATOR, pos, st.s[pos]!)
  return pos + 1
}

function parseOther(st: SqliState): number {
  const pos = st.pos
  st.current.set(T_UNKNOWN, pos, st.s[pos]!)
  return pos + 1
}

function parseChar(st: SqliState): number {
  const pos = st.pos
  st.current.set(st.s.charCodeAt(pos), pos, st.s[pos]!)
  return pos + 1
}

function parseEolComment(st: SqliState): number {
  const { s, slen, pos } = st
  const nl = s.indexOf('\n', pos)
  if (nl < 0) {
    st.current.take(s, T_COMMENT, pos, slen - pos)
    return slen
  }
  st.current.take(s, T_COMMENT, pos, nl - pos)
  return nl + 1
}

function parseHash(st: SqliState): number {
  st.statsCommentHash++
  if (st.flags & FLAG_SQL_MYSQL) {
    st.statsCommentHash++
    return parseEolComment(st)
  }
  st.current.set(T_OPERATOR, st.pos, '#')
  return st.pos + 1
}

function parseDash(st: SqliState): number {
  const { s, slen, pos } = st
  const dashDash = pos + 1 < slen && s.charCodeAt(pos + 1) === 0x2d
  if (dashDash && pos + 2 < slen && WHITE[s.charCodeAt(pos + 2)] === 1) return parseEolComment(st)
  if (dashDash && pos + 2 === slen) return parseEolComment(st)
  if (dashDash && st.flags & FLAG_SQL_ANSI) {
    // "--x": a comment in ANSI SQL, two minus signs in MySQL.
    st.statsCommentDdx++
    return parseEolComment(st)
  }
  st.current.set(T_OPERATOR, pos, '-')
  return pos + 1
}

function parseSlash(st: SqliState): number {
  const { s, slen, pos } = st
  if (pos + 1 === slen || s.charCodeAt(pos + 1) !== 0x2a /* * */) return parseOperator1(st)
  const end = findPair(s, pos + 2, slen, 0x2a, 0x2f) // */
  const clen = end < 0 ? slen - pos : end + 2 - pos
  let type = T_COMMENT
  // A nested "/*" (PostgreSQL nests comments) or MySQL's executable "/*!" comment cannot be parsed reliably.
  if (end >= 0 && findPair(s, pos + 2, end + 1, 0x2f, 0x2a) >= 0) type = T_EVIL
  else if (pos + 2 < slen && s.charCodeAt(pos + 2) === 0x21 /* ! */) type = T_EVIL
  st.current.take(s, type, pos, clen)
  return pos + clen
}

function parseBackslash(st: SqliState): number {
  const { s, slen, pos } = st
  if (pos + 1 < slen && s.charCodeAt(pos + 1) === 0x4e /* N: MySQL's NULL */) {
    st.current.take(s, T_NUMBER, pos, 2)
    return pos + 2
  }
  st.current.set(T_BACKSLASH, pos, '\\')
  return pos + 1
}

function parseOperator2(st: SqliState): number {
  const { s, slen, pos } = st
  if (pos + 1 >= slen) return parseOperator1(st)
  if (pos + 2 < slen && s.startsWith('<=>', pos)) {
    st.current.take(s, T_OPERATOR, pos, 3)
    return pos + 3
  }
  const type = OPERATOR2[(s.charCodeAt(pos) << 8) | s.charCodeAt(pos + 1)]!
  if (type !== 0) {
    st.current.take(s, type, pos, 2)
    return pos + 2
  }
  if (s.charCodeAt(pos) === 0x3a /* : */) {
    st.current.take(s, T_COLON, pos, 1)
    return pos + 1
  }
  return parseOperator1(st)
}

/** An odd run of backslashes ending at `end` (not before `start`) escapes the next byte. */
function isBackslashEscaped(s: string, end: number, start: number): boolean {
  let p = end
  while (p >= start && s.charCodeAt(p) === 0x5c) p--
  return ((end - p) & 1) === 1
}

/**
 * A string delimited by `delim` starting at pos + offset (offset 0: the opening quote is implied by the
 * context; 1 or 2: skip the quote or prefix). Doubled delimiters and backslash escapes do not end it.
 */
function parseStringCore(st: SqliState, pos: number, delim: number, offset: number): number {
  const { s, slen } = st
  const tok = st.current
  const start = pos + offset
  const quote = String.fromCharCode(delim)
  let q = s.indexOf(quote, start)
  tok.strOpen = offset > 0 ? delim : C_NUL
  while (true) {
    st.work++
    if (q < 0) {
      tok.take(s, T_STRING, start, slen - start)
      tok.strClose = C_NUL
      return slen
    }
    if (isBackslashEscaped(s, q - 1, start)) {
      q = s.indexOf(quote, q + 1)
    } else if (q + 1 < slen && s.charCodeAt(q + 1) === delim) {
      q = s.indexOf(quote, q + 2)
    } else {
      tok.take(s, T_STRING, start, q - start)
      tok.strClose = delim
      return q + 1
    }
  }
}

function parseString(st: SqliState): number {
  return parseStringCore(st, st.pos, st.s.charCodeAt(st.pos), 1)
}

/** E'...' (PostgreSQL escape string) and N'...' (national character set). */
function parseEstring(st: SqliState): number {
  const { s, slen, pos } = st
  if (pos + 2 >= slen || s.charCodeAt(pos + 1) !== C_SINGLE) return parseWord(st)
  return parseStringCore(st, pos, C_SINGLE, 2)
}

/** U&'...' (unicode string). */
function parseUstring(st: SqliState): number {
  const { s, slen, pos } = st
  if (pos + 2 < slen && s.charCodeAt(pos + 1) === 0x26 && s.charCodeAt(pos + 2) === C_SINGLE) {
    st.pos += 2
    const next = parseString(st)
    st.current.strOpen = 0x75 // u
    if (st.current.strClose === C_SINGLE) st.current.strClose = 0x75
    return next
  }
  return parseWord(st)
}

/** Oracle's q'[...]' strings, with q at pos + offset. */
function parseQstringCore(st: SqliState, offset: number): number {
  const { s, slen } = st
  const pos = st.pos + offset
  if (pos >= slen) return parseWord(st)
  const q = s.charCodeAt(pos)
  if ((q !== 0x71 && q !== 0x51) || pos + 2 >= slen || s.charCodeAt(pos + 1) !== C_SINGLE)
    return parseWord(st)
  let ch = s.charCodeAt(pos + 2)
  if (signed(ch) < 33) return parseWord(st)
  if (ch === 0x28) ch = 0x29
  else if (ch === 0x5b) ch = 0x5d
  else if (ch === 0x7b) ch = 0x7d
  else if (ch === 0x3c) ch = 0x3e
  const end = findPair(s, pos + 3, slen, ch, C_SINGLE)
  const tok = st.current
  if (end < 0) {
    tok.take(s, T_STRING, pos + 3, slen - pos - 3)
    tok.strOpen = 0x71
    tok.strClose = C_NUL
    return slen
  }
  tok.take(s, T_STRING, pos + 3, end - pos - 3)
  tok.strOpen = 0x71
  tok.strClose = 0x71
  return end + 2
}

function parseQstring(st: SqliState): number {
  return parseQstringCore(st, 0)
}

function parseNqstring(st: SqliState): number {
  if (st.pos + 2 < st.slen && st.s.charCodeAt(st.pos + 1) === C_SINGLE) return parseEstring(st)
  return parseQstringCore(st, 1)
}

/** b'0101' and x'0fa3' literals (numbers); anything else starting with b or x is a word. */
function parseDigitString(st: SqliState, digits: Uint8Array): number {
  const { s, slen, pos } = st
  if (pos + 2 >= slen || s.charCodeAt(pos + 1) !== C_SINGLE) return parseWord(st)
  const n = spanIn(s, pos + 2, slen, digits)
  if (pos + 2 + n >= slen || s.charCodeAt(pos + 2 + n) !== C_SINGLE) return parseWord(st)
  st.current.take(s, T_NUMBER, pos, n + 3)
  return pos + n + 3
}

function parseBstring(st: SqliState): number {
  return parseDigitString(st, BIN_DIGITS)
}

function parseXstring(st: SqliState): number {
  return parseDigitString(st, HEX_DIGITS)
}

/** SQL Server [bracketed names]. */
function parseBword(st: SqliState): number {
  const { s, slen, pos } = st
  const end = s.indexOf(']', pos)
  if (end < 0) {
    st.current.take(s, T_BAREWORD, pos, slen - pos)
    return slen
  }
  st.current.take(s, T_BAREWORD, pos, end - pos + 1)
  return end + 1
}

function parseWord(st: SqliState): number {
  const { s, slen, pos } = st
  const tok = st.current
  const wlen = spanNotIn(s, pos, slen, WORD_DELIMS)
  tok.take(s, T_BAREWORD, pos, wlen)
  // "SELECT.1" or "SELECT`col`": a keyword before '.' or '`' ends the word.
  const val = tok.val
  for (let i = 0; i < tok.len; i++) {
    const c = val.charCodeAt(i)
    if (c === 0x2e || c === 0x60) {
      const type = lookupWord(val.slice(0, i))
      if (type !== 0 && type !== T_BAREWORD) {
        tok.clear()
        tok.take(s, type, pos, i)
        return pos + i
      }
    }
  }
  if (wlen <= VAL_MAX) tok.type = lookupWord(val) || T_BAREWORD
  return pos + wlen
}

/** MySQL `backtick` names: a function name stays a function, anything else is a bare word. */
function parseTick(st: SqliState): number {
  const next = parseStringCore(st, st.pos, C_TICK, 1)
  st.current.type = lookupWord(st.current.val) === T_FUNCTION ? T_FUNCTION : T_BAREWORD
  return next
}

/** @var, @@var, @@`var`, @'var'. */
function parseVar(st: SqliState): number {
  const { s, slen } = st
  const tok = st.current
  let pos = st.pos + 1
  if (pos < slen && s.charCodeAt(pos) === 0x40) {
    pos++
    tok.count = 2
  } else {
    tok.count = 1
  }
  if (pos < slen) {
    const c = s.charCodeAt(pos)
    if (c === C_TICK) {
      st.pos = pos
      const next = parseTick(st)
      tok.type = T_VARIABLE
      return next
    }
    if (c === C_SINGLE || c === C_DOUBLE) {
      st.pos = pos
      const next = parseString(st)
      tok.type = T_VARIABLE
      return next
    }
  }
  const n = spanNotIn(s, pos, slen, VAR_DELIMS)
  tok.take(s, T_VARIABLE, pos, n)
  return pos + n
}

/** $1,000.00 money, PostgreSQL $$dollar-quoted$$ and $tag$dollar-quoted$tag$ strings. */
function parseMoney(st: SqliState): number {
  const { s, slen, pos } = st
  const tok = st.current
  if (pos + 1 === slen) {
    tok.set(T_BAREWORD, pos, '$')
    return slen
  }
  let n = spanIn(s, pos + 1, slen, MONEY_CHARS)
  if (n === 0) {
    if (s.charCodeAt(pos + 1) === 0x24) {
      const end = findPair(s, pos + 2, slen, 0x24, 0x24)
      tok.take(s, T_STRING, pos + 2, (end < 0 ? slen : end) - (pos + 2))
      tok.strOpen = 0x24
      tok.strClose = end < 0 ? C_NUL : 0x24
      return end < 0 ? slen : end + 2
    }
    n = spanIn(s, pos + 1, slen, LETTERS)
    if (n === 0 || pos + n + 1 === slen || s.charCodeAt(pos + n + 1) !== 0x24) {
      tok.set(T_BAREWORD, pos, '$')
      return pos + 1
    }
    const tag = s.substr(pos, n + 2)
    const bodyStart = pos + n + 2
    const end = s.indexOf(tag, bodyStart)
    tok.take(s, T_STRING, bodyStart, (end < 0 ? slen : end) - bodyStart)
    tok.strOpen = 0x24
    tok.strClose = end < 0 ? C_NUL : 0x24
    return end < 0 ? slen : end + n + 2
  }
  if (n === 1 && s.charCodeAt(pos + 1) === 0x2e) return parseWord(st)
  tok.take(s, T_NUMBER, pos, n + 1)
  return pos + n + 1
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39
}

function parseNumber(st: SqliState): number {
  const { s, slen } = st
  const tok = st.current
  let pos = st.pos
  if (s.charCodeAt(pos) === 0x30 && pos + 1 < slen) {
    const c = s.charCodeAt(pos + 1) | 0x20
    const digits = c === 0x78 ? HEX_DIGITS : c === 0x62 ? BIN_DIGITS : undefined
    if (digits) {
      const n = spanIn(s, pos + 2, slen, digits)
      tok.take(s, n === 0 ? T_BAREWORD : T_NUMBER, pos, n + 2)
      return pos + n + 2
    }
  }
  const start = pos
  while (pos < slen && isDigit(s.charCodeAt(pos))) pos++
  if (pos < slen && s.charCodeAt(pos) === 0x2e) {
    pos++
    while (pos < slen && isDigit(s.charCodeAt(pos))) pos++
    if (pos - start === 1) {
      tok.set(T_DOT, start, '.')
      return pos
    }
  }
  let haveE = false
  let haveExp = false
  if (pos < slen && (s.charCodeAt(pos) | 0x20) === 0x65) {
    haveE = true
    pos++
    if (pos < slen && (s.charCodeAt(pos) === 0x2b || s.charCodeAt(pos) === 0x2d)) pos++
    while (pos < slen && isDigit(s.charCodeAt(pos))) {
      haveExp = true
      pos++
    }
  }
  // Oracle's float/double suffixes: 1.2f, 1d; "1fUNION" reads as "1f UNION", "123FROM" as "123".
  if (pos < slen) {
    const c = s.charCodeAt(pos) | 0x20
    if (c === 0x64 || c === 0x66) {
      if (pos + 1 === slen) {
        pos++
      } else {
        const n = s.charCodeAt(pos + 1)
        if (WHITE[n] === 1 || n === 0x3b || (n | 0x20) === 0x75) pos++
      }
    }
  }
  // "1234.e", "10.10E": a word, not a number.
  tok.take(s, haveE && !haveExp ? T_BAREWORD : T_NUMBER, start, pos - start)
  return pos
}

const PARSER_BY_LETTER: Record<string, Parser> = {
  ' ': parseWhite,
  o: parseOperator1,
  O: parseOperator2,
  s: parseString,
  '#': parseHash,
  $: parseMoney,
  c: parseChar,
  '-': parseDash,
  '1': parseNumber,
  '/': parseSlash,
  '?': parseOther,
  '@': parseVar,
  w: parseWord,
  b: parseBstring,
  e: parseEstring,
  N: parseNqstring,
  q: parseQstring,
  u: parseUstring,
  x: parseXstring,
  '[': parseBword,
  '\\': parseBackslash,
  '`': parseTick,
}

const PARSERS: readonly Parser[] = Array.from(CHAR_CLASSES, (letter) => {
  const parser = PARSER_BY_LETTER[letter]
  if (!parser) throw new Error(`libinjection data: unknown tokenizer class ${JSON.stringify(letter)}`)
  return parser
})
