import { describe, expect, it } from 'vitest'
import { deltaSeconds, MAX_DELTA_SECONDS, parseCacheControl, qualifiedFields } from './cache-control.js'
import {
  computeFreshness,
  type FreshnessSettings,
  mergeHeaders,
  notStorable,
  parseAge,
  varyNames,
} from './entry.js'
import { formatHttpDate, parseHttpDate } from './http-date.js'

const settings: FreshnessSettings = {
  defaultTtl: undefined,
  maxHeuristic: 86_400_000,
  keepStale: 3_600_000,
  storeSetCookie: false,
}
const now = Date.UTC(2026, 0, 1)

describe('parseCacheControl', () => {
  it('parses tokens, quoted arguments, case and whitespace; the first occurrence wins', () => {
    const cc = parseCacheControl([
      'Public, MAX-AGE="60"',
      ' no-cache="Set-Cookie, X-A" ,max-age=5, s-maxage = 9',
    ])
    expect(cc.public).toBe(true)
    expect(cc['max-age']).toBe('60')
    expect(deltaSeconds(cc, 'max-age')).toBe(60)
    expect(qualifiedFields(cc, 'no-cache')).toEqual(['set-cookie', 'x-a'])
    expect(deltaSeconds(cc, 's-maxage')).toBe(9)
  })

  it('flags invalid delta-seconds and caps huge ones', () => {
    expect(deltaSeconds(parseCacheControl('max-age=-1'), 'max-age')).toBe(-1)
    expect(deltaSeconds(parseCacheControl('max-age=1.5'), 'max-age')).toBe(-1)
    expect(deltaSeconds(parseCacheControl('max-age'), 'max-age')).toBe(-1)
    expect(deltaSeconds(parseCacheControl('max-age=99999999999999'), 'max-age')).toBe(MAX_DELTA_SECONDS)
    expect(deltaSeconds(parseCacheControl(''), 'max-age')).toBeUndefined()
  })
})

describe('parseHttpDate', () => {
  it('accepts the three HTTP-date forms and nothing else', () => {
    const expected = Date.UTC(1994, 10, 6, 8, 49, 37)
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(expected)
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT')).toBe(expected)
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994')).toBe(expected)
    for (const bad of ['0', '-1', '1994-11-06T08:49:37Z', 'Sun, 06 Nov 1994 08:49:37 UTC', ''])
      expect(parseHttpDate(bad), bad).toBeUndefined()
    expect(parseHttpDate(formatHttpDate(now))).toBe(now)
  })
})

describe('computeFreshness', () => {
  const date = formatHttpDate(now)
  it('orders s-maxage, max-age, Expires and heuristics', () => {
    expect(
      computeFreshness(200, { date, 'cache-control': 'max-age=5, s-maxage=7' }, now, now, settings).lifetime,
    ).toBe(7000)
    expect(computeFreshness(200, { date, 'cache-control': 'max-age=5' }, now, now, settings).lifetime).toBe(
      5000,
    )
    expect(
      computeFreshness(200, { date, expires: formatHttpDate(now + 9000) }, now, now, settings).lifetime,
    ).toBe(9000)
    const lastModified = formatHttpDate(now - 100_000)
    expect(computeFreshness(200, { date, 'last-modified': lastModified }, now, now, settings).lifetime).toBe(
      10_000,
    )
    expect(computeFreshness(500, { date, 'last-modified': lastModified }, now, now, settings).lifetime).toBe(
      0,
    )
    expect(computeFreshness(200, { date }, now, now, { ...settings, defaultTtl: 42_000 }).lifetime).toBe(
      42_000,
    )
    expect(
      computeFreshness(200, { date, 'cache-control': 'max-age=0' }, now, now, {
        ...settings,
        defaultTtl: 42_000,
      }).lifetime,
    ).toBe(0)
  })

  it('treats multiple Expires values as stale', () => {
    const expires = [formatHttpDate(now + 9000), formatHttpDate(now + 9000)]
    expect(computeFreshness(200, { date, expires }, now, now, settings).lifetime).toBe(0)
  })

  it('computes corrected_initial_age from Age, response delay and apparent age', () => {
    expect(computeFreshness(200, { date }, now - 2000, now, settings, 10).initialAge).toBe(12_000)
    expect(
      computeFreshness(200, { date: formatHttpDate(now - 30_000) }, now, now, settings, 10).initialAge,
    ).toBe(30_000)
    expect(computeFreshness(200, { date: formatHttpDate(now + 30_000) }, now, now, settings).initialAge).toBe(
      0,
    )
  })

  it('derives the reuse flags', () => {
    const strict = computeFreshness(
      200,
      { 'cache-control': 's-maxage=5, stale-if-error=60' },
      now,
      now,
      settings,
    )
    expect(strict.mustRevalidate).toBe(true)
    expect(strict.authorizedReuse).toBe(true)
    expect(strict.staleIfError).toBe(0)
    const loose = computeFreshness(
      200,
      { 'cache-control': 'max-age=5, stale-while-revalidate=30' },
      now,
      now,
      settings,
    )
    expect(loose.staleWhileRevalidate).toBe(30_000)
    expect(loose.expiresAt).toBe(now + 35_000)
    expect(
      computeFreshness(200, { etag: '"x"', 'cache-control': 'max-age=5' }, now, now, settings).expiresAt,
    ).toBe(now + 5000 + 3_600_000)
  })
})

