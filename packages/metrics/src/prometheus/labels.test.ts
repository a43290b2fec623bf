import { describe, expect, it } from 'vitest'
import {
  isLabelName,
  METHOD_LABELS,
  methodIndex,
  STATUS_CLASS_LABELS,
  sanitizeMetricName,
  statusClassIndex,
  upstreamErrorKind,
} from './labels.js'

describe('label normalisation', () => {
  it('keeps standard methods and folds everything else into other', () => {
    expect(METHOD_LABELS[methodIndex('GET')]).toBe('GET')
    expect(METHOD_LABELS[methodIndex('DELETE')]).toBe('DELETE')
    expect(METHOD_LABELS[methodIndex('PROPFIND')]).toBe('other')
    expect(METHOD_LABELS[methodIndex('get')]).toBe('other')
    expect(METHOD_LABELS[methodIndex('X'.repeat(500))]).toBe('other')
  })

  it('maps statuses to classes, 499 included', () => {
    expect(STATUS_CLASS_LABELS[statusClassIndex(101)]).toBe('1xx')
    expect(STATUS_CLASS_LABELS[statusClassIndex(204)]).toBe('2xx')
    expect(STATUS_CLASS_LABELS[statusClassIndex(304)]).toBe('3xx')
    expect(STATUS_CLASS_LABELS[statusClassIndex(499)]).toBe('4xx')
    expect(STATUS_CLASS_LABELS[statusClassIndex(504)]).toBe('5xx')
    expect(STATUS_CLASS_LABELS[statusClassIndex(600)]).toBe('other')
    expect(STATUS_CLASS_LABELS[statusClassIndex(0)]).toBe('other')
  })

  it('names upstream error kinds from core codes only', () => {
    expect(upstreamErrorKind('GW_ERR_UPSTREAM_UNAVAILABLE')).toBe('connect')
    expect(upstreamErrorKind('GW_ERR_UPSTREAM_RESET')).toBe('reset')
    expect(upstreamErrorKind('GW_ERR_UPSTREAM_TIMEOUT')).toBe('timeout')
    expect(upstreamErrorKind('GW_ERR_UPSTREAM_PROTOCOL')).toBe('protocol')
    expect(upstreamErrorKind('GW_ERR_INTERNAL')).toBeUndefined()
    expect(upstreamErrorKind('GW_ERR_CLIENT_ABORTED')).toBeUndefined()
  })

  it('sanitises telemetry names and validates label names', () => {
    expect(sanitizeMetricName('cache.hit')).toBe('cache_hit')
    expect(sanitizeMetricName('rate-limit/rejected')).toBe('rate_limit_rejected')
    expect(sanitizeMetricName('5xx')).toBe('_5xx')
    expect(isLabelName('policy')).toBe(true)
    expect(isLabelName('__name__')).toBe(false)
    expect(isLabelName('a-b')).toBe(false)
  })
})
