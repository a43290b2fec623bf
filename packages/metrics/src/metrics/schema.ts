import { z } from '@gw/core'

/**
 * Options of the `metrics` policy.
 *
 * @example
 * ```ts
 * metricsSchema.parse({ port: 9100 }).exposition // 'listener'
 * ```
 */
export const metricsSchema = z
  .object({
    enabled: z
      .boolean()
      .default(true)
      .describe('Record and expose metrics (METRICS_ENABLED); false turns the policy into a no-op.'),
    exposition: z
      .enum(['listener', 'gateway', 'admin', 'none'])
      .default('listener')
      .describe(
        "Where /metrics is served: 'listener' a separate port (PROMETHEUS_PORT), 'gateway' a path on the main port answered by this policy, 'admin' a path on the gateway's admin listener (behind its key), 'none' the app serves it (metricsHandler, cluster primary).",
      ),
    port: z
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(9090)
      .describe("Port of the metrics listener (PROMETHEUS_PORT) when exposition is 'listener'; 0 picks one."),
    host: z.string().min(1).default('0.0.0.0').describe('Bind address of the metrics listener.'),
    path: z
      .string()
      .regex(/^\/[^?#\s]*$/, 'must be an absolute path without query')
      .default('/metrics')
      .describe('Scrape path, on the listener, the gateway or the admin listener.'),
  })
  .strict()

/** Validated options of the `metrics` policy. */
export type MetricsConfig = z.output<typeof metricsSchema>
