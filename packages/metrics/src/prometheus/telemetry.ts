import {
  collectIssues,
  type DecisionRecord,
  type Exchange,
  formatIssues,
  type Logger,
  noopLogger,
  type RouteInfo,
  type Telemetry,
} from '@gw/core'
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import { decisionsKey } from '../decisions.js'
import { metricsErrors } from '../errors.js'
import { type Exposition, renderExposition } from './exposition.js'
import { isLabelName, METHOD_LABELS, STATUS_CLASS_LABELS, sanitizeMetricName } from './labels.js'
import {
  type PrometheusTelemetryConfig,
  type PrometheusTelemetryOptions,
  prometheusTelemetrySchema,
} from './schema.js'

type RequestLabel = 'route' | 'method' | 'status_class' | 'upstream'
type RequestLabels = Record<RequestLabel, string>

/** The per-request metric families, created once per sink. */
export interface HttpMetrics {
  readonly requests: Counter<RequestLabel>
  readonly duration: Histogram<RequestLabel>
  readonly requestBytes: Counter<RequestLabel>
  readonly responseBytes: Counter<RequestLabel>
  readonly inFlight: Gauge<'route'>
  readonly upstreamErrors: Counter<'upstream' | 'kind'>
  readonly upstreamDuration: Histogram<'upstream' | 'target' | 'status_class'>
}

/**
 * prom-client gauges whose `_total` suffix promtool rejects; each is the sum of a by-type gauge that stays
 * (`nodejs_active_handles{type}`, ...).
 */
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
]

const CELLS = METHOD_LABELS.length * STATUS_CLASS_LABELS.length

/** Label objects of one route, built once and reused for every request of the route. */
export class RouteSeries {
  readonly route: { route: string }
  readonly #routeId: string
  readonly #upstream: string
  readonly #cells: (RequestLabels | undefined)[] = new Array(CELLS)
  readonly #errors = new Map<string, { upstream: string; kind: string }>()

  constructor(route: RouteInfo) {
    this.#routeId = route.id
    this.#upstream = route.upstream ?? 'none'
    this.route = { route: route.id }
  }

  /** Labels for a method index and status-class index (see labels.ts). */
  labels(method: number, statusClass: number): RequestLabels {
    const i = method * STATUS_CLASS_LABELS.length + statusClass
    let cell = this.#cells[i]
    if (cell === undefined) {
      cell = {
        route: this.#routeId,
        method: METHOD_LABELS[method]!,
        status_class: STATUS_CLASS_LABELS[statusClass]!,
        upstream: this.#upstream,
      }
      this.#cells[i] = cell
    }
    return cell
  }

  /** Labels of `gw_upstream_errors_total` for this route's upstream and an error kind. */
  upstreamError(kind: string): { upstream: string; kind: string } {
    let labels = this.#errors.get(kind)
    if (labels === undefined) {
      labels = { upstream: this.#upstream, kind }
      this.#errors.set(kind, labels)
    }
    return labels
  }
}

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
  #http: HttpMetrics | undefined
  readonly #routes = new Map<string, RouteSeries>()

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

  /** The request families (gw_requests_total, durations, bytes, in-flight, upstream errors), created on first use. */
  get http(): HttpMetrics {
    this.#http ??= this.#createHttp()
    return this.#http
  }

  /** Label objects of a route, cached by route id (route ids are bounded by the configuration). */
  routeSeries(route: RouteInfo): RouteSeries {
    let series = this.#routes.get(route.id)
    if (series === undefined) {
      series = new RouteSeries(route)
      this.#routes.set(route.id, series)
    }
    return series
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
      ex.log.info({ decision: record }, 'policy decision')
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

  #createHttp(): HttpMetrics {
    const p = this.config.prefix
    const registers = [this.registry]
    const labelNames: RequestLabel[] = ['route', 'method', 'status_class', 'upstream']
    return {
      requests: this.#register(
        () =>
          new Counter({
            name: `${p}requests_total`,
            help: 'Requests completed, by route id, method, status class and upstream.',
            labelNames,
            registers,
          }),
      ),
      duration: this.#register(
        () =>
          new Histogram({
            name: `${p}request_duration_seconds`,
            help: 'Time from request arrival to the last response byte (or abort), in seconds.',
            labelNames,
            buckets: this.config.buckets,
            registers,
          }),
      ),
      requestBytes: this.#register(
        () =>
          new Counter({
            name: `${p}request_bytes_total`,
            help: 'Request body bytes announced by Content-Length.',
            labelNames,
            registers,
          }),
      ),
      responseBytes: this.#register(
        () =>
          new Counter({
            name: `${p}response_bytes_total`,
            help: 'Response body bytes written to clients.',
            labelNames,
            registers,
          }),
      ),
      inFlight: this.#register(
        () =>
          new Gauge({
            name: `${p}requests_in_flight`,
            help: 'Requests received and not yet completed, by route id.',
            labelNames: ['route'],
            registers,
          }),
      ),
      upstreamErrors: this.#register(
        () =>
          new Counter({
            name: `${p}upstream_errors_total`,
            help: 'Upstream failures by upstream and kind (connect, reset, protocol, timeout, ...).',
            labelNames: ['upstream', 'kind'],
            registers,
          }),
      ),
      upstreamDuration: this.#register(
        () =>
          new Histogram({
            name: `${p}upstream_request_duration_seconds`,
            help: 'Time from forwarding a request to receiving the upstream response headers, in seconds.',
            labelNames: ['upstream', 'target', 'status_class'],
            buckets: this.config.buckets,
            registers,
          }),
      ),
    }
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
