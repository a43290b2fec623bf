import { describe, expect, it } from 'vitest'
import {
  cmdLine,
  compressWhitespace,
  cssDecode,
  escapeSeqDecode,
  htmlEntityDecode,
  jsDecode,
  lowercase,
  normalizePath,
  normalizePathWin,
  removeCommentsChar,
  replaceComments,
  TRANSFORMATIONS,
  urlDecode,
  urlDecodeUni,
  utf8toUnicode,
} from './transformations.js'

describe('transformations (byte strings, ModSecurity semantics)', () => {
  it('lowercase changes ASCII only (a UTF-8 lead byte 0xC2 stays 0xC2)', () => {
    expect(lowercase('SELECT \xc2\xb4')).toBe('select \xc2\xb4')
  })

  it('urlDecode / urlDecodeUni', () => {
    expect(urlDecode('a%20b+c%zz%4')).toBe('a b c%zz%4')
    expect(urlDecodeUni('%u0027%uff1c%u2215')).toBe("'<\x15")
    expect(urlDecode('%u0027')).toBe('%u0027')
  })

  it('htmlEntityDecode: numeric (semicolon optional, leading zeros), named, truncated to a byte', () => {
    expect(htmlEntityDecode('&lt;a&#x3e;&#60&quot;&amp;&nbsp;')).toBe('<a><"&\xa0')
    expect(htmlEntityDecode('&#000000000000000000000123;jndi')).toBe('{jndi')
    expect(htmlEntityDecode('&unknown; & &#;')).toBe('&unknown; & &#;')
  })

  it('jsDecode and cssDecode', () => {
    expect(jsDecode('\\x3cscript\\u003e\\n\\101\\q')).toBe('<script>\nAq')
    expect(jsDecode('\\uff1c')).toBe('<')
    expect(cssDecode('\\6a\\61 vascript\\:')).toBe('javascript:')
    expect(cssDecode('ja\\\nvas')).toBe('javas')
  })

  it('cmdLine normalises shell evasions', () => {
    expect(cmdLine('C^a"t\'  /ETC/pa\\sswd;,id')).toBe('cat/etc/passwd id')
  })

  it('whitespace, comments, paths', () => {
    expect(compressWhitespace('a \t\n\xa0b')).toBe('a b')
    expect(replaceComments('UNION/**/SELECT/*x')).toBe('UNION SELECT ')
    expect(removeCommentsChar('a/*b*/c--d#e')).toBe('abcde')
    expect(normalizePath('/a/./b/../../c//d/')).toBe('/c/d/')
    expect(normalizePath('a/../../b')).toBe('../b')
    expect(normalizePathWin('..\\..\\windows\\win.ini')).toBe('../../windows/win.ini')
  })

  it('utf8toUnicode and escapeSeqDecode', () => {
    expect(utf8toUnicode('a\xc3\xa9\xe2\x80\x98\xff')).toBe('a%u00e9%u2018\xff')
    expect(escapeSeqDecode('\\x41\\101\\n\\\\')).toBe('AA\n\\')
  })

  it('sha1 + hexEncode, length, base64Decode', () => {
    const t = (name: string, v: string) => TRANSFORMATIONS.get(name)!(v)
    expect(t('hexencode', t('sha1', 'abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d')
    expect(t('length', 'abcd')).toBe('4')
    expect(t('base64decode', 'PHNjcmlwdD4=')).toBe('<script>')
  })
})
