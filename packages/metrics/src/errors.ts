import { defineErrors } from '@gw/core'

/**
 * Error catalogue of @gw/metrics. All of them are start-up failures except `scrapeFailed`.
 *
 * @example
 * ```ts
 * try { await server.listen() } catch (e) { if (e.code === metricsErrors.listenFailed.code) process.exit(1) }
 * ```
 */
export const metricsErrors = defineErrors({
  config: { code: 'GW_ERR_METRICS_CONFIG', status: 500, title: 'Invalid metrics configuration' },
  conflict: { code: 'GW_ERR_METRICS_CONFLICT', status: 500, title: 'Conflicting metric definitions' },
  noSink: { code: 'GW_ERR_METRICS_NO_SINK', status: 500, title: 'No Prometheus telemetry installed' },
  listenFailed: { code: 'GW_ERR_METRICS_LISTEN', status: 500, title: 'Metrics listener failed to start' },
  noAdmin: { code: 'GW_ERR_METRICS_NO_ADMIN', status: 500, title: 'No admin listener to mount /metrics on' },
  scrapeFailed: { code: 'GW_ERR_METRICS_SCRAPE', status: 500, title: 'Metrics collection failed' },
})
