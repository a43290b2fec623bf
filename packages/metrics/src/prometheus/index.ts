export { reportToClusterPrimary, startClusterMetricsServer } from './cluster.js'
export {
  type Exposition,
  type ExpositionFormat,
  type MetricFamilyJson,
  negotiateFormat,
  OPENMETRICS_TYPE,
  PROMETHEUS_TEXT_TYPE,
  renderExposition,
  renderOpenMetrics,
} from './exposition.js'
export {
  isLabelName,
  METHOD_LABELS,
  METRIC_METHODS,
  methodIndex,
  STATUS_CLASS_LABELS,
  sanitizeMetricName,
  statusClassIndex,
  upstreamErrorKind,
} from './labels.js'
export {
  type ErrorCell,
  RequestCell,
  RequestFamilies,
  type RequestLabels,
  RouteSeries,
} from './request-series.js'
export {
  DEFAULT_BUCKETS,
  type PrometheusTelemetryConfig,
  type PrometheusTelemetryOptions,
  prometheusTelemetrySchema,
} from './schema.js'
export {
  adminMetricsHandler,
  type ExpositionSource,
  type MetricsServer,
  type MetricsServerOptions,
  metricsHandler,
  serveMetrics,
  startMetricsServer,
} from './server.js'
export { createPrometheusTelemetry, PrometheusTelemetry, type PrometheusTelemetryDeps } from './telemetry.js'
