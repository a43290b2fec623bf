import { Readable } from 'node:stream'
import { runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { compileMediaTypes, requestValidation } from './index.js'

const schema = {
  type: 'object',
  required: ['name', 'qty'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1 },
    qty: { type: 'integer', minimum: 1 },
    tags: { type: 'array', items: { type: 'string' } },
  },
}

const json = (body: unknown, method = 'POST') => ({
  method,
  url: '/api/items',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
})

describe('compileMediaTypes', () => {
  it('matches exact types, type/* and structured suffixes, ignoring parameters and case', () => {
    const m = compileMediaTypes(['application/json', 'text/*', 'application/*+json'])
    expect(m('application/json; charset=utf-8')).toBe(true)
    expect(m('Application/JSON')).toBe(true)
    expect(m('text/plain')).toBe(true)
    expect(m('application/merge-patch+json')).toBe(true)
    expect(m('application/xml')).toBe(false)
    expect(m('application/jsonx')).toBe(false)
    expect(m(undefined)).toBe(false)
    expect(m('')).toBe(false)
    expect(compileMediaTypes(['*/*'])('image/png')).toBe(true)
  })
})

describe('request-validation', () => {
  it('refuses a declared body above the limit with 413 before reading it', async () => {
    let read = false
    const body = new Readable({
      read() {
        read = true
        this.push(null)
      },
    })
    const res = await runPipeline([requestValidation({ maxBodySize: '1kb' })], {
      method: 'POST',
      headers: { 'content-length': String(10 * 1024 ** 3), 'content-type': 'application/octet-stream' },
      body,
    })
    expect(res.status).toBe(413)
    expect(res.json<{ code: string; limit: number }>()).toMatchObject({
      code: 'GW_ERR_BODY_TOO_LARGE',
      limit: 1024,
    })
    expect(read).toBe(false)
    expect(res.upstreamCalls).toBe(0)
  })

  it('cuts off a chunked body as soon as it exceeds the limit', async () => {
    let chunks = 0
    const body = new Readable({
      read() {
        chunks++
        this.push(chunks > 1_000_000 ? null : Buffer.alloc(512))
      },
    })
    const res = await runPipeline([requestValidation({ maxBodySize: 2048 })], {
      method: 'POST',
      headers: { 'transfer-encoding': 'chunked', 'content-type': 'text/plain' },
      body,
    })
    expect(res.status).toBe(413)
    expect(chunks).toBeLessThan(1000)
  })

  it('in report mode forwards an oversized chunked body intact', async () => {
    const parts = Array.from({ length: 20 }, (_, i) => Buffer.alloc(512, 97 + i))
    const res = await runPipeline(
      [requestValidation({ maxBodySize: 2048 }, { mode: 'report' })],
      { method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body: Readable.from(parts) },
      {
        upstream: async (ex) => {
          const received: Buffer[] = []
          for await (const chunk of ex.request.body) received.push(chunk as Buffer)
          return { status: 200, headers: {}, body: Buffer.concat(received) }
        },
      },
    )
    expect(res.status).toBe(200)
    expect(res.body.equals(Buffer.concat(parts))).toBe(true)
  })

  it('forwards a chunked body within the limit (buffered)', async () => {
    const res = await runPipeline(
      [requestValidation({ maxBodySize: 2048 })],
      {
        method: 'POST',
        headers: { 'transfer-encoding': 'chunked' },
        body: Readable.from([Buffer.from('hello')]),
      },
      { upstream: (ex) => ({ status: 200, headers: {}, body: ex.bufferedBody?.toString() ?? 'none' }) },
    )
    expect(res.status).toBe(200)
    expect(res.text).toBe('hello')
  })

  it('answers 414 for long URLs and 431 for too many or too large headers', async () => {
    const policy = [requestValidation({ maxUrlLength: 64, maxHeaderCount: 5, maxHeaderSize: 100 })]
    expect((await runPipeline(policy, { url: `/${'a'.repeat(64)}` })).status).toBe(414)
    expect((await runPipeline(policy, { url: `/${'a'.repeat(62)}` })).status).toBe(200)
    const many = { a: '1', b: '2', c: '3', d: '4', e: '5' }
    const tooMany = await runPipeline(policy, { headers: many })
    expect(tooMany.status).toBe(431)
    expect(tooMany.json<{ code: string }>().code).toBe('GW_ERR_HEADERS_TOO_LARGE')
    expect((await runPipeline(policy, { headers: { 'x-big': 'v'.repeat(100) } })).status).toBe(431)
    expect((await runPipeline(policy, { headers: { 'x-ok': 'v'.repeat(80) } })).status).toBe(200)
  })

  it('answers 405 with Allow for methods outside the allow-list', async () => {
    const res = await runPipeline([requestValidation({ methods: ['GET', 'POST'] })], { method: 'DELETE' })
    expect(res.status).toBe(405)
    expect(res.headers.allow).toBe('GET, POST')
  })

  it('answers 415 for a body with a disallowed or missing Content-Type; bodiless requests pass', async () => {
    const policy = [requestValidation({ contentTypes: ['application/json'] })]
    expect(
      (await runPipeline(policy, { method: 'POST', headers: { 'content-type': 'text/xml' }, body: '<a/>' }))
        .status,
    ).toBe(415)
    expect((await runPipeline(policy, { method: 'POST', body: 'x' })).status).toBe(415)
    expect((await runPipeline(policy, json({ a: 1 }))).status).toBe(200)
    expect((await runPipeline(policy, { method: 'GET' })).status).toBe(200)
  })

  it('validates JSON bodies against a JSON Schema and lists each failing path', async () => {
    const policy = () => [requestValidation({ jsonSchema: schema })]
    const ok = await runPipeline(policy(), json({ name: 'pen', qty: 2 }), {
      upstream: (ex) => ({ status: 200, headers: {}, body: ex.bufferedBody ?? null }),
    })
    expect(ok.status).toBe(200)
    expect(ok.text).toBe('{"name":"pen","qty":2}')
    const bad = await runPipeline(policy(), json({ qty: 0, tags: [1], extra: true }))
    expect(bad.status).toBe(400)
    const problem = bad.json<{ code: string; errors: Array<{ path: string; message: string }> }>()
    expect(problem.code).toBe('GW_ERR_INVALID_BODY')
    expect(problem.errors).toEqual(
      expect.arrayContaining([
        { path: '/name', message: 'is required' },
        { path: '/extra', message: 'is not allowed' },
        { path: '/qty', message: 'must be >= 1' },
        { path: '/tags/0', message: 'must be string' },
      ]),
    )
    expect(bad.upstreamCalls).toBe(0)
  })

  it('answers malformed JSON with 400 (never 500), non-JSON with 415, a missing body with 400', async () => {
    const policy = () => [requestValidation({ jsonSchema: schema })]
    const malformed = await runPipeline(policy(), json('{"name": "pen",'))
    expect(malformed.status).toBe(400)
    expect(malformed.json<{ code: string }>().code).toBe('GW_ERR_MALFORMED_JSON')
    const wrongType = await runPipeline(policy(), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x',
    })
    expect(wrongType.status).toBe(415)
    const missing = await runPipeline(policy(), { method: 'POST' })
    expect(missing.status).toBe(400)
    expect((await runPipeline(policy(), { method: 'GET' })).status).toBe(200)
  })

  it('applies the body limit to JSON Schema validation too', async () => {
    const res = await runPipeline([requestValidation({ jsonSchema: schema, maxBodySize: 16 })], {
      ...json({ name: 'x'.repeat(100), qty: 1 }),
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
    })
    expect(res.status).toBe(413)
  })

  it('lets everything through in report mode', async () => {
    const res = await runPipeline(
      [requestValidation({ methods: ['GET'], jsonSchema: schema }, { mode: 'report' })],
      json({}),
    )
    expect(res.status).toBe(200)
    expect(res.upstreamCalls).toBe(1)
  })

  it('fails at start-up on an invalid JSON Schema or byte size', async () => {
    await expect(runPipeline([requestValidation({ jsonSchema: { type: 'nope' } })])).rejects.toThrow(
      /invalid jsonSchema/,
    )
    expect(() => requestValidation({ maxBodySize: '10 parsecs' })).toThrow(/invalid byte size/)
  })
})
