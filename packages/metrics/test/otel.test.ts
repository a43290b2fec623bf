import { randomBytes } from 'node:crypto'
import { createGateway, type Gateway, type GatewayOptions } from '@gw/core'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import {
  type Attributes,
  type AttributeValue,
  type Context,
  type Span,
  type SpanAttributes,
  type SpanContext,
  SpanKind,
  type SpanOptions,
  type SpanStatus,
  SpanStatusCode,
  type TimeInput,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { traceContext } from '../src/index.js'

/** A finished span as the in-memory provider records it. */
interface Recorded {
  name: string
  kind: SpanKind
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  attributes: Attributes
  status: SpanStatus
  events: string[]
}

/** A tiny recording TracerProvider: every span is sampled, recorded when ended. */
class MemoryProvider implements TracerProvider {
  readonly finished: Recorded[] = []
  getTracer(): Tracer {
    const finished = this.finished
    const startSpan = (name: string, options: SpanOptions = {}, ctx?: Context): Span => {
      const parent = ctx === undefined ? undefined : trace.getSpanContext(ctx)
      const spanContext: SpanContext = {
        traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
        spanId: randomBytes(8).toString('hex'),
        traceFlags: TraceFlags.SAMPLED,
      }
      const record: Recorded = {
        name,
        kind: options.kind ?? SpanKind.INTERNAL,
        traceId: spanContext.traceId,
        spanId: spanContext.spanId,
        parentSpanId: parent?.spanId,
        attributes: { ...options.attributes },
        status: { code: SpanStatusCode.UNSET },
        events: [],
      }
      let ended = false
      const span: Span = {
        spanContext: () => spanContext,
        setAttribute(key: string, value: AttributeValue) {
          record.attributes[key] = value
          return span
        },
        setAttributes(attributes: SpanAttributes) {
          Object.assign(record.attributes, attributes)
          return span
        },
        addEvent(event: string) {
          record.events.push(event)
          return span
        },
        addLink: () => span,
        addLinks: () => span,
        setStatus(status: SpanStatus) {
          record.status = status
          return span
        },
        updateName(next: string) {
          record.name = next
          return span
        },
        end(_time?: TimeInput) {
          if (ended) throw new Error('span ended twice')
          ended = true
          finished.push(record)
        },
        isRecording: () => !ended,
        recordException: () => {},
      }
      return span
    }
    return {
      startSpan,
      startActiveSpan: (() => {
        throw new Error('not used')
      }) as Tracer['startActiveSpan'],
    }
  }
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT = '00f067aa0ba902b7'

const provider = new MemoryProvider()
const gateways: Gateway[] = []
let upstream: FakeUpstream

beforeAll(async () => {
  expect(trace.setGlobalTracerProvider(provider)).toBe(true)
  upstream = await startFakeUpstream(async (req, res) => {
    if (req.url?.startsWith('/users/slow')) await new Promise((r) => setTimeout(r, 1000))
    res.writeHead(req.url?.startsWith('/users/fail') ? 503 : 200, { 'content-type': 'text/plain' })
    res.end('ok')
  })
})
afterAll(async () => {
  trace.disable()
  await upstream.close()
})
beforeEach(() => {
  provider.finished.length = 0
  upstream.requests.length = 0
})
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
})

async function start(policies: GatewayOptions['policies']): Promise<Gateway> {
  const gw = await createGateway({
    upstreams: { users: { url: upstream.url } },
    policies,
    routes: [{ id: 'users', path: '/api/users/*', upstream: 'users', stripPrefix: '/api' }],
    server: { host: '127.0.0.1', port: 0 },
  })
  gateways.push(gw)
  await gw.listen()
  return gw
}

/** onComplete runs once the server finished the response; the client may see it a moment earlier. */
async function spans(count: number): Promise<Recorded[]> {
  for (let i = 0; i < 100 && provider.finished.length < count; i++)
    await new Promise((r) => setTimeout(r, 20))
  return provider.finished
}

describe('trace-context with @opentelemetry/api', () => {
  it('records one SERVER span per request, child of the incoming traceparent, and forwards its ids', async () => {
    const gw = await start([traceContext({})])
    const res = await fetch(`${gw.url}/api/users/42?x=1`, {
      headers: { traceparent: `00-${TRACE}-${PARENT}-01` },
    })
    expect(res.status).toBe(200)
    await res.text()
    const [span, ...more] = await spans(1)
    expect(more).toEqual([])
    expect(span).toMatchObject({
      name: 'GET /api/users/*',
      kind: SpanKind.SERVER,
      traceId: TRACE,
      parentSpanId: PARENT,
      status: { code: SpanStatusCode.UNSET },
    })
    const port = new URL(gw.url).port
    expect(span!.attributes).toEqual({
      'http.request.method': 'GET',
      'url.path': '/api/users/42',
      'url.scheme': 'http',
      'http.route': '/api/users/*',
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
      'server.port': Number(port),
      'client.address': '127.0.0.1',
      'gw.upstream': 'users',
    })
    expect(upstream.requests).toHaveLength(1)
    expect(upstream.requests[0]!.headers.traceparent).toBe(`00-${TRACE}-${span!.spanId}-01`)
  })

  it('starts a root span for a new trace and marks 5xx responses as errors', async () => {
    const gw = await start([traceContext({})])
    const res = await fetch(`${gw.url}/api/users/fail`, { method: 'POST', body: 'x' })
    expect(res.status).toBe(503)
    await res.text()
    const [span] = await spans(1)
    expect(span).toMatchObject({
      name: 'POST /api/users/*',
      parentSpanId: undefined,
      status: { code: SpanStatusCode.ERROR },
    })
    expect(span!.attributes['http.response.status_code']).toBe(503)
    expect(upstream.requests[0]!.headers.traceparent).toBe(`00-${span!.traceId}-${span!.spanId}-01`)
  })

  it('ends the span of an aborted request with status 499', async () => {
    const gw = await start([traceContext({})])
    const abort = new AbortController()
    const pending = fetch(`${gw.url}/api/users/slow`, { signal: abort.signal })
    setTimeout(() => abort.abort(), 100)
    await expect(pending).rejects.toThrow()
    const [span] = await spans(1)
    expect(span!.attributes['http.response.status_code']).toBe(499)
    expect(span!.status.code).toBe(SpanStatusCode.UNSET)
  })

  it('records no span with otel: off', async () => {
    const gw = await start([traceContext({ otel: 'off' })])
    const res = await fetch(`${gw.url}/api/users/1`, { headers: { traceparent: `00-${TRACE}-${PARENT}-01` } })
    await res.text()
    await new Promise((r) => setTimeout(r, 100))
    expect(provider.finished).toEqual([])
    expect(upstream.requests[0]!.headers.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`))
  })
})
