import { describe, expect, it } from 'vitest'
import { cookieValues, withoutCookie } from './cookie.js'

describe('cookieValues', () => {
  it('finds a cookie among others, trimming spaces and tabs but not decoding', () => {
    expect(cookieValues('theme=dark; session=abc123', 'session')).toEqual(['abc123'])
    expect(cookieValues('session=abc123;theme=dark', 'session')).toEqual(['abc123'])
    expect(cookieValues(' \tsession= a%20b ;x=1', 'session')).toEqual(['a%20b'])
    expect(cookieValues('a=b=c', 'a')).toEqual(['b=c'])
  })

  it('matches whole names only', () => {
    expect(cookieValues('sessionid=1; xsession=2', 'session')).toEqual([])
    expect(cookieValues('session', 'session')).toEqual([])
  })

  it('returns every value of a repeated name, in order', () => {
    expect(cookieValues('session=a; other=1; session=b', 'session')).toEqual(['a', 'b'])
    expect(cookieValues('session=; session=x', 'session')).toEqual(['', 'x'])
  })

  it('returns the same empty list when the header or the cookie is absent', () => {
    const none = cookieValues(undefined, 'session')
    expect(none).toEqual([])
    expect(cookieValues('theme=dark', 'session')).toBe(none)
    expect(cookieValues('', 'session')).toBe(none)
    expect(cookieValues('a=1', '')).toBe(none)
  })
})

describe('withoutCookie', () => {
  it('drops every pair of the name and keeps the others in order', () => {
    expect(withoutCookie('theme=dark; session=abc123 ; x=1', 'session')).toBe('theme=dark; x=1')
    expect(withoutCookie('session=a;theme=dark;session=b', 'session')).toBe('theme=dark')
    expect(withoutCookie('sessionid=1; session=2', 'session')).toBe('sessionid=1')
  })

  it('returns undefined when nothing is left, and the header itself when the name is absent', () => {
    expect(withoutCookie('session=abc', 'session')).toBeUndefined()
    expect(withoutCookie('theme=dark', 'session')).toBe('theme=dark')
    expect(withoutCookie(undefined, 'session')).toBeUndefined()
  })
})
