import {
  definePolicy,
  type Exchange,
  type GwResponse,
  type PolicyHandlers,
  type SetupContext,
} from '@gw/core'
import { metricsErrors } from '../errors.js'
import { methodIndex, statusClassIndex, upstreamErrorKind } from '../prometheus/labels.js'
import {
  adminMetricsHandler,
  type MetricsServer,
  metricsHandler,
  startMetricsServer,
} from '../prometheus/server.js'
import { PrometheusTelemetry } from '../prometheus/telemetry.js'
import { rememberResponseLength, responseBytes } from '../response-length.js'
import { metricsSchema } from './schema.js'

declare module '@gw/core' {
  interface Resources {
    /** The Prometheus sink the `metrics` policy records into, when it is not the gateway's telemetry. */
    metrics: PrometheusTelemetry
  }
}

/**
 * The sink a policy records into: the gateway's telemetry when it is a {@link PrometheusTelemetry}, else the
 * `metrics` resource. Throws `GW_ERR_METRICS_NO_SINK` at start-up otherwise.
 *
 * @example
 * ```ts
 * create(config, setup) { const sink = resolvePrometheusTelemetry(setup) }
 * ```
 */
export function resolvePrometheusTelemetry(setup: SetupContext): PrometheusTelemetry {
  if (setup.telemetry instanceof PrometheusTelemetry) return setup.telemetry
  if (setup.has('metrics')) return setup.need('metrics')
  throw metricsErrors.noSink.create(
    `policy '${setup.policy}' needs createGateway({ telemetry: createPrometheusTelemetry() }) or resources.metrics`,
  )
}

/**
 * RED metrics for every request that enters it, recorded in `onComplete` (durations include streaming the
 * body; aborted requests count as 499): `gw_http_requests_total`, `gw_http_request_duration_seconds`,
 * `gw_http_request_bytes_total`, `gw_http_response_bytes_total` by route id, method (a fixed set, else `other`), status
 * class and upstream; `gw_http_requests_in_flight` by route; `gw_upstream_errors_total` by upstream and kind. Also
 * serves the scrape endpoint (a separate listener by default). Put it first in the gateway-level policies.
 *
 * @example
 * ```ts
 * const telemetry = createPrometheusTelemetry()
 * await createGateway({
 *   telemetry,
 *   policies: [metrics({ enabled: process.env.METRICS_ENABLED !== 'false', port: Number(process.env.PROMETHEUS_PORT ?? 9090) })],
 *   routes,
 * })
 * ```
 */
export const metrics = definePolicy({
  name: 'metrics',
  stage: 'observe',
  description:
    'Prometheus RED metrics per route, method, status class and upstream, and the /metrics endpoint.',
  schema: metricsSchema,
  async create(config, setup): Promise<PolicyHandlers> {
    if (!config.enabled) return {}
    const sink = resolvePrometheusTelemetry(setup)
    const families = sink.requests
    let server: MetricsServer | undefined
    if (config.exposition === 'listener') {
      server = await startMetricsServer(sink, {
        port: config.port,
        host: config.host,
        path: config.path,
        log: setup.log,
      })
    }
    if (config.exposition === 'admin') {
      if (setup.admin === undefined)
        throw metricsErrors.noAdmin.create(
          `policy '${setup.policy}' has exposition 'admin' but the gateway has no admin listener (set admin: { port, apiKey })`,
        )
      setup.admin.mount('GET', config.path, adminMetricsHandler(sink))
    }
    const scrapePath = config.exposition === 'gateway' ? config.path : undefined
    const scrape = metricsHandler(sink)
    const answer = async (ex: Exchange): Promise<{ respond: GwResponse }> => ({ respond: await scrape(ex) })
    return {
      onRequest(ex) {
        families.route(ex.route).inFlight++
        if (
          scrapePath !== undefined &&
          ex.request.path === scrapePath &&
          (ex.request.method === 'GET' || ex.request.method === 'HEAD')
        ) {
          return answer(ex)
        }
        return undefined
      },
      onResponse(ex, res) {
        rememberResponseLength(ex, res)
      },
      onComplete(ex, outcome) {
        const series = families.route(ex.route)
        series.inFlight--
        const length = ex.request.headers['content-length']
        let bytesIn = 0
        if (length !== undefined) {
          const n = Number(length)
          if (n > 0 && Number.isSafeInteger(n)) bytesIn = n
        }
        const cell = series.cell(methodIndex(ex.request.method), statusClassIndex(outcome.status))
        series.record(cell, outcome.durationMs / 1000, bytesIn, responseBytes(ex, outcome))
        const error = outcome.error
        if (error !== undefined && outcome.respondedBy === undefined && ex.route.upstream !== undefined) {
          const kind = upstreamErrorKind(error.code)
          if (kind !== undefined) series.upstreamError(kind).value++
        }
      },
      ...(server ? { close: () => server.close() } : {}),
    }
  },
})
