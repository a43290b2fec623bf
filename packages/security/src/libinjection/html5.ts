/**
 * libinjection's HTML5 tokenizer: a simplified HTML5 state machine (tags, attributes, comments, doctype,
 * CDATA) with the browser quirks XSS detection cares about (NUL bytes ignored in tag names, backquoted
 * attribute values as in old IE, `<% %>` comments). It never builds a tree; it only yields tokens.
 *
 * Input is a byte string (one char per byte). Unlike the C code, states hand over to each other through a
 * loop instead of nested calls, so no input can grow the call stack.
 */

/** Token types (libinjection's `enum html5_type`). */
export const DATA_TEXT = 0
export const TAG_NAME_OPEN = 1
export const TAG_NAME_CLOSE = 2
export const TAG_NAME_SELFCLOSE = 3
export const TAG_DATA = 4
export const TAG_CLOSE = 5
export const ATTR_NAME = 6
export const ATTR_VALUE = 7
export const TAG_COMMENT = 8
export const DOCTYPE = 9

/** Names of the token types, as libinjection's test vectors print them. */
export const HTML5_TYPE_NAMES = [
  'DATA_TEXT',
  'TAG_NAME_OPEN',
  'TAG_NAME_CLOSE',
  'TAG_NAME_SELFCLOSE',
  'TAG_DATA',
  'TAG_CLOSE',
  'ATTR_NAME',
  'ATTR_VALUE',
  'TAG_COMMENT',
  'DOCTYPE',
] as const

/** Where tokenizing starts (libinjection's `enum html5_flags`): the contexts user input can land in. */
export const CTX_DATA = 0
export const CTX_VALUE_NO_QUOTE = 1
export const CTX_VALUE_SINGLE_QUOTE = 2
export const CTX_VALUE_DOUBLE_QUOTE = 3
export const CTX_VALUE_BACK_QUOTE = 4

const S_EOF = 0
const S_DATA = 1
const S_TAG_OPEN = 2
const S_END_TAG_OPEN = 3
const S_TAG_NAME_CLOSE = 4
const S_TAG_NAME = 5
const S_BEFORE_ATTR_NAME = 6
const S_ATTR_NAME = 7
const S_AFTER_ATTR_NAME = 8
const S_BEFORE_ATTR_VALUE = 9
const S_ATTR_VALUE_DOUBLE = 10
const S_ATTR_VALUE_SINGLE = 11
const S_ATTR_VALUE_BACK = 12
const S_ATTR_VALUE_NO_QUOTE = 13
const S_AFTER_ATTR_VALUE_QUOTED = 14
const S_SELF_CLOSING_START_TAG = 15
const S_BOGUS_COMMENT = 16
const S_BOGUS_COMMENT_PERCENT = 17
const S_MARKUP_DECLARATION_OPEN = 18
const S_COMMENT = 19
const S_CDATA = 20
const S_DOCTYPE = 21

const INITIAL_STATE = [
  S_DATA,
  S_BEFORE_ATTR_NAME,
  S_ATTR_VALUE_SINGLE,
  S_ATTR_VALUE_DOUBLE,
  S_ATTR_VALUE_BACK,
] as const

/** What the C code passes through a signed `char` as "end of input": the real end, or a 0xff byte. */
const EOF = -1

/** h5_is_white: C `strchr(" \t\n\v\f\r", ch)`, which also matches NUL. */
function isWhite(c: number): boolean {
  return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0
}

function isAlpha(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)
}

/** Tokenizer state over one input (libinjection's `h5_state_t`). */
export class Html5Tokenizer {
  s = ''
  len = 0
  pos = 0
  isClose = false
  state = S_EOF
  tokenStart = 0
  tokenLen = 0
  tokenType = DATA_TEXT
  /** State-machine steps taken, for the bounded-work tests. */
  work = 0

  init(s: string, context: number): void {
    this.s = s
    this.len = s.length
    this.pos = 0
    this.isClose = false
    this.state = INITIAL_STATE[context] ?? S_DATA
    this.tokenStart = 0
    this.tokenLen = 0
    this.tokenType = DATA_TEXT
  }

