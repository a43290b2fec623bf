import { describe, expect, it } from 'vitest'
import { negotiate } from './negotiate.js'

const both = ['br', 'gzip'] as const

describe('negotiate (RFC 9110 §12.5.3)', () => {
  it.each([
    [undefined, undefined, false],
    ['', undefined, false],
    ['gzip', 'gzip', false],
    ['gzip, deflate, br', 'br', false],
    ['br;q=0.5, gzip', 'gzip', false],
    ['gzip;q=0.8, br', 'br', false],
    ['GZIP;Q=1.0', 'gzip', false],
    ['x-gzip', 'gzip', false],
    ['deflate', undefined, false],
    ['*', 'br', false],
    ['*;q=0.5, br;q=0', 'gzip', false],
    ['gzip;q=0', undefined, false],
    ['identity', undefined, false],
    ['gzip;q=0.5, identity', undefined, false],
    ['gzip;q=0.5, *;q=0.9', 'br', false],
    ['gzip;q=0.5, *', 'br', false],
    ['gzip, identity;q=0', 'gzip', true],
    ['*;q=0', undefined, true],
    ['*;q=0, identity', undefined, false],
    ['gzip;q=2', undefined, false],
    ['gzip;q=0.1234', undefined, false],
    ['gzip;q=abc, br', 'br', false],
    ['br ; q=0.9 , gzip ; q=0.9', 'br', false],
  ])('%s -> %s (identity refused: %s)', (header, coding, refused) => {
    expect(negotiate(header, both)).toEqual({ coding, identityRefused: refused })
  })

  it('breaks ties with the server preference', () => {
    expect(negotiate('gzip, br', ['gzip', 'br']).coding).toBe('gzip')
    expect(negotiate('gzip, br', ['br', 'gzip']).coding).toBe('br')
    expect(negotiate('br', ['gzip']).coding).toBeUndefined()
  })
})
