import { describe, expect, it } from 'vitest'
import { CTX_DATA, HTML5_TYPE_NAMES, Html5Tokenizer } from './html5.js'
import { FLAG_QUOTE_NONE, FLAG_SQL_ANSI, SqliState } from './sqli.js'
import { loadVectors, printToken, type Vector } from './test-support.js'
import { isXss } from './xss.js'

// libinjection's own test vectors (tests/test-*.txt from the libinjection tree bundled with ModSecurity,
// imported by scripts/libinjection/import-fixtures.mjs), run the way its C test driver runs them.

function rtrim(s: string): string {
  return s.replace(/[ \n\t\r]+$/, '')
}

function actual(v: Vector): string {
  const st = new SqliState()
  if (v.name.startsWith('test-tokens-')) {
    st.init(v.input, FLAG_QUOTE_NONE | FLAG_SQL_ANSI)
    const lines: string[] = []
    while (st.tokenize()) lines.push(printToken(st.current))
    return lines.join('\n')
  }
  if (v.name.startsWith('test-folding-')) {
    st.init(v.input, FLAG_QUOTE_NONE | FLAG_SQL_ANSI)
    const n = st.fold()
    return st.tokens
      .slice(0, n)
      .map((t) => printToken(t))
      .join('\n')
  }
  if (v.name.startsWith('test-sqli-')) {
    st.init(v.input, 0)
    return st.isSqli() ? st.fingerprint : ''
  }
  if (v.name.startsWith('test-html5-')) {
    const h5 = new Html5Tokenizer()
    h5.init(v.input, CTX_DATA)
    const lines: string[] = []
    while (h5.next()) {
      const text = v.input.substr(h5.tokenStart, h5.tokenLen)
      const nul = text.indexOf('\0')
      lines.push(`${HTML5_TYPE_NAMES[h5.tokenType]},${h5.tokenLen},${nul < 0 ? text : text.slice(0, nul)}`)
    }
    return lines.join('\n')
  }
  if (v.name.startsWith('test-xss-')) return isXss(v.input) ? '1' : '0'
  throw new Error(`unknown vector kind ${v.name}`)
}

const vectors = loadVectors()
const kinds = ['test-tokens-', 'test-folding-', 'test-sqli-', 'test-html5-'] as const

describe('libinjection test vectors', () => {
  it('has the imported vectors of every kind', () => {
    for (const kind of kinds)
      expect(vectors.filter((v) => v.name.startsWith(kind)).length).toBeGreaterThan(40)
    expect(vectors.length).toBe(480)
  })

  for (const kind of kinds) {
    it(`${kind}*: every vector gives the expected output`, () => {
      const own = vectors.filter((v) => v.name.startsWith(kind))
      const failures = own
        .map((v) => ({ name: v.name, input: v.input, expected: v.expected, got: rtrim(actual(v)) }))
        .filter((r) => r.got !== r.expected)
      console.info(`libinjection ${kind}*: ${own.length - failures.length}/${own.length} pass`)
      expect(failures).toEqual([])
    })
  }
})
