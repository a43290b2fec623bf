import { runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { traceContext, traceContextKey } from './index.js'

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT = '00f067aa0ba902b7'

describe('trace-context policy', () => {
  it('continues a valid trace with a new span id and forwards tracestate', async () => {
    let forwarded: Record<string, unknown> = {}
    const res = await runPipeline(
      [traceContext({})],
      { headers: { traceparent: `00-${TRACE}-${PARENT}-01`, tracestate: 'congo=t61rcWkgMzE' } },
      {
        upstream: (ex) => {
          forwarded = { ...ex.request.headers }
          return { status: 200, headers: {}, body: null }
        },
      },
    )
    const ctx = res.exchange.get(traceContextKey)!
    expect(ctx).toMatchObject({ traceId: TRACE, parentId: PARENT, sampled: true })
    expect(ctx.spanId).toMatch(/^[0-9a-f]{16}$/)
    expect(ctx.spanId).not.toBe(PARENT)
    expect(forwarded.traceparent).toBe(`00-${TRACE}-${ctx.spanId}-01`)
    expect(forwarded.tracestate).toBe('congo=t61rcWkgMzE')
    expect(res.headers['x-trace-id']).toBeUndefined()
  })

  it("keeps the caller's unsampled flag and drops an invalid tracestate", async () => {
    const res = await runPipeline([traceContext({})], {
      headers: { traceparent: `00-${TRACE}-${PARENT}-00`, tracestate: 'BAD KEY=1' },
    })
    expect(res.exchange.request.headers.traceparent).toMatch(new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`))
    expect(res.exchange.request.headers.tracestate).toBeUndefined()
  })

  it('starts a new trace when traceparent is invalid, discarding tracestate', async () => {
    const res = await runPipeline([traceContext({})], {
      headers: { traceparent: `00-${TRACE.toUpperCase()}-${PARENT}-01`, tracestate: 'congo=1' },
    })
    const ctx = res.exchange.get(traceContextKey)!
    expect(ctx.traceId).not.toBe(TRACE.toUpperCase().toLowerCase())
    expect(ctx.parentId).toBeUndefined()
    expect(res.exchange.request.headers.traceparent).toBe(`00-${ctx.traceId}-${ctx.spanId}-01`)
    expect(res.exchange.request.headers.tracestate).toBeUndefined()
  })

  it('restarts traces from untrusted callers and samples new traces by ratio', async () => {
    const res = await runPipeline([traceContext({ trustIncoming: false, sampleRatio: 0 })], {
      headers: { traceparent: `00-${TRACE}-${PARENT}-01` },
    })
    const ctx = res.exchange.get(traceContextKey)!
    expect(ctx.traceId).not.toBe(TRACE)
    expect(ctx.sampled).toBe(false)
    expect(res.exchange.request.headers.traceparent).toMatch(/-00$/)
  })

  it('echoes the trace id when asked', async () => {
    const res = await runPipeline([traceContext({ responseHeader: true })], {
      headers: { traceparent: `00-${TRACE}-${PARENT}-01` },
    })
    expect(res.headers['x-trace-id']).toBe(TRACE)
  })
})
