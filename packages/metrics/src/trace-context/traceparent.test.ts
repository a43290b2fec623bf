import { describe, expect, it } from 'vitest'
import {
  formatTraceparent,
  newSpanId,
  newTraceId,
  normaliseTracestate,
  parseTraceparent,
} from './traceparent.js'

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const SPAN = '00f067aa0ba902b7'

describe('parseTraceparent (W3C Trace Context)', () => {
  it('accepts the spec example and reads the sampled flag', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)).toEqual({ traceId: TRACE, parentId: SPAN, flags: 1 })
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.flags).toBe(0)
  })

  it.each([
    ['absent', undefined],
    ['array (duplicated header)', [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01`]],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['uppercase hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['all-zero trace id', `00-${'0'.repeat(32)}-${SPAN}-01`],
    ['all-zero parent id', `00-${TRACE}-${'0'.repeat(16)}-01`],
    ['version 00 with trailing data', `00-${TRACE}-${SPAN}-01-extra`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['wrong separators', `00_${TRACE}_${SPAN}_01`],
    ['non-hex flags', `00-${TRACE}-${SPAN}-0g`],
    ['non-hex version', `0x-${TRACE}-${SPAN}-01`],
    ['joined duplicates', `00-${TRACE}-${SPAN}-01, 00-${TRACE}-${SPAN}-01`],
  ])('rejects %s', (_, value) => {
    expect(parseTraceparent(value)).toBeUndefined()
  })

  it('parses future versions by their version-00 prefix', () => {
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01`)?.traceId).toBe(TRACE)
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-holds`)?.parentId).toBe(SPAN)
    expect(parseTraceparent(`cc-${TRACE}-${SPAN}-01x`)).toBeUndefined()
  })

  it('formats version 00', () => {
    expect(formatTraceparent(TRACE, SPAN, true)).toBe(`00-${TRACE}-${SPAN}-01`)
    expect(formatTraceparent(TRACE, SPAN, false)).toBe(`00-${TRACE}-${SPAN}-00`)
  })
})

describe('normaliseTracestate', () => {
  it('keeps valid members, joins repeated headers, drops empty members', () => {
    expect(normaliseTracestate('congo=t61rcWkgMzE, rojo=00f067aa0ba902b7')).toBe(
      'congo=t61rcWkgMzE,rojo=00f067aa0ba902b7',
    )
    expect(normaliseTracestate(['a=1', 'b=2'])).toBe('a=1,b=2')
    expect(normaliseTracestate('a=1,, ,b=2')).toBe('a=1,b=2')
    expect(normaliseTracestate('tenant@vendor=x')).toBe('tenant@vendor=x')
    expect(normaliseTracestate(undefined)).toBe('')
  })

  it.each([
    ['uppercase key', 'Congo=1'],
    ['missing =', 'congo'],
    ['duplicate key', 'a=1,a=2'],
    ['value with =', 'a=b=c'],
    ['control character in value', 'a=b\tc'],
    ['more than 32 members', Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',')],
  ])('rejects %s', (_, value) => {
    expect(normaliseTracestate(value)).toBeUndefined()
  })
})

describe('ids', () => {
  it('generates lowercase hex ids of the right length that differ', () => {
    const traces = new Set(Array.from({ length: 1000 }, () => newTraceId()))
    const spans = new Set(Array.from({ length: 1000 }, () => newSpanId()))
    expect(traces.size).toBe(1000)
    expect(spans.size).toBe(1000)
    for (const t of traces) expect(t).toMatch(/^[0-9a-f]{32}$/)
    for (const s of spans) expect(s).toMatch(/^[0-9a-f]{16}$/)
  })
})
