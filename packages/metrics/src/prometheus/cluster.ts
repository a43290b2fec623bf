import cluster from 'node:cluster'
import { AggregatorRegistry } from 'prom-client'
import { PROMETHEUS_TEXT_TYPE } from './exposition.js'
import { type MetricsServer, type MetricsServerOptions, serveMetrics } from './server.js'
import type { PrometheusTelemetry } from './telemetry.js'

/**
 * In a `node:cluster` worker: answers the primary's metric requests with this worker's registry, so that
 * {@link startClusterMetricsServer} can aggregate all workers. Use `metrics({ exposition: 'none' })` in workers.
 *
 * @example
 * ```ts
 * if (cluster.isWorker) reportToClusterPrimary(telemetry)
 * ```
 */
export function reportToClusterPrimary(telemetry: PrometheusTelemetry): void {
  if (!cluster.isWorker) return
  new AggregatorRegistry()
  AggregatorRegistry.setRegistries([telemetry.registry])
}

/**
 * In the `node:cluster` primary: serves `/metrics` with the series of every live worker aggregated by
 * prom-client's AggregatorRegistry (counters and histograms summed, gauges per their aggregator). Always
 * Prometheus text; a worker that does not answer within 5 s fails the scrape with a coded 500.
 *
 * @example
 * ```ts
 * if (cluster.isPrimary) {
 *   for (let i = 0; i < os.availableParallelism(); i++) cluster.fork()
 *   await startClusterMetricsServer({ port: Number(process.env.PROMETHEUS_PORT ?? 9090) })
 * }
 * ```
 */
export function startClusterMetricsServer(options: MetricsServerOptions = {}): Promise<MetricsServer> {
  const aggregator = new AggregatorRegistry()
  return serveMetrics(
    async () => ({ contentType: PROMETHEUS_TEXT_TYPE, body: await aggregator.clusterMetrics() }),
    options,
  )
}
