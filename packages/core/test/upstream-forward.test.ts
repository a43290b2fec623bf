import type { IncomingHttpHeaders } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { noopLogger } from '../src/logger.js'
import { createUpstream, type Upstream, type UpstreamInput } from '../src/upstream/index.js'
import type { TrustProxy } from '../src/upstream/trust-proxy.js'
import { type Front, send, startFront, startServer, type TestServer } from './upstream-harness.js'

interface Echo {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: string
}

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()))
})

async function echoServer(extraHeaders: Record<string, string | string[]> = {}): Promise<TestServer> {
  const server = await startServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = JSON.stringify({
        method: req.method,
        url: req.url,
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      })
      res.writeHead(201, { 'content-type': 'application/json', 'x-upstream': 'yes', ...extraHeaders })
      res.end(body)
    })
  })
  cleanups.push(() => server.close())
  return server
}

async function proxy(
  config: UpstreamInput,
  trustProxy?: TrustProxy,
): Promise<{ front: Front; upstream: Upstream }> {
  const upstream = createUpstream('test', config, { log: noopLogger, via: 'gw', trustProxy })
  const front = await startFront(upstream)
  cleanups.push(async () => {
    await front.close()
    await upstream.close()
  })
  return { front, upstream }
}

describe('upstream forward: request and response', () => {
  it('forwards method, base path + path, query, headers and body, and returns status, headers and body', async () => {
    const up = await echoServer({ 'set-cookie': ['a=1', 'b=2'] })
    const { front } = await proxy({ url: `${up.url}/base/` })
    const res = await send(`${front.url}/items/7?x=1&y=two`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-custom': 'abc' },
      body: '{"name":"widget"}',
    })
    expect(res.status).toBe(201)
    expect(res.headers['x-upstream']).toBe('yes')
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2'])
    expect(res.headers.via).toBe('1.1 gw')
    const echo = JSON.parse(res.body) as Echo
    expect(echo.method).toBe('PUT')
    expect(echo.url).toBe('/base/items/7?x=1&y=two')
    expect(echo.body).toBe('{"name":"widget"}')
    expect(echo.headers['content-type']).toBe('application/json')
    expect(echo.headers['content-length']).toBe('17')
    expect(echo.headers['x-custom']).toBe('abc')
    expect(echo.headers['x-request-id']).toBe('req-1')
    expect(echo.headers.host).toBe(`127.0.0.1:${up.port}`)
  })

  it('forwards a chunked request body and a bodiless DELETE', async () => {
    const up = await echoServer()
    const { front } = await proxy({ url: up.url })
    const { Readable } = await import('node:stream')
    const chunked = await send(`${front.url}/upload`, {
      method: 'POST',
      body: Readable.from(['part1-', 'part2']),
    })
    const echo = JSON.parse(chunked.body) as Echo
    expect(echo.body).toBe('part1-part2')
    expect(front.exchanges[0]!.request.headers['transfer-encoding']).toBe('chunked')
    const del = JSON.parse((await send(`${front.url}/thing/1`, { method: 'DELETE' })).body) as Echo
    expect(del.method).toBe('DELETE')
    expect(del.body).toBe('')
  })

  it('sends the client Host with preserveHost', async () => {
    const up = await echoServer()
    const { front } = await proxy({ url: up.url, preserveHost: true })
    const echo = JSON.parse(
      (await send(`${front.url}/`, { headers: { host: 'api.example.com' } })).body,
    ) as Echo
    expect(echo.headers.host).toBe('api.example.com')
    expect(echo.headers['x-forwarded-host']).toBe('api.example.com')
  })

  it('strips hop-by-hop headers both ways, including Connection-listed ones', async () => {
    const up = await startServer((req, res) => {
      res.setHeader('content-type', 'application/json')
      res.setHeader('connection', 'keep-alive, X-Internal')
      res.setHeader('keep-alive', 'timeout=30')
      res.setHeader('x-internal', 'secret')
      res.setHeader('proxy-authenticate', 'Basic realm="x"')
      res.setHeader('trailer', 'x-checksum')
      res.setHeader('x-kept', 'yes')
      res.end(JSON.stringify({ headers: req.headers }))
    })
    cleanups.push(() => up.close())
    const { front } = await proxy({ url: up.url })
    const res = await send(`${front.url}/`, {
      headers: {
        connection: 'keep-alive, X-Secret',
        'x-secret': 'hidden',
        'keep-alive': 'timeout=5',
        'proxy-authorization': 'Basic Zm9vOmJhcg==',
        'proxy-connection': 'keep-alive',
        te: 'trailers',
        upgrade: 'h2c',
        'x-kept': 'yes',
      },
    })
    const seen = (JSON.parse(res.body) as { headers: IncomingHttpHeaders }).headers
    for (const name of [
      'x-secret',
      'keep-alive',
      'proxy-authorization',
      'proxy-connection',
      'te',
      'upgrade',
    ]) {
      expect(seen, name).not.toHaveProperty(name)
    }
    expect(seen['x-kept']).toBe('yes')
    const forwarded = front.responses[0]!.headers
    for (const name of [
      'connection',
      'keep-alive',
      'x-internal',
      'proxy-authenticate',
      'trailer',
      'transfer-encoding',
    ]) {
      expect(forwarded, name).not.toHaveProperty(name)
    }
    expect(forwarded['x-kept']).toBe('yes')
    expect(res.headers['x-internal']).toBeUndefined()
    expect(res.headers['proxy-authenticate']).toBeUndefined()
  })

  it('replaces forwarding headers from an untrusted peer', async () => {
    const up = await echoServer({ via: '1.1 backend' })
    const { front } = await proxy({ url: up.url })
    const res = await send(`${front.url}/`, {
      headers: {
        'x-forwarded-for': '203.0.113.7',
        forwarded: 'for=203.0.113.7',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'spoofed.example',
        via: '1.0 edge',
      },
    })
    const { headers } = JSON.parse(res.body) as Echo
    expect(headers['x-forwarded-for']).toBe('127.0.0.1')
    expect(headers.forwarded).toBe(`for=127.0.0.1;proto=http;host="127.0.0.1:${front.port}"`)
    expect(headers['x-forwarded-proto']).toBe('http')
    expect(headers['x-forwarded-host']).toBe(`127.0.0.1:${front.port}`)
    expect(headers.via).toBe('1.0 edge, 1.1 gw')
    expect(res.headers.via).toBe('1.1 backend, 1.1 gw')
  })

  it('extends forwarding headers from a trusted peer', async () => {
    const up = await echoServer()
    const { front } = await proxy({ url: up.url }, ['127.0.0.1'])
    const res = await send(`${front.url}/`, {
      headers: {
        'x-forwarded-for': '203.0.113.7',
        forwarded: 'for=203.0.113.7;proto=https',
        'x-forwarded-proto': 'https',
        'x-forwarded-host': 'public.example',
      },
    })
    const { headers } = JSON.parse(res.body) as Echo
    expect(headers['x-forwarded-for']).toBe('203.0.113.7, 127.0.0.1')
    expect(headers.forwarded).toBe(
      `for=203.0.113.7;proto=https, for=127.0.0.1;proto=http;host="127.0.0.1:${front.port}"`,
    )
    expect(headers['x-forwarded-proto']).toBe('https')
    expect(headers['x-forwarded-host']).toBe('public.example')
  })
})

