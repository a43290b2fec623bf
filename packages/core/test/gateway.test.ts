import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createGateway, definePolicy, type Gateway, type Outcome, respond } from '../src/index.js'
import { type FakeUpstream, startFakeUpstream } from '../src/testing/index.js'
import { parseRawResponse, rawRequest } from './helpers/raw-http.js'

const gateways: Gateway[] = []
async function start(options: Parameters<typeof createGateway>[0]): Promise<Gateway> {
  const gw = await createGateway({ ...options, server: { host: '127.0.0.1', port: 0, ...options.server } })
  gateways.push(gw)
  await gw.listen()
  return gw
}
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
})

describe('gateway: routing, probes and errors over real sockets', () => {
  let upstream: FakeUpstream
  let gw: Gateway
  beforeAll(async () => {
    upstream = await startFakeUpstream()
  })
  afterAll(() => upstream.close())

  const routes = () => ({
    upstreams: { users: { url: upstream.url } },
    routes: [
      { path: '/api/users/*', upstream: 'users', stripPrefix: '/api' },
      {
        id: 'user-by-id',
        path: '/v2/users/:id',
        methods: ['GET' as const],
        upstream: 'users',
        rewrite: { pattern: '^/v2/users/(\\d+)$', replacement: '/users/$1/profile' },
      },
    ],
  })

  it('forwards a matched route with the prefix stripped and the query kept', async () => {
    gw = await start(routes())
    const res = await fetch(`${gw.url}/api/users/42?expand=orders`)
    expect(res.status).toBe(200)
    const echoed = (await res.json()) as { url: string; method: string }
    expect(echoed).toMatchObject({ url: '/users/42?expand=orders', method: 'GET' })
    const bare = await fetch(`${gw.url}/api/users`)
    expect(((await bare.json()) as { url: string }).url).toBe('/users')
  })

  it('applies a route rewrite with captures', async () => {
    gw = await start(routes())
    const res = await fetch(`${gw.url}/v2/users/7`)
    expect(((await res.json()) as { url: string }).url).toBe('/users/7/profile')
  })

  it('answers an unknown route with 404 problem+json carrying the request id', async () => {
    gw = await start(routes())
    const res = await fetch(`${gw.url}/nope`, { headers: { 'x-request-id': 'abc-123' } })
    expect(res.status).toBe(404)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(res.headers.get('x-request-id')).toBe('abc-123')
    expect(await res.json()).toMatchObject({
      status: 404,
      code: 'GW_ERR_ROUTE_NOT_FOUND',
      requestId: 'abc-123',
      title: 'Not found',
    })
  })

  it('answers a known path with a wrong method with 405 and Allow', async () => {
    gw = await start(routes())
    const res = await fetch(`${gw.url}/v2/users/7`, { method: 'DELETE' })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, HEAD')
    expect(await res.json()).toMatchObject({ code: 'GW_ERR_METHOD_NOT_ALLOWED' })
    const options = await fetch(`${gw.url}/v2/users/7`, { method: 'OPTIONS' })
    expect(options.status).toBe(204)
    expect(options.headers.get('allow')).toBe('GET, HEAD')
  })

  it('generates a request id when the incoming one is invalid, echoes it and forwards it upstream', async () => {
    gw = await start(routes())
    const res = await fetch(`${gw.url}/api/users/1`, { headers: { 'x-request-id': 'bad id with spaces' } })
    const id = res.headers.get('x-request-id')
    expect(id).toMatch(/^[0-9a-f-]{36}$/)
    expect(((await res.json()) as { headers: Record<string, string> }).headers['x-request-id']).toBe(id)
  })

  it('serves /health and /ready', async () => {
    gw = await createGateway({ ...routes(), version: '9.9.9', server: { host: '127.0.0.1', port: 0 } })
    gateways.push(gw)
    expect(gw.ready).toBe(false)
    await gw.listen()
    expect(gw.ready).toBe(true)
    const health = await fetch(`${gw.url}/health`)
    expect(health.status).toBe(200)
    const body = (await health.json()) as { status: string; timestamp: string; version: string }
    expect(body.status).toBe('healthy')
    expect(body.version).toBe('9.9.9')
    expect(Number.isNaN(Date.parse(body.timestamp))).toBe(false)
    const ready = await fetch(`${gw.url}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ready', ready: true })
  })

  it('rejects a duplicate Host with 400 problem+json', async () => {
    gw = await start(routes())
    const port = Number(new URL(gw.url).port)
    const raw = await rawRequest(
      port,
      'GET /api/users/1 HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n',
    )
    const res = parseRawResponse(raw)
    expect(res.status).toBe(400)
    expect(res.headers['content-type']).toBe('application/problem+json')
    expect(JSON.parse(res.body)).toMatchObject({ code: 'GW_ERR_BAD_HOST' })
    expect(upstream.requests.some((r) => r.headers.host === 'b.example')).toBe(false)
  })

  it('rejects an invalid Host and a missing Host', async () => {
    gw = await start(routes())
    const port = Number(new URL(gw.url).port)
    const invalid = parseRawResponse(
      await rawRequest(port, 'GET / HTTP/1.1\r\nHost: bad host/x\r\nConnection: close\r\n\r\n'),
    )
    expect(invalid.status).toBe(400)
    const missing = parseRawResponse(await rawRequest(port, 'GET / HTTP/1.1\r\nConnection: close\r\n\r\n'))
    expect(missing.status).toBe(400)
  })

  it('rejects dot-segments (plain and percent-encoded) with 400 before routing', async () => {
    gw = await start(routes())
    const port = Number(new URL(gw.url).port)
    for (const target of ['/api/users/../admin', '/api/users/%2e%2e/admin', '/api/users/./x']) {
      const res = parseRawResponse(
        await rawRequest(port, `GET ${target} HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n`),
      )
      expect(res.status, target).toBe(400)
    }
  })

  it('answers malformed HTTP with 400 problem+json and oversized headers with 431', async () => {
    gw = await start({ ...routes(), server: { maxHeaderSize: 4096 } })
    const port = Number(new URL(gw.url).port)
    const malformed = parseRawResponse(
      await rawRequest(port, 'GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n'),
    )
    expect(malformed.status).toBe(400)
    expect(malformed.headers['content-type']).toBe('application/problem+json')
    const smuggle = parseRawResponse(
      await rawRequest(
        port,
        'POST /api/users HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      ),
    )
    expect(smuggle.status).toBe(400)
    const huge = parseRawResponse(
      await rawRequest(port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(8000)}\r\n\r\n`),
    )
    expect(huge.status).toBe(431)
  })

  it('handles absolute-form targets by their path and authority', async () => {
    gw = await start(routes())
    const port = Number(new URL(gw.url).port)
    const res = parseRawResponse(
      await rawRequest(
        port,
        'GET http://api.example/api/users/5 HTTP/1.1\r\nHost: api.example\r\nConnection: close\r\n\r\n',
      ),
    )
    expect(res.status).toBe(200)
    expect(JSON.parse(res.body)).toMatchObject({ url: '/users/5' })
  })
})

