import type { RouteInfo } from '@gw/core'
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import { METHOD_LABELS, STATUS_CLASS_LABELS } from './labels.js'

type RequestLabel = 'route' | 'method' | 'status_class' | 'upstream'
/** Label values of one request series. */
export type RequestLabels = Readonly<Record<RequestLabel, string>>

/**
 * Running totals of one (route, method, status class) series: plain numbers, exported at scrape time.
 *
 * @example
 * ```ts
 * const cell = telemetry.requests.route(ex.route).cell(methodIndex('GET'), statusClassIndex(200))
 * cell.count // requests recorded so far
 * ```
 */
export class RequestCell {
  readonly labels: RequestLabels
  count = 0
  sum = 0
  bytesIn = 0
  bytesOut = 0
  /** Observations per bucket (not cumulative); the last slot is +Inf. */
  readonly buckets: number[]

  constructor(labels: RequestLabels, bucketCount: number) {
    this.labels = labels
    this.buckets = new Array<number>(bucketCount + 1).fill(0)
  }
}

/** An upstream error series shared by every route of the upstream. */
export interface ErrorCell {
  readonly labels: Readonly<{ upstream: string; kind: string }>
  value: number
}

const CELLS = METHOD_LABELS.length * STATUS_CLASS_LABELS.length

/**
 * The series of one route, created on its first request and reused for every later one.
 *
 * @example
 * ```ts
 * const series = telemetry.requests.route(ex.route)
 * series.record(series.cell(0, 1), 0.012, 0, 512)
 * ```
 */
export class RouteSeries {
  readonly routeId: string
  readonly upstream: string
  inFlight = 0
  readonly #families: RequestFamilies
  readonly #cells: (RequestCell | undefined)[] = new Array(CELLS)
  readonly #errors = new Map<string, ErrorCell>()

  constructor(route: RouteInfo, families: RequestFamilies) {
    this.routeId = route.id
    this.upstream = route.upstream ?? 'none'
    this.#families = families
  }

  /** The cell for a method index and status-class index (see labels.ts). */
  cell(method: number, statusClass: number): RequestCell {
    const i = method * STATUS_CLASS_LABELS.length + statusClass
    return this.#cells[i] ?? this.#createCell(i, method, statusClass)
  }

  /** The `gw_upstream_errors_total` cell of this route's upstream for an error kind. */
  upstreamError(kind: string): ErrorCell {
    let cell = this.#errors.get(kind)
    if (cell === undefined) {
      cell = this.#families.errorCell(this.upstream, kind)
      this.#errors.set(kind, cell)
    }
    return cell
  }

  /** Records a completed request. */
  record(cell: RequestCell, seconds: number, bytesIn: number, bytesOut: number): void {
    cell.count++
    cell.sum += seconds
    cell.bytesIn += bytesIn
    cell.bytesOut += bytesOut
    const bounds = this.#families.buckets
    let b = 0
    while (b < bounds.length && seconds > bounds[b]!) b++
    cell.buckets[b]!++
  }

  #createCell(i: number, method: number, statusClass: number): RequestCell {
    const cell = new RequestCell(
      {
        route: this.routeId,
        method: METHOD_LABELS[method]!,
        status_class: STATUS_CLASS_LABELS[statusClass]!,
        upstream: this.upstream,
      },
      this.#families.buckets.length,
    )
    this.#cells[i] = cell
    this.#families.cells.push(cell)
    return cell
  }
}

type CounterValues = { labels: Record<string, string>; value: number }[]

/** A prom-client Counter or Gauge whose values are read from gw's own totals when scraped. */
function readAtScrape<M extends Counter<string> | Gauge<string>>(metric: M, read: () => CounterValues): M {
  const get = metric.get.bind(metric) as () => Promise<{ values: CounterValues }>
  const collected = async () => ({ ...(await get()), values: read() })
  ;(metric as unknown as { get: typeof collected }).get = collected
  return metric
}

type HistogramValues = { labels: Record<string, string | number>; value: number; metricName: string }[]

/**
 * A prom-client Histogram whose buckets are read from gw's own totals when scraped. prom-client renders
 * histograms through an undeclared `getForPromString()` that `get()` also calls, so both are answered here from
 * an unregistered twin that supplies name, help, type and aggregator.
 */