describe('upstream forward: connection pool', () => {
  it('reuses one keep-alive connection for sequential requests', async () => {
    const up = await echoServer()
    const { front } = await proxy({ url: up.url })
    for (let i = 0; i < 5; i++) expect((await send(`${front.url}/${i}`)).status).toBe(201)
    expect(up.connections).toBe(1)
  })

  it('opens a connection per request when keepAlive is off', async () => {
    const up = await echoServer()
    const { front } = await proxy({ url: up.url, pool: { keepAlive: false } })
    for (let i = 0; i < 3; i++) {
      const res = await send(`${front.url}/${i}`)
      expect((JSON.parse(res.body) as Echo).headers.connection).toBe('close')
    }
    expect(up.connections).toBe(3)
  })

  it('caps concurrent connections at pool.connections', async () => {
    const up = await echoServer()
    const { front } = await proxy({ url: up.url, pool: { connections: 2 } })
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => send(`${front.url}/${i}`)))
    expect(results.every((r) => r.status === 201)).toBe(true)
    expect(up.connections).toBeLessThanOrEqual(2)
  })

  it('rejects an invalid config with GW_ERR_CONFIG naming the field', () => {
    expect(() => createUpstream('bad', { url: 'ftp://x' }, { log: noopLogger, via: 'gw' })).toThrow(
      /upstreams\.bad\.url/,
    )
  })
})
