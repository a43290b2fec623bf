import type { MetricType, Registry } from 'prom-client'

/**
 * Content type of the Prometheus text format 0.0.4.
 *
 * @example
 * ```ts
 * res.writeHead(200, { 'content-type': PROMETHEUS_TEXT_TYPE })
 * ```
 */
export const PROMETHEUS_TEXT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
/**
 * Content type of OpenMetrics 1.0.0.
 *
 * @example
 * ```ts
 * if (exposition.contentType === OPENMETRICS_TYPE) console.log('OpenMetrics')
 * ```
 */
export const OPENMETRICS_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8'

/** A rendered scrape. */
export interface Exposition {
  contentType: string
  body: string
}

/** The exposition formats gw can produce. */
export type ExpositionFormat = 'prometheus' | 'openmetrics'

/**
 * Picks the exposition format for an `Accept` header: OpenMetrics when `application/openmetrics-text`
 * (version 1.0.0, 0.0.1 or unversioned) is accepted with a quality at least that of `text/plain`; Prometheus
 * text otherwise, including for absent, wildcard or unsupported Accept values.
 *
 * @example
 * ```ts
 * negotiateFormat('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5') // 'openmetrics'
 * negotiateFormat(undefined) // 'prometheus'
 * ```
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || !accept.includes('openmetrics')) return 'prometheus'
  let om = 0
  let text = 0
  for (const range of accept.split(',')) {
    const parts = range.split(';')
    const type = parts[0]!.trim().toLowerCase()
    let q = 1
    let version: string | undefined
    for (let i = 1; i < parts.length; i++) {
      const eq = parts[i]!.indexOf('=')
      if (eq === -1) continue
      const name = parts[i]!.slice(0, eq).trim().toLowerCase()
      const value = parts[i]!.slice(eq + 1).trim()
      if (name === 'q') {
        const n = Number(value)
        q = Number.isFinite(n) && n >= 0 && n <= 1 ? n : 0
      } else if (name === 'version') version = value
    }
    if (type === 'application/openmetrics-text') {
      if (version === undefined || version === '1.0.0' || version === '0.0.1') om = Math.max(om, q)
    } else if (type === 'text/plain') {
      if (version === undefined || version === '0.0.4') text = Math.max(text, q)
    }
  }
  return om > 0 && om >= text ? 'openmetrics' : 'prometheus'
}

/**
 * Renders a registry in the format the `Accept` header asks for. The registry must stay in Prometheus text
 * mode: OpenMetrics is rendered here from `getMetricsAsJSON()` so that both formats can be served from one
 * registry without mutating it.
 *
 * @example
 * ```ts
 * const { contentType, body } = await renderExposition(registry, req.headers.accept)
 * ```
 */
export async function renderExposition(registry: Registry, accept: string | undefined): Promise<Exposition> {
  if (negotiateFormat(accept) === 'openmetrics') {
    return { contentType: OPENMETRICS_TYPE, body: renderOpenMetrics(await registry.getMetricsAsJSON()) }
  }
  return { contentType: PROMETHEUS_TEXT_TYPE, body: await registry.metrics() }
}

/** The shape of one metric family as prom-client's `getMetricsAsJSON()` returns it. */
export interface MetricFamilyJson {
  name: string
  help: string
  type: MetricType | string
  values: readonly {
    value: number
    labels: Readonly<Partial<Record<string, string | number>>>
    metricName?: string
  }[]
}

const OM_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary'])

/**
 * Renders metric families as OpenMetrics 1.0 text: counter families are named without `_total` and their
 * samples with it, label values and help are escaped, and the output ends with `# EOF`.
 *
 * @example
 * ```ts
 * renderOpenMetrics(await registry.getMetricsAsJSON()).endsWith('# EOF\n') // true
 * ```
 */
export function renderOpenMetrics(families: readonly MetricFamilyJson[]): string {
  let out = ''
  for (const family of families) {
    const type = OM_TYPES.has(String(family.type)) ? String(family.type) : 'unknown'
    const isCounter = type === 'counter'
    const name = isCounter && family.name.endsWith('_total') ? family.name.slice(0, -6) : family.name
    out += `# TYPE ${name} ${type}\n# HELP ${name} ${escapeText(family.help)}\n`
    for (const sample of family.values) {
      const sampleName = isCounter ? name + '_total' : (sample.metricName ?? name)
      out += sampleName + formatLabels(sample.labels) + ' ' + formatValue(sample.value) + '\n'
    }
  }
  return out + '# EOF\n'
}

function formatLabels(labels: Readonly<Partial<Record<string, string | number>>>): string {
  let out = ''
  for (const key in labels) {
    const v = labels[key]
    if (v === undefined) continue
    out += (out === '' ? '' : ',') + key + '="' + escapeText(typeof v === 'number' ? formatValue(v) : v) + '"'
  }
  return out === '' ? '' : '{' + out + '}'
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}

function escapeText(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : '\\' + c))
}
