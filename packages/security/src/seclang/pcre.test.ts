import { describe, expect, it } from 'vitest'
import { compilePcre, PcreError, translatePcre } from './pcre.js'

const matches = (pattern: string, subject: string) => compilePcre(pattern).test(subject)

describe('translatePcre', () => {
  it('turns a leading (?i) / (?s) into flags', () => {
    expect(translatePcre('(?i)abc')).toEqual({ source: '[aA][bB][cC]', flags: '' })
    expect(translatePcre('(?i)abc', { caseFlag: true })).toEqual({ source: 'abc', flags: 'i' })
    expect(matches('(?s)a.b', 'a\nb')).toBe(true)
    expect(matches('a.b', 'a\nb')).toBe(false)
  })

  it('scopes (?i:...) and a mid-pattern (?i) to their group', () => {
    expect(matches('^(?i:abc)d$', 'ABCd')).toBe(true)
    expect(matches('^(?i:abc)d$', 'ABCD')).toBe(false)
    expect(matches('^x(?:(?i)ab)c$', 'xABc')).toBe(true)
    expect(matches('^x(?:(?i)ab)c$', 'xABC')).toBe(false)
    expect(matches('^(?i:[a-c]+)$', 'AbC')).toBe(true)
  })

  it('matches . on \\r (PCRE) but not on \\n', () => {
    expect(matches('^a.b$', 'a\rb')).toBe(true)
    expect(matches('^a.b$', 'a\nb')).toBe(false)
  })

  it('keeps \\s to [\\t-\\r ] (no NBSP 0xA0, which JS \\s would match)', () => {
    expect(matches('a\\sb', 'a\xa0b')).toBe(false)
    expect(matches('a\\sb', 'a\x0bb')).toBe(true)
    expect(matches('a[\\s]b', 'a\xa0b')).toBe(false)
    expect(matches('a\\Sb', 'a\xa0b')).toBe(true)
  })

  it('reads \\x{HH} as a byte', () => {
    expect(matches('\\x{bc}script', '\xbcscript')).toBe(true)
    expect(matches('[\\x{e2}]\\x80', '\xe2\x80')).toBe(true)
  })

  it('gives $ PCRE meaning (end or before a final newline) and \\z / \\Z / \\A', () => {
    expect(matches('abc$', 'abc\n')).toBe(true)
    expect(matches('abc$', 'abc\nx')).toBe(false)
    expect(matches('abc\\z', 'abc\n')).toBe(false)
    expect(matches('abc\\Z', 'abc\n')).toBe(true)
    expect(matches('\\Aabc', 'xabc')).toBe(false)
  })

  it('supports (?P<name>), (?P=name), POSIX classes, \\h, \\R, \\Q...\\E and comments', () => {
    expect(matches('(?P<q>[\'"]).*(?P=q)', `x'a'`)).toBe(true)
    expect(matches('^[[:alpha:]]+$', 'abcXYZ')).toBe(true)
    expect(matches('^[[:digit:]]+$', '12a')).toBe(false)
    expect(matches('a\\hb', 'a\tb')).toBe(true)
    expect(matches('a\\Rb', 'a\r\nb')).toBe(true)
    expect(matches('\\Q.*\\E', 'a.*b')).toBe(true)
    expect(matches('\\Q.*\\E', 'ab')).toBe(false)
    expect(matches('a(?#comment)b', 'ab')).toBe(true)
  })

  it('treats a leading ] in a class as a literal', () => {
    expect(matches('[]a]', ']')).toBe(true)
    expect(matches('[^]a]', ']')).toBe(false)
  })

  it('refuses constructs JS cannot express with the same meaning', () => {
    expect(() => translatePcre('a++')).toThrow(PcreError)
    expect(() => translatePcre('(?>a)')).toThrow(PcreError)
    expect(() => translatePcre('(?|a|b)')).toThrow(PcreError)
    expect(() => translatePcre('(?R)')).toThrow(PcreError)
    expect(() => translatePcre('\\Ga')).toThrow(PcreError)
    expect(() => translatePcre('(?x)a')).toThrow(PcreError)
    expect(() => translatePcre('\\p{L}')).toThrow(PcreError)
  })
})