class CollectedHistogram extends Histogram<string> {
  readonly #read: () => HistogramValues
  readonly #twin: Histogram<string>
  constructor(
    name: string,
    help: string,
    labelNames: string[],
    buckets: number[],
    registry: Registry,
    read: () => HistogramValues,
  ) {
    super({ name, help, labelNames, buckets, registers: [registry] })
    this.#twin = new Histogram({ name, help, labelNames, buckets, registers: [] })
    this.#read = read
  }
  override async get(): Promise<Awaited<ReturnType<Histogram<string>['get']>>> {
    return { ...(await this.#twin.get()), values: this.#read() }
  }
  getForPromString(): Promise<Awaited<ReturnType<Histogram<string>['get']>>> {
    return this.get()
  }
}

const REQUEST_LABELS = ['route', 'method', 'status_class', 'upstream']

/**
 * The per-request families (`gw_http_requests_total`, `gw_http_request_duration_seconds`, bytes, in-flight, upstream
 * errors). Requests update plain numbers in per-route cells; the registry reads them when scraped, so the
 * hot path does no label hashing or validation. Registered like any prom-client metric (text, OpenMetrics,
 * cluster aggregation all work). Created by `PrometheusTelemetry.requests`.
 *
 * @example
 * ```ts
 * const families = telemetry.requests
 * families.route(ex.route).inFlight++
 * ```
 */
export class RequestFamilies {
  readonly buckets: readonly number[]
  readonly cells: RequestCell[] = []
  readonly #routes = new Map<string, RouteSeries>()
  readonly #errors = new Map<string, ErrorCell>()

  constructor(registry: Registry, prefix: string, buckets: readonly number[]) {
    this.buckets = buckets
    const cells = this.cells
    readAtScrape(
      new Counter({
        name: `${prefix}http_requests_total`,
        help: 'Requests completed, by route id, method, status class and upstream.',
        labelNames: REQUEST_LABELS,
        registers: [registry],
      }),
      () => cells.map((c) => ({ labels: { ...c.labels }, value: c.count })),
    )
    new CollectedHistogram(
      `${prefix}http_request_duration_seconds`,
      'Time from request arrival to the last response byte (or abort), in seconds.',
      REQUEST_LABELS,
      [...buckets],
      registry,
      () => this.#histogramValues(`${prefix}http_request_duration_seconds`),
    )
    readAtScrape(
      new Counter({
        name: `${prefix}http_request_bytes_total`,
        help: 'Request body bytes announced by Content-Length.',
        labelNames: REQUEST_LABELS,
        registers: [registry],
      }),
      () => cells.map((c) => ({ labels: { ...c.labels }, value: c.bytesIn })),
    )
    readAtScrape(
      new Counter({
        name: `${prefix}http_response_bytes_total`,
        help: 'Response body bytes written to clients.',
        labelNames: REQUEST_LABELS,
        registers: [registry],
      }),
      () => cells.map((c) => ({ labels: { ...c.labels }, value: c.bytesOut })),
    )
    readAtScrape(
      new Gauge({
        name: `${prefix}http_requests_in_flight`,
        help: 'Requests received and not yet completed, by route id.',
        labelNames: ['route'],
        registers: [registry],
      }),
      () => [...this.#routes.values()].map((r) => ({ labels: { route: r.routeId }, value: r.inFlight })),
    )
    readAtScrape(
      new Counter({
        name: `${prefix}upstream_errors_total`,
        help: 'Upstream failures by upstream and kind (connect, reset, protocol, timeout, ...).',
        labelNames: ['upstream', 'kind'],
        registers: [registry],
      }),
      () => [...this.#errors.values()].map((e) => ({ labels: { ...e.labels }, value: e.value })),
    )
  }

  /** The series of a route (route ids are bounded by the configuration). */
  route(route: RouteInfo): RouteSeries {
    let series = this.#routes.get(route.id)
    if (series === undefined) {
      series = new RouteSeries(route, this)
      this.#routes.set(route.id, series)
    }
    return series
  }

  /** The shared error cell of an upstream and kind. */
  errorCell(upstream: string, kind: string): ErrorCell {
    const key = upstream + '\u0000' + kind
    let cell = this.#errors.get(key)
    if (cell === undefined) {
      cell = { labels: { upstream, kind }, value: 0 }
      this.#errors.set(key, cell)
    }
    return cell
  }

  #histogramValues(name: string): HistogramValues {
    const out: HistogramValues = []
    const bounds = this.buckets
    for (const cell of this.cells) {
      let cumulative = 0
      for (let b = 0; b <= bounds.length; b++) {
        cumulative += cell.buckets[b]!
        out.push({
          labels: { le: b < bounds.length ? bounds[b]! : '+Inf', ...cell.labels },
          value: cumulative,
          metricName: name + '_bucket',
        })
      }
      out.push({ labels: { ...cell.labels }, value: cell.sum, metricName: name + '_sum' })
      out.push({ labels: { ...cell.labels }, value: cell.count, metricName: name + '_count' })
    }
    return out
  }
}
