import { Readable } from 'node:stream'
import { brotliCompressSync, gzipSync } from 'node:zlib'
import { principalKey } from '@gw/core'
import { createTestExchange, runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { jsonBody, mappingSchema } from './index.js'
import { compileMapping } from './mapping.js'

const echo = (ex: ReturnType<typeof createTestExchange>) => ({
  status: 200,
  headers: { 'content-type': 'application/json' },
  body: ex.bufferedBody ?? null,
})

describe('compileMapping', () => {
  it('runs unwrap, pick, omit, rename, set, wrap in order', () => {
    const map = compileMapping(
      mappingSchema.parse({
        unwrap: '/data',
        pick: ['/id', '/name', '/secret', '/tags'],
        omit: ['/secret'],
        rename: { '/name': '/profile/displayName', '/missing': '/never' },
        set: { '/version': 2, '/meta': { source: 'gw' }, '/by': '${request.id}', '/lit': '$${x}' },
        wrap: '/result',
      }),
    )
    const ex = createTestExchange({ id: 'r9' })
    const out = map({ data: { id: 1, name: 'ann', secret: 's', extra: true, tags: ['a'] } }, ex)
    expect(out).toEqual({
      result: {
        id: 1,
        tags: ['a'],
        profile: { displayName: 'ann' },
        version: 2,
        meta: { source: 'gw' },
        by: 'r9',
        lit: '${x}',
      },
    })
  })

  it('skips templated values with missing references and never shares constants between requests', () => {
    const map = compileMapping(
      mappingSchema.parse({ set: { '/meta': { a: 1 }, '/meta/user': '${principal.sub}' } }),
    )
    const ex = createTestExchange()
    expect(map({}, ex)).toEqual({ meta: { a: 1 } })
    ex.set(principalKey, { subject: 'u1', scopes: [], claims: {}, method: 'jwt' })
    expect(map({}, ex)).toEqual({ meta: { a: 1, user: 'u1' } })
    expect(map({}, createTestExchange())).toEqual({ meta: { a: 1 } })
  })

  it('validates pointers in options', () => {
    expect(() => jsonBody({ request: { omit: ['name'] } })).toThrow(/json-body\.options\.request\.omit\[0\]/)
    expect(() => jsonBody({ response: { wrap: '' } })).toThrow(/whole document/)
    expect(() => jsonBody({})).toThrow(/request or a response mapping/)
    expect(() => jsonBody({ request: { set: { '/a': '${nope}' } } })).toThrow(/json-body\.options/)
  })
})

describe('json-body requests', () => {
  const policy = () => [jsonBody({ limit: 64, request: { omit: ['/drop'], set: { '/added': true } } })]

  it('maps JSON and +json bodies and fixes Content-Length', async () => {
    const res = await runPipeline(
      policy(),
      {
        method: 'POST',
        headers: { 'content-type': 'application/merge-patch+json' },
        body: '{"keep":1,"drop":2}',
      },
      { upstream: echo },
    )
    expect(res.json()).toEqual({ keep: 1, added: true })
    expect(res.exchange.request.headers['content-length']).toBe(String(res.body.length))
  })

  it('decodes gzip and br request bodies and forwards them uncompressed', async () => {
    for (const body of [gzipSync('{"keep":1,"drop":2}'), brotliCompressSync('{"keep":1,"drop":2}')]) {
      const coding = body[0] === 0x1f ? 'gzip' : 'br'
      const res = await runPipeline(
        policy(),
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': coding }, body },
        { upstream: echo },
      )
      expect(res.json()).toEqual({ keep: 1, added: true })
      expect(res.exchange.request.headers['content-encoding']).toBeUndefined()
    }
  })

  it('leaves other types, empty bodies and GETs untouched', async () => {
    const text = await runPipeline(
      policy(),
      { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x'.repeat(100) },
      { upstream: echo },
    )
    expect(text.exchange.bufferedBody).toBeUndefined()
    const get = await runPipeline(
      policy(),
      { headers: { 'content-type': 'application/json' } },
      { upstream: echo },
    )
    expect(get.exchange.bufferedBody).toBeUndefined()
  })

  it('answers 413 over the limit (declared, streamed or decompressed), 400 for bad JSON, 415 for unknown codings', async () => {
    const declared = await runPipeline(policy(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ a: 'x'.repeat(100) }),
    })
    expect(declared.status).toBe(413)
    expect(declared.upstreamCalls).toBe(0)
    const streamed = await runPipeline(policy(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      body: Readable.from([Buffer.from('{"a":"'), Buffer.from('x'.repeat(100)), Buffer.from('"}')]),
    })
    expect(streamed.status).toBe(413)
    const bomb = await runPipeline(policy(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(JSON.stringify({ a: 'x'.repeat(10_000) })),
    })
    expect(bomb.status).toBe(413)
    expect(bomb.json()).toMatchObject({ code: 'GW_ERR_BODY_TOO_LARGE' })
    const invalid = await runPipeline(policy(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":',
    })
    expect(invalid.status).toBe(400)
    expect(invalid.json()).toMatchObject({ code: 'GW_ERR_TRANSFORM_INVALID_JSON' })
    const unknown = await runPipeline(policy(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'zstd' },
      body: 'abc',
    })
    expect(unknown.status).toBe(415)
    expect(unknown.headers['accept-encoding']).toBe('gzip, deflate, br')
  })
})

