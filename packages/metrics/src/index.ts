export { type AccessLogLine, accessLog } from './access-log/index.js'
export { REDACTED, redactQuery } from './access-log/redact.js'
export {
  ACCESS_LOG_FIELDS,
  type AccessLogConfig,
  accessLogSchema,
  SENSITIVE_HEADERS,
  SENSITIVE_QUERY_PARAMS,
} from './access-log/schema.js'
export { decisionsKey } from './decisions.js'
export { metricsErrors } from './errors.js'
export { metrics, resolvePrometheusTelemetry } from './metrics/index.js'
export { type MetricsConfig, metricsSchema } from './metrics/schema.js'
export { instrumentUpstream, instrumentUpstreams, type UpstreamDeps } from './metrics/upstream.js'
export * from './prometheus/index.js'
export { type TraceContext, traceContext, traceContextKey } from './trace-context/index.js'
export { type TraceContextConfig, traceContextSchema } from './trace-context/schema.js'
export {
  formatTraceparent,
  newSpanId,
  newTraceId,
  normaliseTracestate,
  parseTraceparent,
  type TraceParent,
} from './trace-context/traceparent.js'

import { accessLog } from './access-log/index.js'
import { metrics } from './metrics/index.js'
import { traceContext } from './trace-context/index.js'

/**
 * Every policy of @gw/metrics, for config-file registries and the gw CLI.
 *
 * @example
 * ```ts
 * const registry = createPolicyRegistry([...policies])
 * ```
 */
export const policies = [metrics, accessLog, traceContext]
