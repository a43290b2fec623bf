import { Readable } from 'node:stream'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'
import type { GwResponse } from '@gw/core'
import { createTestExchange, runPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { compileTypeMatcher, compress } from './index.js'

const json = JSON.stringify({ items: Array.from({ length: 100 }, (_, i) => ({ i, name: `item-${i}` })) })

function reply(headers: GwResponse['headers'] = {}, body: GwResponse['body'] = json, status = 200) {
  return (): GwResponse => ({ status, headers: { 'content-type': 'application/json', ...headers }, body })
}

async function run(
  request: Parameters<typeof runPipeline>[1],
  upstream: () => GwResponse,
  options: Parameters<typeof compress>[0] = {},
) {
  return runPipeline([compress(options)], request, { upstream })
}

const gzip = { headers: { 'accept-encoding': 'gzip' } }

describe('compress', () => {
  it('gzips a local reply, weakens the ETag, drops Content-Length and adds Vary', async () => {
    const res = await run(gzip, reply({ etag: '"v1"', 'content-length': json.length, vary: 'Origin' }))
    expect(res.headers['content-encoding']).toBe('gzip')
    expect(res.headers['content-length']).toBeUndefined()
    expect(res.headers.etag).toBe('W/"v1"')
    expect(res.headers.vary).toBe('Origin, Accept-Encoding')
    expect(gunzipSync(res.body).toString()).toBe(json)
  })

  it('compresses streams with brotli and keeps weak ETags as they are', async () => {
    const res = await run(
      { headers: { 'accept-encoding': 'br' } },
      reply(
        { etag: 'W/"v1"', vary: 'accept-encoding' },
        Readable.from([json.slice(0, 100), json.slice(100)]),
      ),
    )
    expect(res.headers['content-encoding']).toBe('br')
    expect(res.headers.etag).toBe('W/"v1"')
    expect(res.headers.vary).toBe('accept-encoding')
    expect(brotliDecompressSync(res.body).toString()).toBe(json)
  })

  it('honours the threshold by Content-Length and compresses unknown lengths', async () => {
    const small = await run(gzip, reply({ 'content-length': '10' }, Readable.from(['{"a":"b"}x'])))
    expect(small.headers['content-encoding']).toBeUndefined()
    expect(small.headers.vary).toBeUndefined()
    const smallLocal = await run(gzip, reply({}, '{"a":1}'))
    expect(smallLocal.headers['content-encoding']).toBeUndefined()
    const unknown = await run(gzip, reply({}, Readable.from(['{"a":1}'])))
    expect(unknown.headers['content-encoding']).toBe('gzip')
    expect(gunzipSync(unknown.body).toString()).toBe('{"a":1}')
    const zero = await run(gzip, reply({}, '{"a":1}'), { threshold: 0 })
    expect(zero.headers['content-encoding']).toBe('gzip')
  })

  it('compresses small bodies when the client refuses identity', async () => {
    const res = await run({ headers: { 'accept-encoding': 'gzip, identity;q=0' } }, reply({}, '{"a":1}'))
    expect(res.headers['content-encoding']).toBe('gzip')
  })

  it.each([
    ['already encoded', gzip, reply({ 'content-encoding': 'br' })],
    ['no-transform', gzip, reply({ 'cache-control': 'public, No-Transform' })],
    [
      'request no-transform',
      { headers: { 'accept-encoding': 'gzip', 'cache-control': 'no-transform' } },
      reply(),
    ],
    ['image', gzip, reply({ 'content-type': 'image/png' })],
    ['event stream', gzip, reply({ 'content-type': 'text/event-stream' })],
    ['no content type', gzip, () => ({ status: 200, headers: {}, body: json })],
    ['204', gzip, reply({}, null, 204)],
    ['206', gzip, reply({ 'content-range': 'bytes 0-9/100' }, json, 206)],
    ['304', gzip, reply({}, null, 304)],
    ['no accept-encoding', {}, reply()],
    ['unsupported coding', { headers: { 'accept-encoding': 'deflate, zstd' } }, reply()],
    ['HEAD', { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } }, reply()],
  ])('leaves the body alone: %s', async (_name, request, upstream) => {
    const res = await run(request, upstream)
    expect(res.headers['content-encoding'] === 'gzip').toBe(false)
    expect(res.text).toBe(res.status === 204 || res.status === 304 ? '' : json)
  })

  it('adds Vary to eligible responses even when not compressing them', async () => {
    expect((await run({}, reply())).headers.vary).toBe('Accept-Encoding')
    expect((await run(gzip, reply({ 'content-type': 'image/png' }))).headers.vary).toBeUndefined()
    expect((await run(gzip, reply({ vary: '*' }))).headers.vary).toBe('*')
  })

  it('uses the configured encodings and types', async () => {
    const onlyGzip = await run({ headers: { 'accept-encoding': 'br, gzip' } }, reply(), {
      encodings: ['gzip'],
    })
    expect(onlyGzip.headers['content-encoding']).toBe('gzip')
    const custom = await run(gzip, reply({ 'content-type': 'application/vnd.acme+csv' }), {
      types: ['application/*+csv'],
    })
    expect(custom.headers['content-encoding']).toBe('gzip')
    expect(() => compress({ types: ['json'] })).toThrow(/compress\.options\.types\[0\]/)
    expect(() => compress({ level: 10 })).toThrow(/compress\.options\.level/)
  })

  it('destroys the upstream body when the compressed stream is destroyed', async () => {
    const entry = compress()
    const handlers = await entry.definition.create(entry.options, { telemetry: { enabled: false } } as never)
    const upstreamBody = new Readable({ read() {} })
    upstreamBody.push('x'.repeat(2000))
    const res: GwResponse = { status: 200, headers: { 'content-type': 'text/plain' }, body: upstreamBody }
    handlers.onResponse!(createTestExchange(gzip), res)
    expect(res.body).not.toBe(upstreamBody)
    ;(res.body as Readable).destroy()
    await new Promise((r) => setImmediate(r))
    expect(upstreamBody.destroyed).toBe(true)
  })
})

describe('compileTypeMatcher', () => {
  it('matches exact, wildcard and suffix patterns, ignoring parameters and case', () => {
    const match = compileTypeMatcher(['text/*', 'application/json', 'application/*+xml', '*/*+json'])
    expect(match('text/html; charset=utf-8')).toBe(true)
    expect(match('Application/JSON')).toBe(true)
    expect(match('application/atom+xml')).toBe(true)
    expect(match('application/problem+json')).toBe(true)
    expect(match('application/octet-stream')).toBe(false)
    expect(match('text/event-stream')).toBe(false)
    expect(match('image/png')).toBe(false)
  })
})

describe('compress window sizing', () => {
  it('round-trips brotli for bodies around the window boundaries', async () => {
    for (const size of [1, 1008, 1009, 65_520, 65_521, 5_000_000]) {
      const body = Buffer.alloc(size)
      for (let i = 0; i < size; i++) body[i] = 97 + ((i * 7919) % 26)
      const res = await run(
        { headers: { 'accept-encoding': 'br' } },
        reply({ 'content-length': String(size), 'content-type': 'text/plain' }, Readable.from([body])),
        { threshold: 0 },
      )
      expect(res.headers['content-encoding']).toBe('br')
      expect(brotliDecompressSync(res.body).equals(body)).toBe(true)
    }
  })
})