describe('gateway: config validation', () => {
  it('refuses to start with every problem named by its path', async () => {
    const error = await createGateway({
      server: { port: -1 },
      upstreams: { users: { url: 'not a url' } },
      routes: [
        { path: '/a', upstream: 'users' },
        { path: 'b', upstream: 'orders' },
      ],
    }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'GW_ERR_CONFIG' })
    const message = (error as Error).message
    expect(message).toContain('server.port:')
    expect(message).toContain('upstreams.users.url:')
    expect(message).toContain('routes[1].path:')
    expect(message).toContain("routes[1].upstream: unknown upstream 'orders' (defined: users)")
  })

  it('fails at start-up when a policy needs a resource the app did not provide', async () => {
    const needsRedis = definePolicy({
      name: 'needs-redis',
      stage: 'limit',
      schema: z.object({}),
      create: (_config, setup) => {
        setup.need('redis' as never)
        return {}
      },
    })
    await expect(
      createGateway({
        policies: [needsRedis()],
        routes: [{ path: '/', handler: () => ({ status: 200, headers: {}, body: null }) }],
      }),
    ).rejects.toMatchObject({ code: 'GW_ERR_MISSING_RESOURCE' })
  })
})

describe('gateway: upstream failures', () => {
  it('maps a dead upstream to 502 problem+json and a slow one to 504', async () => {
    const slow = await startFakeUpstream(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1500))
      res.end('late')
    })
    const dead = await startFakeUpstream()
    const deadUrl = dead.url
    await dead.close()
    const gw = await start({
      upstreams: { dead: { url: deadUrl }, slow: { url: slow.url, timeouts: { headers: 200 } } },
      routes: [
        { path: '/dead/*', upstream: 'dead' },
        { path: '/slow/*', upstream: 'slow' },
      ],
    })
    const down = await fetch(`${gw.url}/dead/x`)
    expect(down.status).toBe(502)
    expect(down.headers.get('content-type')).toBe('application/problem+json')
    const problem = (await down.json()) as Record<string, unknown>
    expect(problem).toMatchObject({ status: 502, title: 'Bad gateway' })
    expect(JSON.stringify(problem)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|at /)
    const late = await fetch(`${gw.url}/slow/x`)
    expect(late.status).toBe(504)
    expect(await late.json()).toMatchObject({ code: 'GW_ERR_UPSTREAM_TIMEOUT' })
    await slow.close()
  })
})

