import { coreErrors, definePolicy, noopTelemetry, respond, z } from '@gw/core'
import { createManualClock, createTestPipeline, runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { sampleValue } from '../../test/helpers.js'
import { createPrometheusTelemetry } from '../prometheus/telemetry.js'
import { metrics } from './index.js'

const route = { id: 'users', pattern: '/api/users/:id', upstream: 'users' }

describe('metrics policy', () => {
  it('records RED metrics by route id, method, status class and upstream, never the raw path', async () => {
    const clock = createManualClock()
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    let status = 200
    const pipeline = await createTestPipeline([metrics({ exposition: 'none' })], {
      clock,
      telemetry,
      upstream: () => {
        clock.advance(30)
        return { status, headers: {}, body: 'hello' }
      },
    })
    await pipeline.run({ url: '/api/users/1', route })
    await pipeline.run({ url: '/api/users/2', route })
    status = 503
    await pipeline.run({ url: '/api/users/3', method: 'POST', route, body: '{"a":1}' })
    await pipeline.run({ url: '/api/users/4', method: 'PROPFIND', route })
    const out = await telemetry.registry.metrics()
    const ok = { route: 'users', method: 'GET', status_class: '2xx', upstream: 'users' }
    expect(sampleValue(out, 'gw_http_requests_total', ok)).toBe(2)
    expect(sampleValue(out, 'gw_http_requests_total', { ...ok, method: 'POST', status_class: '5xx' })).toBe(1)
    expect(sampleValue(out, 'gw_http_requests_total', { ...ok, method: 'other', status_class: '5xx' })).toBe(
      1,
    )
    expect(sampleValue(out, 'gw_http_request_duration_seconds_bucket', { ...ok, le: '0.025' })).toBe(0)
    expect(sampleValue(out, 'gw_http_request_duration_seconds_bucket', { ...ok, le: '0.05' })).toBe(2)
    expect(sampleValue(out, 'gw_http_request_duration_seconds_sum', ok)).toBeCloseTo(0.06)
    expect(sampleValue(out, 'gw_http_response_bytes_total', ok)).toBe(10)
    expect(
      sampleValue(out, 'gw_http_request_bytes_total', { ...ok, method: 'POST', status_class: '5xx' }),
    ).toBe(7)
    expect(sampleValue(out, 'gw_http_requests_in_flight', { route: 'users' })).toBe(0)
    expect(out).not.toContain('/api/users/1')
    await pipeline.close()
  })

  it('counts upstream failures by kind, but not local denials', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    let error = coreErrors.upstreamTimeout.create()
    const pipeline = await createTestPipeline([metrics({ exposition: 'none' })], {
      telemetry,
      upstream: () => {
        throw error
      },
    })
    expect((await pipeline.run({ route })).status).toBe(504)
    error = coreErrors.upstreamUnavailable.create()
    expect((await pipeline.run({ route })).status).toBe(502)
    const out = await telemetry.registry.metrics()
    expect(sampleValue(out, 'gw_upstream_errors_total', { upstream: 'users', kind: 'timeout' })).toBe(1)
    expect(sampleValue(out, 'gw_upstream_errors_total', { upstream: 'users', kind: 'connect' })).toBe(1)
    expect(sampleValue(out, 'gw_http_requests_total', { status_class: '5xx' })).toBe(2)
    await pipeline.close()
  })

  it('puts a duration equal to a bucket bound into that bucket (le) and sums upstream errors across routes', async () => {
    const clock = createManualClock()
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false, buckets: [0.05, 0.1] })
    const pipeline = await createTestPipeline([metrics({ exposition: 'none' })], {
      clock,
      telemetry,
      upstream: (ex) => {
        clock.advance(50)
        if (ex.request.path === '/fail') throw coreErrors.upstreamReset.create()
        return { status: 200, headers: {}, body: null }
      },
    })
    await pipeline.run({ route })
    await pipeline.run({ url: '/fail', route })
    await pipeline.run({ url: '/fail', route: { ...route, id: 'users-v2' } })
    const out = await telemetry.registry.metrics()
    const ok = { route: 'users', status_class: '2xx' }
    expect(sampleValue(out, 'gw_http_request_duration_seconds_bucket', { ...ok, le: '0.05' })).toBe(1)
    expect(sampleValue(out, 'gw_http_request_duration_seconds_bucket', { ...ok, le: '0.1' })).toBe(1)
    expect(sampleValue(out, 'gw_http_request_duration_seconds_bucket', { ...ok, le: '+Inf' })).toBe(1)
    expect(sampleValue(out, 'gw_upstream_errors_total', { upstream: 'users', kind: 'reset' })).toBe(2)
    await pipeline.close()
  })

  it('keeps the in-flight gauge up while a request is running', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    let seen: number | undefined
    await runPipeline(
      [metrics({ exposition: 'none' })],
      { route },
      {
        telemetry,
        upstream: async () => {
          seen = sampleValue(await telemetry.registry.metrics(), 'gw_http_requests_in_flight', {
            route: 'users',
          })
          return { status: 200, headers: {}, body: null }
        },
      },
    )
    expect(seen).toBe(1)
    expect(
      sampleValue(await telemetry.registry.metrics(), 'gw_http_requests_in_flight', { route: 'users' }),
    ).toBe(0)
  })

  it('serves the scrape on the gateway path with content negotiation', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const pipeline = await createTestPipeline([metrics({ exposition: 'gateway', path: '/metrics' })], {
      telemetry,
    })
    await pipeline.run({ url: '/api/users/1', route })
    const text = await pipeline.run({ url: '/metrics' })
    expect(text.status).toBe(200)
    expect(text.upstreamCalls).toBe(0)
    expect(text.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(sampleValue(text.text, 'gw_http_requests_total', { route: 'users' })).toBe(1)
    const om = await pipeline.run({ url: '/metrics', headers: { accept: 'application/openmetrics-text' } })
    expect(om.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8')
    expect(om.text.endsWith('# EOF\n')).toBe(true)
    expect((await pipeline.run({ url: '/metrics', method: 'POST' })).upstreamCalls).toBe(1)
    await pipeline.close()
  })

  it('is a no-op when disabled (METRICS_ENABLED=false), even without a sink', async () => {
    const res = await runPipeline([metrics({ enabled: false })], { route }, { telemetry: noopTelemetry })
    expect(res.status).toBe(200)
  })

  it('fails at start-up without a Prometheus sink', async () => {
    await expect(
      runPipeline([metrics({ exposition: 'none' })], {}, { telemetry: noopTelemetry }),
    ).rejects.toMatchObject({
      code: 'GW_ERR_METRICS_NO_SINK',
    })
  })

  it('accepts the sink as the metrics resource next to another telemetry', async () => {
    const sink = createPrometheusTelemetry({ defaultMetrics: false })
    await runPipeline([metrics({ exposition: 'none' })], { route }, { resources: { metrics: sink } })
    expect(sampleValue(await sink.registry.metrics(), 'gw_http_requests_total', { route: 'users' })).toBe(1)
  })

  it("counts requests answered by a later policy under that policy's status", async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const deny = definePolicy({
      name: 'deny-all',
      stage: 'guard',
      schema: z.object({}),
      create: () => ({ onRequest: () => respond(403, { error: 'no' }) }),
    })
    await runPipeline([metrics({ exposition: 'none' }), deny({})], { route }, { telemetry })
    expect(
      sampleValue(await telemetry.registry.metrics(), 'gw_http_requests_total', { status_class: '4xx' }),
    ).toBe(1)
  })
})
