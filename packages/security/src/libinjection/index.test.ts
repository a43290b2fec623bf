import { describe, expect, it } from 'vitest'
import { toByteString } from './bytes.js'
import { detectSqli, detectXss } from './index.js'

describe('detectSqli', () => {
  it('flags classic injections with their libinjection fingerprint', () => {
    expect(detectSqli("1' OR '1'='1")).toEqual({ sqli: true, fingerprint: 's&sos' })
    expect(detectSqli('1 UNION SELECT password FROM users')).toEqual({ sqli: true, fingerprint: '1UEnk' })
    expect(detectSqli("admin'--")).toEqual({ sqli: true, fingerprint: 'sc' })
    expect(detectSqli("' or 1=1#")).toEqual({ sqli: true, fingerprint: 's&1c' })
    expect(detectSqli('1;DROP TABLE users')).toEqual({ sqli: true, fingerprint: '1;Tnn' })
    expect(detectSqli('sELecT slEep (10 /6)').sqli).toBe(true)
  })

  it('lets ordinary text through with an empty fingerprint', () => {
    for (const text of [
      "O'Reilly",
      'hello world',
      'rock & roll',
      'select a size',
      '1-2-3',
      'C:\\temp\\x',
      '',
    ]) {
      expect(detectSqli(text), text).toEqual({ sqli: false, fingerprint: '' })
    }
  })

  it('is stateless across calls (the reused token state never leaks between inputs)', () => {
    const first = detectSqli("1' OR '1'='1")
    detectSqli('benign')
    detectSqli('<script>')
    expect(detectSqli("1' OR '1'='1")).toEqual(first)
  })

  it('only fires the MySQL reparse when the input has # or --x comments', () => {
    // "1#" alone: ANSI sees an operator; MySQL sees a comment after a number.
    expect(detectSqli('1 or 1#').sqli).toBe(true)
    expect(detectSqli('1 or 1').sqli).toBe(false)
  })

  it('reads chars above 0xff as their UTF-8 bytes', () => {
    expect(toByteString('abc')).toBe('abc')
    expect(toByteString('caf\xe9')).toBe('caf\xe9')
    expect(toByteString('\u20ac')).toBe('\xe2\x82\xac')
    expect(toByteString('\u{1f600}')).toBe('\xf0\x9f\x98\x80')
    expect(toByteString('\ud800x')).toBe('\xef\xbf\xbdx')
    expect(detectSqli("\u20ac' OR 1=1 --").sqli).toBe(true)
  })
})

describe('detectXss', () => {
  it('flags script, event handlers, javascript: URLs and their encodings', () => {
    expect(detectXss('<script>alert(1)</script>')).toBe(true)
    expect(detectXss('"><img src=x onerror=alert(1)>')).toBe(true)
    expect(detectXss('<a href="jav&#x61;script:alert(1)">')).toBe(true)
    expect(detectXss('<a href=" &#x0A;JaVaScRiPt:alert(1)">')).toBe(true)
    expect(detectXss('<svg/onload=alert(1)>')).toBe(true)
    expect(detectXss('<iframe src=//evil>')).toBe(true)
    expect(detectXss('<!DOCTYPE html>')).toBe(true)
    expect(detectXss('<div style="background:url(x)">')).toBe(true)
    // Reflected inside an attribute value: the value context breaks out.
    expect(detectXss('x" onmouseover="alert(1)')).toBe(true)
    expect(detectXss("x' onfocus='alert(1)")).toBe(true)
  })

  it('judges on* attributes by event name, like current libinjection (ModSecurity 3.0.14)', () => {
    expect(detectXss('<a onclick=x>')).toBe(true)
    expect(detectXss('<a ONMOUSEOVER=x>')).toBe(true)
    expect(detectXss('<a onerrorx=x>')).toBe(true) // event names match as prefixes
    expect(detectXss('<a one=1>')).toBe(false)
    expect(detectXss('<a online=yes>')).toBe(false)
    expect(detectXss('<a onfoo=x>')).toBe(false)
  })

  it('lets ordinary text and harmless markup through', () => {
    for (const text of [
      '<b>bold</b> and 1 < 2',
      'a > b',
      'https://example.com/?q=1',
      '<p class="x">',
      'one',
      '',
    ]) {
      expect(detectXss(text), text).toBe(false)
    }
  })
})