describe('json-body responses', () => {
  const policy = (limit = 64) => [jsonBody({ limit, response: { omit: ['/secret'] } })]
  const upstream =
    (body: unknown, headers: Record<string, string> = {}, status = 200) =>
    () => ({
      status,
      headers: { 'content-type': 'application/json', ...headers },
      body: body as string,
    })

  it('maps streamed, gzip-encoded responses and drops stale validators', async () => {
    const res = await runPipeline(
      policy(),
      {},
      {
        upstream: upstream(Readable.from([gzipSync('{"ok":1,"secret":"s"}')]), {
          'content-encoding': 'gzip',
          etag: '"x"',
          'content-length': '40',
        }),
      },
    )
    expect(res.status).toBe(200)
    expect(res.text).toBe('{"ok":1}')
    expect(res.headers['content-length']).toBe(8)
    expect(res.headers['content-encoding']).toBeUndefined()
    expect(res.headers.etag).toBeUndefined()
  })

  it('leaves non-JSON, non-2xx, 204 and HEAD responses alone', async () => {
    const body = '{"secret":"s"}'
    for (const [request, up] of [
      [{}, upstream(body, { 'content-type': 'text/plain' })],
      [{}, upstream(body, {}, 404)],
      [{ method: 'HEAD' }, upstream(body)],
    ] as const) {
      const res = await runPipeline(policy(), request, { upstream: up })
      expect(res.text).toBe(body)
    }
  })

  it('answers 502 when the response is over the limit, not JSON or undecodable', async () => {
    const big = JSON.stringify({ a: 'x'.repeat(100) })
    const declared = await runPipeline(
      policy(),
      {},
      { upstream: upstream(Readable.from([big]), { 'content-length': String(big.length) }) },
    )
    expect(declared.status).toBe(502)
    expect(declared.json()).toMatchObject({ code: 'GW_ERR_TRANSFORM_RESPONSE_TOO_LARGE' })
    const streamed = await runPipeline(policy(), {}, { upstream: upstream(Readable.from([big])) })
    expect(streamed.status).toBe(502)
    const invalid = await runPipeline(policy(), {}, { upstream: upstream('not json') })
    expect(invalid.status).toBe(502)
    expect(invalid.json()).toMatchObject({ code: 'GW_ERR_TRANSFORM_INVALID_RESPONSE' })
    const corrupt = await runPipeline(
      policy(),
      {},
      {
        upstream: upstream(Buffer.from('nope'), { 'content-encoding': 'gzip' }),
      },
    )
    expect(corrupt.status).toBe(502)
  })
})

describe('json-body setup', () => {
  it('refuses report mode and records denials', async () => {
    expect(() => jsonBody({ request: {} }, { mode: 'report' })).not.toThrow()
    const entry = jsonBody({ request: {} }, { mode: 'report' })
    expect(() => entry.definition.create(entry.options, { mode: 'report' } as never)).toThrow(
      /no report mode/,
    )
    const decisions: unknown[] = []
    const res = await runPipeline(
      [jsonBody({ request: {} })],
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' },
      {
        telemetry: {
          enabled: true,
          decision: (_ex, record) => decisions.push(record),
          count: () => {},
          observe: () => {},
        },
      },
    )
    expect(res.status).toBe(400)
    expect(decisions).toEqual([
      { policy: 'json-body', rule: 'request', outcome: 'deny', reason: 'GW_ERR_TRANSFORM_INVALID_JSON' },
    ])
  })
})
