import { type DecisionRecord, type Exchange, type Logger, noopLogger, type Telemetry } from '@gw/core'
import { collectIssues, formatIssues } from '@gw/core/config'
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client'
import { decisionsKey } from '../decisions.js'
import { metricsErrors } from '../errors.js'
import { traceContextKey } from '../trace-context/index.js'
import { type Exposition, renderExposition } from './exposition.js'
import { isLabelName, sanitizeMetricName } from './labels.js'
import { RequestFamilies } from './request-series.js'
import {
  type PrometheusTelemetryConfig,
  type PrometheusTelemetryOptions,
  prometheusTelemetrySchema,
} from './schema.js'

/** prom-client gauges whose `_total` suffix promtool rejects; each is the sum of a by-type gauge that stays. */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

interface DynamicFamily {
  readonly metric: Counter<string> | Histogram<string>
  readonly labelNames: readonly string[]
  readonly series: Set<string>
}

type DropReason =
  | 'too-many-metrics'
  | 'too-many-series'
  | 'label-mismatch'
  | 'invalid-value'
  | 'name-conflict'

/** Start-up services of {@link createPrometheusTelemetry}. */
export interface PrometheusTelemetryDeps {
  /** The registry to register into; a new one by default. Never switch its content type: gw negotiates per scrape. */
  registry?: Registry
  /** Logger for sink warnings (dropped telemetry). Decision records go through each request's logger. */
  log?: Logger
}

/**
 * A {@link Telemetry} sink backed by prom-client: counts policy decisions (`gw_policy_decisions_total`),
 * turns `count()` / `observe()` calls of other packages into counters and histograms with bounded series,
 * owns the per-request families the `metrics` policy records into, and renders the registry as Prometheus
 * text or OpenMetrics. Build it with {@link createPrometheusTelemetry}.
 *
 * @example
 * ```ts
 * const telemetry = createPrometheusTelemetry({ defaultLabels: { instance: 'gw-1' } })
 * const gw = await createGateway({ telemetry, policies: [metrics({ exposition: { on: 'listener', port: 9090 } })], routes })
 * ```
 */
export class PrometheusTelemetry implements Telemetry {
  readonly enabled = true
  readonly registry: Registry
  readonly config: PrometheusTelemetryConfig
  readonly #log: Logger
  readonly #decisions: Counter<'policy' | 'outcome'>
  readonly #decisionLabels = new Map<string, { policy: string; outcome: string }>()
  readonly #dropped: Counter<'reason'>
  readonly #dynamic = new Map<string, DynamicFamily | null>()
  readonly #warned = new Set<string>()
  #requests: RequestFamilies | undefined
  #upstreamDuration: Histogram<'upstream' | 'target' | 'status_class'> | undefined

