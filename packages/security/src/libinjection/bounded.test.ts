import { describe, expect, it } from 'vitest'
import { detectSqli, detectXss } from './index.js'
import { SqliState } from './sqli.js'
import { html5Work, isXss } from './xss.js'

// Worst-case inputs for every loop that scans ahead or restarts (string escapes, nested comments, dollar
// quotes, runs of operators, HTML comments and CDATA full of near-terminators, attribute soup): the work
// counted by the tokenizers (tokenizer steps, folding iterations, escape re-scans, state-machine steps)
// must stay linear in the input length. Asserted on counts, never on time.

const repeat = (unit: string, n: number) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n)

const SQLI_CASES: Record<string, (n: number) => string> = {
  'escaped quotes': (n) => `'${repeat("\\'", n)}`,
  'backslash runs before quotes': (n) => repeat("\\\\\\\\'", n),
  'doubled quotes': (n) => `'${repeat("''", n)}`,
  'unterminated string': (n) => `'${repeat('a', n)}`,
  'only quotes': (n) => repeat('\'"`', n),
  'nested comment openers': (n) => `/*${repeat('/*', n)}*/`,
  'comment openers': (n) => repeat('/*', n),
  'comments only': (n) => repeat('/**/', n),
  'eol comments': (n) => repeat('--\n', n),
  'hash comments': (n) => repeat('#\n', n),
  'dollar tags': (n) => repeat('$a$', n),
  'long dollar tag': (n) => `$${repeat('a', n / 2)}$${repeat('a', n / 2)}`,
  'money runs': (n) => repeat('$1,', n),
  'q strings': (n) => repeat("q'", n),
  'bracket words': (n) => repeat('[', n),
  'binary prefix without quote': (n) => `b'${repeat('0', n)}`,
  operators: (n) => repeat('<=>', n),
  'unary runs': (n) => `1${repeat('-+!~', n)}1`,
  parentheses: (n) => repeat('(', n),
  arithmetic: (n) => repeat('1+', n),
  keywords: (n) => repeat('select ', n),
  variables: (n) => repeat('@', n),
  backticks: (n) => repeat('`', n),
  'words with dots': (n) => repeat('a.', n),
  'nul and nbsp': (n) => repeat('\0\xa0', n),
}

const XSS_CASES: Record<string, (n: number) => string> = {
  'tag openers': (n) => repeat('<', n),
  'end tag openers': (n) => repeat('</', n),
  'self-closing soup': (n) => `<a${repeat(' /', n)}`,
  'attribute soup': (n) => `<a ${repeat('a=a ', n)}`,
  'unquoted attribute values': (n) => `<a ${repeat('b=', n)}`,
  'comment full of dashes': (n) => `<!--${repeat('-', n)}`,
  'comment full of dash-nul': (n) => `<!--${repeat('-\0', n)}`,
  'comment near-ends': (n) => `<!--${repeat('--!', n)}`,
  'cdata full of brackets': (n) => `<![CDATA[${repeat(']', n)}`,
  'percent comment': (n) => `<%${repeat('%', n)}`,
  'entity soup in href': (n) => `<a href="${repeat('&#', n)}`,
  'long numeric entity': (n) => `<a href="&#${repeat('9', n)}`,
  'leading blanks in href': (n) => `<a href="${repeat(' ', n)}`,
  'bogus comments': (n) => repeat('<?>', n),
  'many comments': (n) => repeat('<!-- -->', n),
}

function sqliWork(input: string): number {
  const st = new SqliState()
  st.init(input, 0)
  st.isSqli()
  return st.work
}

function xssWork(input: string): number {
  const before = html5Work()
  isXss(input)
  return html5Work() - before
}

const N = 20_000

describe('bounded work on crafted worst-case inputs', () => {
  for (const [name, make] of Object.entries(SQLI_CASES)) {
    it(`SQLi: ${name}`, () => {
      const small = sqliWork(make(N))
      const large = sqliWork(make(2 * N))
      // At most five tokenizing passes over the input, a few steps per byte each.
      expect(small).toBeLessThanOrEqual(12 * N + 100)
      expect(large).toBeLessThanOrEqual(2 * small + 200)
    })
  }

  for (const [name, make] of Object.entries(XSS_CASES)) {
    it(`XSS: ${name}`, () => {
      const small = xssWork(make(N))
      const large = xssWork(make(2 * N))
      // Five contexts, each one pass of the state machine over the input.
      expect(small).toBeLessThanOrEqual(12 * N + 100)
      expect(large).toBeLessThanOrEqual(2 * small + 200)
    })
  }

  it('a 1 MiB argument is answered without throwing (no deep recursion, no stack growth)', () => {
    const big = `<a${repeat(' /', 1 << 20)}`
    expect(detectXss(big)).toBe(false)
    expect(detectSqli(repeat("\\'", 1 << 20)).sqli).toBe(false)
  })
})