describe('gateway: onComplete and client aborts over real sockets', () => {
  it('runs onComplete exactly once with 499 when the client aborts mid-request, and aborts the upstream request', async () => {
    let upstreamClosed = false
    const upstream = await startFakeUpstream((req, res) => {
      res.on('close', () => {
        upstreamClosed = !res.writableFinished
      })
      req.resume()
    })
    const outcomes: Outcome[] = []
    const recorder = definePolicy({
      name: 'recorder',
      stage: 'observe',
      schema: z.object({}),
      create: () => ({ onComplete: (_ex, outcome) => outcomes.push(outcome) }),
    })
    const gw = await start({
      upstreams: { up: { url: upstream.url } },
      policies: [recorder()],
      routes: [{ path: '/*', upstream: 'up' }],
    })
    const req = httpRequest(`${gw.url}/hang`)
    req.on('error', () => {})
    req.end()
    await new Promise((r) => setTimeout(r, 200))
    req.destroy()
    await waitFor(() => outcomes.length > 0 && upstreamClosed)
    await new Promise((r) => setTimeout(r, 100))
    expect(outcomes).toHaveLength(1)
    expect(outcomes[0]).toMatchObject({ status: 499, aborted: true })
    expect(upstreamClosed).toBe(true)
    await upstream.close()
  })

  it('runs onComplete once for a local reply, an upstream error and a success, with the status sent', async () => {
    const upstream = await startFakeUpstream()
    const statuses: number[] = []
    const recorder = definePolicy({
      name: 'recorder',
      stage: 'observe',
      schema: z.object({}),
      create: () => ({ onComplete: (_ex, outcome) => statuses.push(outcome.status) }),
    })
    const deny = definePolicy({
      name: 'deny-header',
      stage: 'guard',
      schema: z.object({}),
      create: () => ({ onRequest: (ex) => (ex.request.headers['x-deny'] ? respond(403, 'no') : undefined) }),
    })
    const gw = await start({
      upstreams: { up: { url: upstream.url }, gone: { url: 'http://127.0.0.1:1' } },
      policies: [recorder(), deny()],
      routes: [
        { path: '/ok', upstream: 'up' },
        { path: '/gone', upstream: 'gone' },
      ],
    })
    await (await fetch(`${gw.url}/ok`)).arrayBuffer()
    await (await fetch(`${gw.url}/ok`, { headers: { 'x-deny': '1' } })).arrayBuffer()
    await (await fetch(`${gw.url}/gone`)).arrayBuffer()
    await (await fetch(`${gw.url}/missing`)).arrayBuffer()
    await waitFor(() => statuses.length === 4)
    expect(statuses).toEqual([200, 403, 502, 404])
    await upstream.close()
  })
})