  constructor(config: PrometheusTelemetryConfig, deps: PrometheusTelemetryDeps = {}) {
    this.config = config
    this.registry = deps.registry ?? new Registry()
    this.#log = deps.log ?? noopLogger
    const p = config.prefix
    if (Object.keys(config.defaultLabels).length > 0) this.registry.setDefaultLabels(config.defaultLabels)
    this.#decisions = this.#register(
      () =>
        new Counter({
          name: `${p}policy_decisions_total`,
          help: 'Decisions reported by policies (deny, report: a denial let through in report mode, allow).',
          labelNames: ['policy', 'outcome'],
          registers: [this.registry],
        }),
    )
    this.#dropped = this.#register(
      () =>
        new Counter({
          name: `${p}telemetry_dropped_total`,
          help: 'Telemetry records dropped to keep label cardinality bounded or because they were invalid.',
          labelNames: ['reason'],
          registers: [this.registry],
        }),
    )
    if (
      config.defaultMetrics &&
      this.registry.getSingleMetric('process_cpu_user_seconds_total') === undefined
    ) {
      collectDefaultMetrics({
        register: this.registry,
        eventLoopMonitoringPrecision: config.eventLoopMonitoringPrecision,
      })
      for (const name of MISNAMED_DEFAULT_GAUGES) this.registry.removeSingleMetric(name)
    }
  }

  /**
   * The request families (gw_http_requests_total, durations, bytes, in-flight, upstream errors), registered on first
   * use by the `metrics` policy.
   */
  get requests(): RequestFamilies {
    this.#requests ??= this.#register(
      () => new RequestFamilies(this.registry, this.config.prefix, this.config.buckets),
    )
    return this.#requests
  }

  /** `gw_upstream_request_duration_seconds`, registered on first use by `instrumentUpstream`. */
  get upstreamDuration(): Histogram<'upstream' | 'target' | 'status_class'> {
    this.#upstreamDuration ??= this.#register(
      () =>
        new Histogram({
          name: `${this.config.prefix}upstream_request_duration_seconds`,
          help: 'Time from forwarding a request to receiving the upstream response headers, in seconds.',
          labelNames: ['upstream', 'target', 'status_class'],
          buckets: this.config.buckets,
          registers: [this.registry],
        }),
    )
    return this.#upstreamDuration
  }

  decision(ex: Exchange, record: DecisionRecord): void {
    const key = record.policy + '\u0000' + record.outcome
    let labels = this.#decisionLabels.get(key)
    if (labels === undefined) {
      if (this.#decisionLabels.size >= this.config.maxSeriesPerMetric) {
        this.#drop('too-many-series', 'decisions')
      } else {
        labels = { policy: record.policy, outcome: record.outcome }
        this.#decisionLabels.set(key, labels)
      }
    }
    if (labels !== undefined) this.#decisions.inc(labels, 1)
    const list = ex.get(decisionsKey)
    if (list === undefined) ex.set(decisionsKey, [record])
    else list.push(record)
    const logMode = this.config.logDecisions
    if (logMode === 'all' || (logMode === 'deny' && record.outcome !== 'allow')) {
      const traceId = ex.get(traceContextKey)?.traceId
      ex.log.info(
        traceId === undefined ? { decision: record } : { decision: record, traceId },
        'policy decision',
      )
    }
  }

  count(name: string, value: number, labels?: Record<string, string>): void {
    if (!Number.isFinite(value) || value < 0) {
      this.#drop('invalid-value', name)
      return
    }
    const family = this.#family(name, 'counter', labels)
    if (family === undefined) return
    const l = this.#checkSeries(family, name, labels)
    if (l !== undefined) (family.metric as Counter<string>).inc(l, value)
  }

  observe(name: string, value: number, labels?: Record<string, string>): void {
    if (!Number.isFinite(value)) {
      this.#drop('invalid-value', name)
      return
    }
    const family = this.#family(name, 'histogram', labels)
    if (family === undefined) return
    const l = this.#checkSeries(family, name, labels)
    if (l !== undefined) (family.metric as Histogram<string>).observe(l, value)
  }

  /**
   * Renders the registry for a scrape, choosing Prometheus text or OpenMetrics from the `Accept` header.
   *
   * @example
   * ```ts
   * const { contentType, body } = await telemetry.render('application/openmetrics-text; version=1.0.0')
   * ```
   */
  render(accept: string | undefined): Promise<Exposition> {
    return renderExposition(this.registry, accept)
  }

  #register<T>(make: () => T): T {
    try {
      return make()
    } catch (error) {
      throw metricsErrors.conflict.create(
        `${(error as Error).message}: use one PrometheusTelemetry per registry`,
        { cause: error },
      )
    }
  }

  #family(
    name: string,
    kind: 'counter' | 'histogram',
    labels: Record<string, string> | undefined,
  ): DynamicFamily | undefined {
    const key = kind + ':' + name
    const known = this.#dynamic.get(key)
    if (known !== undefined) return known ?? undefined
    if (this.#dynamic.size >= this.config.maxDynamicMetrics) {
      this.#drop('too-many-metrics', name)
      return undefined
    }
    const labelNames = labels === undefined ? [] : Object.keys(labels).sort()
    const base =
      this.config.prefix +
      sanitizeMetricName(name.startsWith(this.config.prefix) ? name.slice(this.config.prefix.length) : name)
    const metricName = kind === 'counter' && !base.endsWith('_total') ? base + '_total' : base
    if (!labelNames.every(isLabelName) || this.registry.getSingleMetric(metricName) !== undefined) {
      this.#dynamic.set(key, null)
      this.#drop(labelNames.every(isLabelName) ? 'name-conflict' : 'label-mismatch', name)
      return undefined
    }
    const help = `Reported by policies through telemetry ${kind === 'counter' ? 'count' : 'observe'}('${name}').`
    const metric =
      kind === 'counter'
        ? new Counter({ name: metricName, help, labelNames, registers: [this.registry] })
        : new Histogram({ name: metricName, help, labelNames, registers: [this.registry] })
    const family: DynamicFamily = { metric, labelNames, series: new Set() }
    this.#dynamic.set(key, family)
    return family
  }

  #checkSeries(
    family: DynamicFamily,
    name: string,
    labels: Record<string, string> | undefined,
  ): Record<string, string> | undefined {
    const names = family.labelNames
    if (names.length === 0) {
      if (labels !== undefined && Object.keys(labels).length > 0) {
        this.#drop('label-mismatch', name)
        return undefined
      }
      return {}
    }
    if (labels === undefined || Object.keys(labels).length !== names.length) {
      this.#drop('label-mismatch', name)
      return undefined
    }
    let seriesKey = ''
    for (const n of names) {
      const v = labels[n]
      if (typeof v !== 'string') {
        this.#drop('label-mismatch', name)
        return undefined
      }
      seriesKey += v + '\u0000'
    }
    if (!family.series.has(seriesKey)) {
      if (family.series.size >= this.config.maxSeriesPerMetric) {
        this.#drop('too-many-series', name)
        return undefined
      }
      family.series.add(seriesKey)
    }
    return labels
  }

  #drop(reason: DropReason, name: string): void {
    this.#dropped.inc({ reason }, 1)
    const key = reason + ':' + name
    if (this.#warned.has(key) || this.#warned.size > 1000) return
    this.#warned.add(key)
    this.#log.warn({ metric: name, reason }, 'telemetry record dropped')
  }
}

/**
 * Creates the Prometheus telemetry sink; pass it to `createGateway({ telemetry })`. Options are validated
 * (`GW_ERR_METRICS_CONFIG` lists every issue).
 *
 * @example
 * ```ts
 * import { createGateway } from '@gw/core'
 * import { createPrometheusTelemetry, metrics } from '@gw/metrics'
 *
 * const telemetry = createPrometheusTelemetry()
 * const gw = await createGateway({ telemetry, policies: [metrics()], routes })
 * ```
 */
export function createPrometheusTelemetry(
  options: PrometheusTelemetryOptions = {},
  deps: PrometheusTelemetryDeps = {},
): PrometheusTelemetry {
  const parsed = prometheusTelemetrySchema.safeParse(options)
  if (!parsed.success) {
    const issues = collectIssues(parsed.error, 'telemetry')
    throw metricsErrors.config.create(`invalid Prometheus telemetry options:\n${formatIssues(issues)}`, {
      extensions: { issues },
    })
  }
  return new PrometheusTelemetry(parsed.data, deps)
}
