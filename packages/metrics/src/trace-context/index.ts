import { createStateKey, definePolicy, type StateKey } from '@gw/core'
import { loadOtel, type RequestSpan } from './otel.js'
import { traceContextSchema } from './schema.js'
import {
  formatTraceparent,
  newSpanId,
  newTraceId,
  normaliseTracestate,
  parseTraceparent,
} from './traceparent.js'

/** The trace context of a request, as the `trace-context` policy propagated it. */
export interface TraceContext {
  /** Trace id (32 hex). */
  traceId: string
  /** The span id gw created for its hop and sent upstream as parent-id (16 hex). */
  spanId: string
  /** The caller's span id, when a valid traceparent was received and trusted. */
  parentId: string | undefined
  /** Sampled flag sent upstream. */
  sampled: boolean
}

/**
 * Per-request trace context set by the `trace-context` policy; the access log writes its trace and span ids.
 *
 * @example
 * ```ts
 * const traceId = ex.get(traceContextKey)?.traceId
 * ```
 */
export const traceContextKey: StateKey<TraceContext> = createStateKey<TraceContext>('metrics.trace-context')

/**
 * W3C Trace Context: validates an incoming `traceparent` (and `tracestate`), or starts a trace when it is
 * absent or invalid; creates a span id for the gateway hop and forwards the updated `traceparent` upstream
 * (with the caller's `tracestate` when valid, dropped otherwise). The trace is available as
 * {@link traceContextKey} and written by the access log. When `@opentelemetry/api` is installed (and
 * `otel` is not `'off'`), a SERVER span is started for each request as the child of the incoming
 * traceparent and ended with the outcome; the forwarded traceparent carries that span's ids.
 *
 * @example
 * ```ts
 * createGateway({ policies: [traceContext(), accessLog(), metrics()], routes })
 * ```
 */
export const traceContext = definePolicy({
  name: 'trace-context',
  stage: 'observe',
  description:
    'W3C traceparent/tracestate: validated, created when absent, propagated upstream with a new span id.',
  schema: traceContextSchema,
  state: () => ({ provides: [traceContextKey] }),
  async create({ trustIncoming, sampleRatio, responseHeader, otel }) {
    const sampleNew = (): boolean => sampleRatio >= 1 || (sampleRatio > 0 && Math.random() < sampleRatio)
    const startSpan = otel === 'auto' ? await loadOtel() : undefined
    const spans = new WeakMap<object, RequestSpan>()
    return {
      onRequest(ex) {
        const headers = ex.request.headers
        const incoming = trustIncoming ? parseTraceparent(headers.traceparent) : undefined
        const spanId = newSpanId()
        let context: TraceContext
        if (incoming !== undefined) {
          context = {
            traceId: incoming.traceId,
            spanId,
            parentId: incoming.parentId,
            sampled: (incoming.flags & 1) === 1,
          }
          const state = normaliseTracestate(headers.tracestate)
          if (state) headers.tracestate = state
          else delete headers.tracestate
        } else {
          context = { traceId: newTraceId(), spanId, parentId: undefined, sampled: sampleNew() }
          delete headers.tracestate
        }
        if (startSpan !== undefined) {
          const span = startSpan(ex, incoming && { ...context, parentId: incoming.parentId })
          if (span !== undefined) {
            context.traceId = span.traceId
            context.spanId = span.spanId
            spans.set(ex, span)
          }
        }
        headers.traceparent = formatTraceparent(context.traceId, context.spanId, context.sampled)
        ex.set(traceContextKey, context)
      },
      ...(startSpan !== undefined
        ? {
            onComplete(ex, outcome) {
              const span = spans.get(ex)
              if (span === undefined) return
              spans.delete(ex)
              span.end(ex, outcome)
            },
          }
        : {}),
      ...(responseHeader
        ? {
            onResponse(ex, res) {
              const context = ex.get(traceContextKey)
              if (context !== undefined) res.headers['x-trace-id'] = context.traceId
            },
          }
        : {}),
    }
  },
})