describe('notStorable', () => {
  const cc = parseCacheControl
  it('applies the shared-cache rules of RFC 9111 §3', () => {
    expect(notStorable(200, cc(''), cc('max-age=5'), {}, false, false)).toBeUndefined()
    expect(notStorable(206, cc(''), cc('max-age=5'), {}, false, false)).toBe('status')
    expect(notStorable(200, cc('no-store'), cc('max-age=5'), {}, false, false)).toBe('request-no-store')
    expect(notStorable(200, cc(''), cc('no-store'), {}, false, false)).toBe('no-store')
    expect(notStorable(200, cc(''), cc('no-store, must-understand'), {}, false, false)).toBeUndefined()
    expect(notStorable(299, cc(''), cc('no-store, must-understand, max-age=5'), {}, false, false)).toBe(
      'must-understand',
    )
    expect(notStorable(200, cc(''), cc('private'), {}, false, false)).toBe('private')
    expect(notStorable(200, cc(''), cc('private'), {}, false, true)).toBeUndefined()
    expect(notStorable(200, cc(''), cc('private="x"'), {}, false, false)).toBeUndefined()
    expect(notStorable(200, cc(''), cc('max-age=5'), {}, true, false)).toBe('authorization')
    expect(notStorable(200, cc(''), cc('must-revalidate'), {}, true, false)).toBeUndefined()
    expect(notStorable(200, cc(''), cc('max-age=5'), { vary: 'accept, *' }, false, false)).toBe('vary-star')
    expect(notStorable(302, cc(''), cc(''), {}, false, false)).toBe('no-freshness')
    expect(notStorable(302, cc(''), cc(''), { expires: 'x' }, false, false)).toBeUndefined()
    expect(notStorable(500, cc(''), cc('max-age=5'), {}, false, false)).toBeUndefined()
  })
})

describe('helpers', () => {
  it('parses Age and Vary, and merges 304 headers without touching Content-Length', () => {
    expect(parseAge('30')).toBe(30)
    expect(parseAge('30, 40')).toBe(30)
    expect(parseAge('abc')).toBe(0)
    expect(varyNames(['Accept', 'accept-language, ACCEPT'])).toEqual(['accept', 'accept-language'])
    const merged = mergeHeaders(
      { 'content-length': '5', etag: '"a"', 'x-old': '1' },
      { 'content-length': '0', etag: '"a"', 'x-new': '2', age: '3' },
      now,
      settings,
    )
    expect(merged).toEqual({ 'content-length': '5', etag: '"a"', 'x-old': '1', 'x-new': '2' })
  })
})
