import { describe, expect, it } from 'vitest'
import { parseList } from '../test/helpers/structured-fields.js'
import { policyItem, seconds, sfString } from './headers.js'

describe('RateLimit header syntax (RFC 9651 structured fields)', () => {
  it('policy items are Strings with integer q and w parameters', () => {
    const value = [policyItem('per-ip', 100, 900_000), policyItem('daily', 1000, 86_400_000)].join(', ')
    expect(value).toBe('"per-ip";q=100;w=900, "daily";q=1000;w=86400')
    expect(parseList(value)).toEqual([
      { value: 'per-ip', params: { q: 100, w: 900 } },
      { value: 'daily', params: { q: 1000, w: 86400 } },
    ])
  })

  it('rounds sub-second windows up to whole seconds (w is an Integer) and adds a non-default quota unit', () => {
    expect(policyItem('burst', 5, 1500)).toBe('"burst";q=5;w=2')
    expect(policyItem('tiny', 5, 10)).toBe('"tiny";q=5;w=1')
    expect(parseList(policyItem('cc', 10, undefined, 'concurrent-requests'))).toEqual([
      { value: 'cc', params: { q: 10, qu: 'concurrent-requests' } },
    ])
  })

  it('escapes quotes and backslashes and refuses non-ASCII', () => {
    expect(sfString('a"b\\c')).toBe('"a\\"b\\\\c"')
    expect(parseList(sfString('a"b\\c'))).toEqual([{ value: 'a"b\\c', params: {} }])
    expect(() => sfString('é')).toThrow(TypeError)
  })

  it('seconds round up', () => {
    expect(seconds(0)).toBe(0)
    expect(seconds(1)).toBe(1)
    expect(seconds(1000)).toBe(1)
    expect(seconds(1001)).toBe(2)
  })
})
