import { z } from '@gw/core'

/**
 * Options of the `trace-context` policy.
 *
 * @example
 * ```ts
 * traceContextSchema.parse({}).trustIncoming // true
 * ```
 */
export const traceContextSchema = z
  .object({
    trustIncoming: z
      .boolean()
      .default(true)
      .describe(
        'Continue traces from a valid incoming traceparent/tracestate; false starts a new trace for every request (edge gateways facing untrusted clients).',
      ),
    sampleRatio: z
      .number()
      .min(0)
      .max(1)
      .default(1)
      .describe(
        "Probability that a trace started here is flagged sampled; continued traces keep the caller's flag.",
      ),
    responseHeader: z
      .boolean()
      .default(false)
      .describe('Echo the trace id to the client in an x-trace-id response header.'),
    otel: z
      .enum(['auto', 'off'])
      .default('auto')
      .describe(
        "'auto': when @opentelemetry/api is installed, record a SERVER span per request with the globally registered tracer provider and forward its ids; 'off': never load it.",
      ),
  })
  .strict()

/** Validated options of the `trace-context` policy. */
export type TraceContextConfig = z.output<typeof traceContextSchema>
