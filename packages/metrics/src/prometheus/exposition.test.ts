import { Counter, Gauge, Histogram, Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { parseSamples } from '../../test/helpers.js'
import { negotiateFormat, OPENMETRICS_TYPE, PROMETHEUS_TEXT_TYPE, renderExposition } from './exposition.js'

const PROMETHEUS_2_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

describe('negotiateFormat', () => {
  it('serves OpenMetrics to Prometheus servers that ask for it', () => {
    expect(negotiateFormat(PROMETHEUS_2_ACCEPT)).toBe('openmetrics')
    expect(negotiateFormat('application/openmetrics-text')).toBe('openmetrics')
    expect(negotiateFormat('application/openmetrics-text; version=0.0.1')).toBe('openmetrics')
  })

  it('serves Prometheus text otherwise', () => {
    expect(negotiateFormat(undefined)).toBe('prometheus')
    expect(negotiateFormat('*/*')).toBe('prometheus')
    expect(negotiateFormat('text/plain;version=0.0.4')).toBe('prometheus')
    expect(negotiateFormat('application/json')).toBe('prometheus')
    expect(negotiateFormat('application/openmetrics-text;q=0')).toBe('prometheus')
    expect(negotiateFormat('application/openmetrics-text;version=2.0.0')).toBe('prometheus')
    expect(negotiateFormat('application/openmetrics-text;q=0.4,text/plain;q=0.9')).toBe('prometheus')
  })
})

function registryWithSamples(): Registry {
  const registry = new Registry()
  const counter = new Counter({
    name: 'demo_requests_total',
    help: 'Help with "quotes", a \\ backslash\nand a newline',
    labelNames: ['route'],
    registers: [registry],
  })
  counter.inc({ route: 'a"b\\c\nd' }, 3)
  new Gauge({ name: 'demo_in_flight', help: 'g', registers: [registry] }).set(2)
  const histogram = new Histogram({
    name: 'demo_duration_seconds',
    help: 'h',
    buckets: [0.1, 1],
    labelNames: ['route'],
    registers: [registry],
  })
  histogram.observe({ route: 'x' }, 0.05)
  histogram.observe({ route: 'x' }, 0.5)
  histogram.observe({ route: 'x' }, 5)
  return registry
}

describe('renderExposition', () => {
  it('renders OpenMetrics: counter family without _total, samples with it, escaped labels, # EOF', async () => {
    const registry = registryWithSamples()
    const { contentType, body } = await renderExposition(
      registry,
      'application/openmetrics-text; version=1.0.0',
    )
    expect(contentType).toBe(OPENMETRICS_TYPE)
    expect(body).toContain('# TYPE demo_requests counter\n')
    expect(body).toContain('# HELP demo_requests Help with \\"quotes\\", a \\\\ backslash\\nand a newline\n')
    expect(body).toContain('demo_requests_total{route="a\\"b\\\\c\\nd"} 3\n')
    expect(body).toContain('# TYPE demo_duration_seconds histogram\n')
    expect(body).toContain('demo_duration_seconds_bucket{le="0.1",route="x"} 1\n')
    expect(body).toContain('demo_duration_seconds_bucket{le="1",route="x"} 2\n')
    expect(body).toContain('demo_duration_seconds_bucket{le="+Inf",route="x"} 3\n')
    expect(body).toContain('demo_duration_seconds_count{route="x"} 3\n')
    expect(body).toContain('demo_in_flight 2\n')
    expect(body.endsWith('\n# EOF\n')).toBe(true)
    expect(body.match(/# EOF/g)).toHaveLength(1)
  })

  it('keeps the registry in Prometheus text mode after an OpenMetrics scrape', async () => {
    const registry = registryWithSamples()
    await renderExposition(registry, 'application/openmetrics-text')
    const { contentType, body } = await renderExposition(registry, undefined)
    expect(contentType).toBe(PROMETHEUS_TEXT_TYPE)
    expect(body).toContain('# TYPE demo_requests_total counter')
    const samples = parseSamples(body)
    expect(samples.find((s) => s.name === 'demo_requests_total')?.labels.route).toBe('a"b\\c\nd')
    expect(body).not.toContain('# EOF')
  })
})
