import { z } from '@gw/core'

/**
 * Default latency buckets (seconds): fine-grained below 100 ms where a gateway usually lives.
 *
 * @example
 * ```ts
 * createPrometheusTelemetry({ buckets: [...DEFAULT_BUCKETS, 60] })
 * ```
 */
export const DEFAULT_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

const ascending = (values: readonly number[]): boolean =>
  values.every((v, i) => i === 0 || v > values[i - 1]!)

/**
 * Options of {@link createPrometheusTelemetry}.
 *
 * @example
 * ```ts
 * prometheusTelemetrySchema.parse({}).prefix // 'gw_'
 * ```
 */
export const prometheusTelemetrySchema = z
  .object({
    prefix: z
      .string()
      .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a valid metric name prefix')
      .default('gw_')
      .describe('Prefix of every gw metric name (gw_http_requests_total, gw_policy_decisions_total, ...).'),
    buckets: z
      .array(z.number().positive())
      .nonempty()
      .refine(ascending, 'buckets must be strictly ascending')
      .default(DEFAULT_BUCKETS)
      .describe('Histogram buckets (seconds) of the request and upstream duration histograms.'),
    defaultMetrics: z
      .boolean()
      .default(true)
      .describe(
        'Collect Node.js process metrics (CPU, memory, GC, handles, event-loop lag) in the registry.',
      ),
    eventLoopMonitoringPrecision: z
      .number()
      .int()
      .min(1)
      .default(10)
      .describe('Sampling rate of the event-loop lag monitor in milliseconds.'),
    defaultLabels: z
      .record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string())
      .default({})
      .describe('Labels added to every series of the registry, e.g. { instance: "gw-1" }.'),
    logDecisions: z
      .enum(['all', 'deny', 'none'])
      .default('deny')
      .describe(
        'Which decision records are logged through the request logger: deny and report, all, or none.',
      ),
    maxDynamicMetrics: z
      .number()
      .int()
      .min(0)
      .default(64)
      .describe('Cap on distinct metric names created from telemetry count()/observe() calls.'),
    maxSeriesPerMetric: z
      .number()
      .int()
      .min(1)
      .default(1000)
      .describe(
        'Cap on label combinations per telemetry metric (and on decision series); extra ones are dropped.',
      ),
  })
  .strict()

/** Validated options of {@link createPrometheusTelemetry}. */
export type PrometheusTelemetryConfig = z.output<typeof prometheusTelemetrySchema>
/** Options of {@link createPrometheusTelemetry} as written. */
export type PrometheusTelemetryOptions = z.input<typeof prometheusTelemetrySchema>
