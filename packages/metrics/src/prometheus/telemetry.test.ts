import { createRecordingLogger, createTestExchange } from '@gw/core/testing'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { sampleValue } from '../../test/helpers.js'
import { decisionsKey } from '../decisions.js'
import { createPrometheusTelemetry } from './telemetry.js'

const text = async (t: { registry: Registry }): Promise<string> => t.registry.metrics()

describe('PrometheusTelemetry decisions', () => {
  it('counts decisions by policy and outcome, keeps them on the exchange and logs denials', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const log = createRecordingLogger()
    const ex = createTestExchange({ id: 'r1' }, { log })
    telemetry.decision(ex, { policy: 'jwt', outcome: 'allow', key: 'u1' })
    telemetry.decision(ex, {
      policy: 'rate-limit',
      rule: 'per-ip',
      key: '10.0.0.1',
      outcome: 'deny',
      reason: 'limit-exceeded',
    })
    telemetry.decision(createTestExchange({}, { log }), { policy: 'rate-limit', outcome: 'report' })
    const out = await text(telemetry)
    expect(sampleValue(out, 'gw_policy_decisions_total', { policy: 'jwt', outcome: 'allow' })).toBe(1)
    expect(sampleValue(out, 'gw_policy_decisions_total', { policy: 'rate-limit', outcome: 'deny' })).toBe(1)
    expect(sampleValue(out, 'gw_policy_decisions_total', { policy: 'rate-limit', outcome: 'report' })).toBe(1)
    expect(out).not.toContain('10.0.0.1')
    expect(ex.get(decisionsKey)?.map((d) => d.outcome)).toEqual(['allow', 'deny'])
    const logged = log.withMessage('policy decision')
    expect(logged).toHaveLength(2)
    expect(logged[0]).toMatchObject({
      reqId: 'r1',
      decision: {
        policy: 'rate-limit',
        rule: 'per-ip',
        key: '10.0.0.1',
        outcome: 'deny',
        reason: 'limit-exceeded',
      },
    })
  })

  it('logs all decisions or none as configured', () => {
    for (const [mode, expected] of [
      ['all', 2],
      ['none', 0],
    ] as const) {
      const telemetry = createPrometheusTelemetry({ defaultMetrics: false, logDecisions: mode })
      const log = createRecordingLogger()
      const ex = createTestExchange({}, { log })
      telemetry.decision(ex, { policy: 'jwt', outcome: 'allow' })
      telemetry.decision(ex, { policy: 'jwt', outcome: 'deny' })
      expect(log.withMessage('policy decision')).toHaveLength(expected)
    }
  })

  it('bounds decision series', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false, maxSeriesPerMetric: 2 })
    const ex = createTestExchange()
    for (const policy of ['a', 'b', 'c', 'd']) telemetry.decision(ex, { policy, outcome: 'deny' })
    const out = await text(telemetry)
    expect(sampleValue(out, 'gw_policy_decisions_total', { policy: 'b' })).toBe(1)
    expect(sampleValue(out, 'gw_policy_decisions_total', { policy: 'c' })).toBeUndefined()
    expect(sampleValue(out, 'gw_telemetry_dropped_total', { reason: 'too-many-series' })).toBe(2)
    expect(ex.get(decisionsKey)).toHaveLength(4)
  })
})

describe('PrometheusTelemetry count/observe', () => {
  it('turns counts and observations into prefixed counters and histograms', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    telemetry.count('cache.hits', 1, { route: 'users' })
    telemetry.count('cache.hits', 2, { route: 'users' })
    telemetry.count('breaker_open_total', 1)
    telemetry.observe('ratelimit.store_seconds', 0.003, { store: 'redis' })
    const out = await text(telemetry)
    expect(sampleValue(out, 'gw_cache_hits_total', { route: 'users' })).toBe(3)
    expect(sampleValue(out, 'gw_breaker_open_total')).toBe(1)
    expect(sampleValue(out, 'gw_ratelimit_store_seconds_count', { store: 'redis' })).toBe(1)
    expect(sampleValue(out, 'gw_ratelimit_store_seconds_bucket', { store: 'redis', le: '0.005' })).toBe(1)
  })

  it('drops invalid values, mismatched labels, conflicting names and excess series', async () => {
    const log = createRecordingLogger()
    const telemetry = createPrometheusTelemetry(
      { defaultMetrics: false, maxSeriesPerMetric: 2, maxDynamicMetrics: 3 },
      { log },
    )
    telemetry.count('hits', -1)
    telemetry.count('hits', Number.NaN)
    telemetry.count('per_key', 1, { key: 'a' })
    telemetry.count('per_key', 1, { key: 'b' })
    telemetry.count('per_key', 1, { key: 'c' })
    telemetry.count('per_key', 1, { other: 'x' })
    telemetry.count('per_key', 1)
    telemetry.count('policy_decisions', 1)
    telemetry.count('bad_label', 1, { 'a-b': 'x' })
    telemetry.count('one_too_many', 1)
    const out = await text(telemetry)
    expect(sampleValue(out, 'gw_per_key_total', { key: 'a' })).toBe(1)
    expect(sampleValue(out, 'gw_per_key_total', { key: 'c' })).toBeUndefined()
    expect(sampleValue(out, 'gw_policy_decisions_total')).toBeUndefined()
    expect(sampleValue(out, 'gw_telemetry_dropped_total', { reason: 'invalid-value' })).toBe(2)
    expect(sampleValue(out, 'gw_telemetry_dropped_total', { reason: 'too-many-series' })).toBe(1)
    expect(sampleValue(out, 'gw_telemetry_dropped_total', { reason: 'label-mismatch' })).toBe(3)
    expect(sampleValue(out, 'gw_telemetry_dropped_total', { reason: 'name-conflict' })).toBe(1)
    expect(sampleValue(out, 'gw_telemetry_dropped_total', { reason: 'too-many-metrics' })).toBe(1)
    expect(log.entries.filter((r) => r.msg === 'telemetry record dropped').length).toBeGreaterThan(0)
  })
})

describe('createPrometheusTelemetry', () => {
  it('rejects invalid options with every issue', () => {
    expect(() => createPrometheusTelemetry({ buckets: [1, 0.5], prefix: '1x' })).toThrowError(
      expect.objectContaining({
        code: 'GW_ERR_METRICS_CONFIG',
        message: expect.stringMatching(/buckets[\s\S]*prefix|prefix[\s\S]*buckets/),
      }),
    )
  })

  it('refuses a second sink on the same registry with a coded error', () => {
    const registry = new Registry()
    createPrometheusTelemetry({ defaultMetrics: false }, { registry })
    expect(() => createPrometheusTelemetry({ defaultMetrics: false }, { registry })).toThrowError(
      expect.objectContaining({ code: 'GW_ERR_METRICS_CONFLICT' }),
    )
  })

  it('collects process and event-loop metrics with default labels', async () => {
    const telemetry = createPrometheusTelemetry({ defaultLabels: { instance: 'gw-1' } })
    const out = await text(telemetry)
    expect(out).toContain('# TYPE nodejs_eventloop_lag_seconds gauge')
    expect(out).toMatch(/process_cpu_user_seconds_total\{instance="gw-1"\} /)
  })
})