  private emit(type: number, start: number, len: number): true {
    this.tokenType = type
    this.tokenStart = start
    this.tokenLen = len
    return true
  }

  /** Skips white space (and NUL); returns the next byte, or EOF at the end or on a 0xff byte. */
  private skipWhite(): number {
    while (this.pos < this.len) {
      const c = this.s.charCodeAt(this.pos)
      if (c === 0x00 || c === 0x20 || (c >= 0x09 && c <= 0x0d)) this.pos++
      else return c === 0xff ? EOF : c
    }
    return EOF
  }

  /** Advances to the next token; false at the end. */
  next(): boolean {
    const s = this.s
    const len = this.len
    let state = this.state
    while (true) {
      this.work++
      switch (state) {
        case S_EOF:
          return false

        case S_DATA: {
          const lt = s.indexOf('<', this.pos)
          if (lt < 0) {
            this.state = S_EOF
            this.emit(DATA_TEXT, this.pos, len - this.pos)
            return this.tokenLen !== 0
          }
          this.emit(DATA_TEXT, this.pos, lt - this.pos)
          this.pos = lt + 1
          this.state = S_TAG_OPEN
          if (this.tokenLen !== 0) return true
          state = S_TAG_OPEN
          continue
        }

        case S_TAG_OPEN: {
          if (this.pos >= len) return false
          const c = s.charCodeAt(this.pos)
          if (c === 0x21 /* ! */) {
            this.pos++
            state = S_MARKUP_DECLARATION_OPEN
          } else if (c === 0x2f /* / */) {
            this.pos++
            this.isClose = true
            state = S_END_TAG_OPEN
          } else if (c === 0x3f /* ? */) {
            this.pos++
            state = S_BOGUS_COMMENT
          } else if (c === 0x25 /* % */) {
            // <% ... %>: not HTML5, but IE <= 9 and old Safari treat it as a comment.
            this.pos++
            state = S_BOGUS_COMMENT_PERCENT
          } else if (isAlpha(c) || c === 0) {
            state = S_TAG_NAME
          } else if (this.pos === 0) {
            state = S_DATA
          } else {
            this.state = S_DATA
            return this.emit(DATA_TEXT, this.pos - 1, 1)
          }
          continue
        }

        case S_END_TAG_OPEN: {
          if (this.pos >= len) return false
          const c = s.charCodeAt(this.pos)
          if (c === 0x3e /* > */) {
            state = S_DATA
          } else if (isAlpha(c)) {
            state = S_TAG_NAME
          } else {
            this.isClose = false
            state = S_BOGUS_COMMENT
          }
          continue
        }

        case S_TAG_NAME_CLOSE:
          this.isClose = false
          this.emit(TAG_NAME_CLOSE, this.pos, 1)
          this.pos++
          this.state = this.pos < len ? S_DATA : S_EOF
          return true

        case S_TAG_NAME: {
          let p = this.pos
          while (p < len) {
            const c = s.charCodeAt(p)
            if (c === 0) {
              p++
            } else if (isWhite(c)) {
              this.emit(TAG_NAME_OPEN, this.pos, p - this.pos)
              this.pos = p + 1
              this.state = S_BEFORE_ATTR_NAME
              return true
            } else if (c === 0x2f /* / */) {
              this.emit(TAG_NAME_OPEN, this.pos, p - this.pos)
              this.pos = p + 1
              this.state = S_SELF_CLOSING_START_TAG
              return true
            } else if (c === 0x3e /* > */) {
              if (this.isClose) {
                this.emit(TAG_CLOSE, this.pos, p - this.pos)
                this.pos = p + 1
                this.isClose = false
                this.state = S_DATA
              } else {
                this.emit(TAG_NAME_OPEN, this.pos, p - this.pos)
                this.pos = p
                this.state = S_TAG_NAME_CLOSE
              }
              return true
            } else {
              p++
            }
          }
          this.state = S_EOF
          return this.emit(TAG_NAME_OPEN, this.pos, len - this.pos)
        }

        case S_BEFORE_ATTR_NAME: {
          const c = this.skipWhite()
          if (c === EOF) return false
          if (c === 0x2f) {
            this.pos++
            state = S_SELF_CLOSING_START_TAG
          } else if (c === 0x3e) {
            this.state = S_DATA
            this.emit(TAG_NAME_CLOSE, this.pos, 1)
            this.pos++
            return true
          } else {
            state = S_ATTR_NAME
          }
          continue
        }

        case S_ATTR_NAME: {
          let p = this.pos + 1
          while (p < len) {
            const c = s.charCodeAt(p)
            let next = -1
            if (isWhite(c)) next = S_AFTER_ATTR_NAME
            else if (c === 0x2f) next = S_SELF_CLOSING_START_TAG
            else if (c === 0x3d /* = */) next = S_BEFORE_ATTR_VALUE
            else if (c === 0x3e) next = S_TAG_NAME_CLOSE
            if (next >= 0) {
              this.emit(ATTR_NAME, this.pos, p - this.pos)
              this.state = next
              this.pos = next === S_TAG_NAME_CLOSE ? p : p + 1
              return true
            }
            p++
          }
          this.emit(ATTR_NAME, this.pos, len - this.pos)
          this.state = S_EOF
          this.pos = len
          return true
        }

        case S_AFTER_ATTR_NAME: {
          const c = this.skipWhite()
          if (c === EOF) return false
          if (c === 0x2f) {
            this.pos++
            state = S_SELF_CLOSING_START_TAG
          } else if (c === 0x3d) {
            this.pos++
            state = S_BEFORE_ATTR_VALUE
          } else if (c === 0x3e) {
            state = S_TAG_NAME_CLOSE
          } else {
            state = S_ATTR_NAME
          }
          continue
        }

        case S_BEFORE_ATTR_VALUE: {
          const c = this.skipWhite()
          if (c === EOF) {
            this.state = S_EOF
            return false
          }
          if (c === 0x22) state = S_ATTR_VALUE_DOUBLE
          else if (c === 0x27) state = S_ATTR_VALUE_SINGLE
          else if (c === 0x60) state = S_ATTR_VALUE_BACK
          else state = S_ATTR_VALUE_NO_QUOTE
          continue
        }

        case S_ATTR_VALUE_DOUBLE:
        case S_ATTR_VALUE_SINGLE:
        case S_ATTR_VALUE_BACK: {
          const quote = state === S_ATTR_VALUE_DOUBLE ? '"' : state === S_ATTR_VALUE_SINGLE ? "'" : '`'
          // Skip the opening quote, unless tokenizing started inside the value (position 0).
          if (this.pos > 0) this.pos++
          const end = s.indexOf(quote, this.pos)
          if (end < 0) {
            this.emit(ATTR_VALUE, this.pos, len - this.pos)
            this.state = S_EOF
          } else {
            this.emit(ATTR_VALUE, this.pos, end - this.pos)
            this.state = S_AFTER_ATTR_VALUE_QUOTED
            this.pos = end + 1
          }
          return true
        }

        case S_ATTR_VALUE_NO_QUOTE: {
          let p = this.pos
          while (p < len) {
            const c = s.charCodeAt(p)
            if (isWhite(c)) {
              this.emit(ATTR_VALUE, this.pos, p - this.pos)
              this.pos = p + 1
              this.state = S_BEFORE_ATTR_NAME
              return true
            }
            if (c === 0x3e) {
              this.emit(ATTR_VALUE, this.pos, p - this.pos)
              this.pos = p
              this.state = S_TAG_NAME_CLOSE
              return true
            }
            p++
          }
          this.state = S_EOF
          return this.emit(ATTR_VALUE, this.pos, len - this.pos)
        }

        case S_AFTER_ATTR_VALUE_QUOTED: {
          if (this.pos >= len) return false
          const c = s.charCodeAt(this.pos)
          if (isWhite(c)) {
            this.pos++
            state = S_BEFORE_ATTR_NAME
          } else if (c === 0x2f) {
            this.pos++
            state = S_SELF_CLOSING_START_TAG
          } else if (c === 0x3e) {
            this.emit(TAG_NAME_CLOSE, this.pos, 1)
            this.pos++
            this.state = S_DATA
            return true
          } else {
            state = S_BEFORE_ATTR_NAME
          }
          continue
        }

        case S_SELF_CLOSING_START_TAG: {
          if (this.pos >= len) return false
          if (s.charCodeAt(this.pos) === 0x3e) {
            this.emit(TAG_NAME_SELFCLOSE, this.pos - 1, 2)
            this.state = S_DATA
            this.pos++
            return true
          }
          state = S_BEFORE_ATTR_NAME
          continue
        }

        case S_BOGUS_COMMENT: {
          const gt = s.indexOf('>', this.pos)
          if (gt < 0) {
            this.emit(TAG_COMMENT, this.pos, len - this.pos)
            this.pos = len
            this.state = S_EOF
          } else {
            this.emit(TAG_COMMENT, this.pos, gt - this.pos)
            this.pos = gt + 1
            this.state = S_DATA
          }
          return true
        }

        case S_BOGUS_COMMENT_PERCENT: {
          let p = this.pos
          while (true) {
            this.work++
            const pct = s.indexOf('%', p)
            if (pct < 0 || pct + 1 >= len) {
              this.emit(TAG_COMMENT, this.pos, len - this.pos)
              this.pos = len
              this.state = S_EOF
              return true
            }
            if (s.charCodeAt(pct + 1) === 0x3e) {
              this.emit(TAG_COMMENT, this.pos, pct - this.pos)
              this.pos = pct + 2
              this.state = S_DATA
              return true
            }
            p = pct + 1
          }
        }

        case S_MARKUP_DECLARATION_OPEN: {
          const remaining = len - this.pos
          if (remaining >= 7 && s.substr(this.pos, 7).toLowerCase() === 'doctype') {
            state = S_DOCTYPE
          } else if (remaining >= 7 && s.startsWith('[CDATA[', this.pos)) {
            this.pos += 7
            state = S_CDATA
          } else if (remaining >= 2 && s.startsWith('--', this.pos)) {
            this.pos += 2
            state = S_COMMENT
          } else {
            state = S_BOGUS_COMMENT
          }
          continue
        }

        case S_COMMENT: {
          // Ends at "-->" or "--!>" (NULs between the dashes ignored), or at the end of input.
          let p = this.pos
          while (true) {
            this.work++
            const dash = s.indexOf('-', p)
            if (dash < 0 || dash > len - 3) break
            let off = 1
            while (dash + off < len && s.charCodeAt(dash + off) === 0) off++
            if (dash + off === len) break
            let c = s.charCodeAt(dash + off)
            if (c !== 0x2d && c !== 0x21) {
              p = dash + 1
              continue
            }
            off++
            if (dash + off === len) break
            c = s.charCodeAt(dash + off)
            if (c !== 0x3e) {
              p = dash + 1
              continue
            }
            off++
            this.emit(TAG_COMMENT, this.pos, dash - this.pos)
            this.pos = dash + off
            this.state = S_DATA
            return true
          }
          this.state = S_EOF
          return this.emit(TAG_COMMENT, this.pos, len - this.pos)
        }

        case S_CDATA: {
          let p = this.pos
          while (true) {
            this.work++
            const rb = s.indexOf(']', p)
            if (rb < 0 || rb > len - 3) {
              this.state = S_EOF
              return this.emit(DATA_TEXT, this.pos, len - this.pos)
            }
            if (s.charCodeAt(rb + 1) === 0x5d && s.charCodeAt(rb + 2) === 0x3e) {
              this.state = S_DATA
              this.emit(DATA_TEXT, this.pos, rb - this.pos)
              this.pos = rb + 3
              return true
            }
            p = rb + 1
          }
        }

        case S_DOCTYPE: {
          const gt = s.indexOf('>', this.pos)
          if (gt < 0) {
            this.state = S_EOF
            return this.emit(DOCTYPE, this.pos, len - this.pos)
          }
          this.state = S_DATA
          this.emit(DOCTYPE, this.pos, gt - this.pos)
          this.pos = gt + 1
          return true
        }

        default:
          return false
      }
    }
  }
}