describe('gateway: outcome byte counts', () => {
  it('reports the bytes written for a proxied, streamed response', async () => {
    const body = 'x'.repeat(5000)
    const upstream = await startFakeUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end(body)
    })
    const sent: number[] = []
    const recorder = definePolicy({
      name: 'recorder',
      stage: 'observe',
      schema: z.object({}),
      create: () => ({ onComplete: (_ex, outcome) => sent.push(outcome.bytesSent) }),
    })
    const gw = await start({
      upstreams: { up: { url: upstream.url } },
      policies: [recorder()],
      routes: [{ path: '/*', upstream: 'up' }],
    })
    expect(await (await fetch(`${gw.url}/a`)).text()).toBe(body)
    await waitFor(() => sent.length === 1)
    expect(sent[0]).toBeGreaterThan(body.length)
    expect(sent[0]).toBeLessThan(body.length + 1024)
    await upstream.close()
  })
})

describe('gateway: graceful shutdown', () => {
  it('finishes in-flight requests, reports not-ready while draining and refuses new connections', async () => {
    const upstream = await startFakeUpstream(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 500))
      res.end('finished')
    })
    const gw = await createGateway({
      server: { host: '127.0.0.1', port: 0, drainTimeout: 5000 },
      upstreams: { up: { url: upstream.url } },
      routes: [{ path: '/*', upstream: 'up' }],
    })
    await gw.listen()
    const url = gw.url
    const inflight = fetch(`${url}/slow`).then(async (r) => ({
      status: r.status,
      body: await r.text(),
      connection: r.headers.get('connection'),
    }))
    await new Promise((r) => setTimeout(r, 100))
    const closing = gw.close()
    expect(gw.ready).toBe(false)
    const done = await inflight
    expect(done).toEqual({ status: 200, body: 'finished', connection: 'close' })
    await closing
    await expect(fetch(`${url}/after`)).rejects.toThrow()
    await upstream.close()
  })
})

describe('gateway: graceful shutdown keeps connections that may still carry a request', () => {
  const local = () => ({
    routes: [{ id: 'ok', path: '/ok', handler: () => respond(200, 'ok').respond }],
  })

  /** A raw client socket that collects what it receives and whether the server reset or closed it. */
  async function openSocket(port: number) {
    const socket = connect(port, '127.0.0.1')
    const state = { data: '', error: undefined as string | undefined, closed: false }
    socket.on('data', (chunk: Buffer) => {
      state.data += chunk.toString('latin1')
    })
    socket.on('error', (error: NodeJS.ErrnoException) => {
      state.error = error.code
    })
    socket.on('close', () => {
      state.closed = true
    })
    await once(socket, 'connect')
    return { socket, state }
  }

  it('answers a connection accepted before close() whose request arrives during the drain, with Connection: close', async () => {
    const gw = await start(local())
    const accepted = once(gw.server, 'connection')
    const { socket, state } = await openSocket(Number(new URL(gw.url).port))
    await accepted
    const closing = gw.close()
    await new Promise((r) => setImmediate(r))
    socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n')
    await waitFor(() => state.closed, 5000)
    await closing
    expect(state.error).toBeUndefined()
    const res = parseRawResponse(state.data)
    expect(res.status).toBe(200)
    expect(res.headers.connection).toBe('close')
    expect(res.body).toBe('ok')
  })

  it('answers the next request on an idle keep-alive connection with Connection: close instead of resetting it', async () => {
    const gw = await start(local())
    const { socket, state } = await openSocket(Number(new URL(gw.url).port))
    socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n')
    await waitFor(() => state.data.endsWith('ok'))
    expect(parseRawResponse(state.data).headers.connection).toBe('keep-alive')
    state.data = ''
    const closing = gw.close()
    await new Promise((r) => setTimeout(r, 50))
    socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n')
    await waitFor(() => state.closed, 5000)
    await closing
    expect(state.error).toBeUndefined()
    const res = parseRawResponse(state.data)
    expect(res.status).toBe(200)
    expect(res.headers.connection).toBe('close')
  })

  it('closes an idle keep-alive connection that sends nothing once drainIdleGrace has passed', async () => {
    const gw = await start({ ...local(), server: { drainIdleGrace: 100, drainTimeout: 60_000 } })
    const { socket, state } = await openSocket(Number(new URL(gw.url).port))
    socket.write('GET /ok HTTP/1.1\r\nHost: x\r\n\r\n')
    await waitFor(() => state.data.endsWith('ok'))
    const started = Date.now()
    await gw.close()
    await waitFor(() => state.closed)
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(parseRawResponse(state.data).status).toBe(200)
  })
})

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}
