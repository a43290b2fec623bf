import type { Exchange, Outcome } from '@gw/core'
import type * as OtelApi from '@opentelemetry/api'

type Api = typeof OtelApi

/** A span started for one request; its ids are the ones forwarded upstream. */
export interface RequestSpan {
  traceId: string
  spanId: string
  /** Records the outcome (status, upstream) and ends the span. */
  end(ex: Exchange, outcome: Outcome): void
}

/** Starts the SERVER span of a request, as a child of the caller's span when `parent` is given. */
export type StartRequestSpan = (
  ex: Exchange,
  parent: { traceId: string; parentId: string; sampled: boolean } | undefined,
) => RequestSpan | undefined

const METHODS = new Set([
  'CONNECT',
  'DELETE',
  'GET',
  'HEAD',
  'OPTIONS',
  'PATCH',
  'POST',
  'PUT',
  'TRACE',
  'QUERY',
])

/** Host without the port (`[::1]:8080` → `::1`) and the port, if any. */
function splitHost(host: string): { address: string; port: number | undefined } {
  const match = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(host)
  if (match === null) return { address: host, port: undefined }
  const address = match[1]!.startsWith('[') ? match[1]!.slice(1, -1) : match[1]!
  return { address, port: match[2] === undefined ? undefined : Number(match[2]) }
}

/**
 * Loads `@opentelemetry/api` when it is installed (an optional peer dependency) and returns a span starter,
 * or undefined when it is absent. Spans go to whatever tracer provider the app registered globally; without
 * one the API is a no-op and the policy keeps its own ids.
 */
export async function loadOtel(): Promise<StartRequestSpan | undefined> {
  let api: Api
  try {
    api = (await import('@opentelemetry/api')) as Api
  } catch {
    return undefined
  }
  const { trace, context, ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags } = api
  return (ex, parent) => {
    const request = ex.request
    const parentContext =
      parent === undefined
        ? ROOT_CONTEXT
        : trace.setSpanContext(context.active(), {
            traceId: parent.traceId,
            spanId: parent.parentId,
            traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
            isRemote: true,
          })
    const method = METHODS.has(request.method) ? request.method : '_OTHER'
    const pattern = ex.route.pattern
    const { address, port } = splitHost(request.host)
    const attributes: OtelApi.Attributes = {
      'http.request.method': method,
      'url.path': request.path,
      'url.scheme': request.protocol,
      'server.address': address,
      'client.address': request.ip,
    }
    if (method === '_OTHER') attributes['http.request.method_original'] = request.method
    if (pattern !== '') attributes['http.route'] = pattern
    if (port !== undefined) attributes['server.port'] = port
    const span = trace
      .getTracer('@gw/metrics')
      .startSpan(
        pattern === '' ? method : `${method} ${pattern}`,
        { kind: SpanKind.SERVER, attributes },
        parentContext,
      )
    const ids = span.spanContext()
    // The no-op tracer (no provider registered) hands back the parent's context: keep the policy's ids then.
    if (!trace.isSpanContextValid(ids) || ids.spanId === parent?.parentId) return undefined
    return {
      traceId: ids.traceId,
      spanId: ids.spanId,
      end(exchange, outcome) {
        const upstream = exchange.route.upstream
        if (upstream !== undefined) span.setAttribute('gw.upstream', upstream)
        span.setAttribute('http.response.status_code', outcome.status)
        if (outcome.status >= 500) {
          span.setAttribute('error.type', outcome.error?.code ?? String(outcome.status))
          span.setStatus({ code: SpanStatusCode.ERROR })
        }
        span.end()
      },
    }
  }
}
