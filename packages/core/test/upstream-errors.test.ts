import { once } from 'node:events'
import { request as httpRequest, type ServerResponse } from 'node:http'
import { type AddressInfo, createServer as createNetServer } from 'node:net'
import { PassThrough } from 'node:stream'
import { afterEach, describe, expect, it } from 'vitest'
import { systemClock } from '../src/clock.js'
import { GatewayError } from '../src/errors.js'
import { Exchange, GwRequest, UNMATCHED_ROUTE } from '../src/exchange/exchange.js'
import { noopLogger } from '../src/logger.js'
import { createUpstream, type Upstream, type UpstreamInput } from '../src/upstream/index.js'
import {
  captureLogger,
  delay,
  type Front,
  send,
  startFront,
  startServer,
  type TestServer,
} from './upstream-harness.js'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()))
})

async function server(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const s = await startServer(...args)
  cleanups.push(() => s.close())
  return s
}

async function proxy(config: UpstreamInput, log = noopLogger): Promise<{ front: Front; upstream: Upstream }> {
  const upstream = createUpstream('svc', config, { log, via: 'gw', closeGrace: 200 })
  const front = await startFront(upstream, log)
  cleanups.push(async () => {
    await front.close()
    await upstream.close()
  })
  return { front, upstream }
}

async function closedPort(): Promise<number> {
  const probe = createNetServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

function problemOf(body: string): { status: number; code: string; detail: string } {
  return JSON.parse(body) as { status: number; code: string; detail: string }
}

describe('upstream errors: status mapping', () => {
  it('answers 502 GW_ERR_UPSTREAM_UNAVAILABLE when the upstream is down, logging the cause at warn', async () => {
    const log = captureLogger()
    const { front } = await proxy({ url: `http://127.0.0.1:${await closedPort()}` }, log)
    const res = await send(`${front.url}/x`)
    expect(res.status).toBe(502)
    const problem = problemOf(res.body)
    expect(problem.code).toBe('GW_ERR_UPSTREAM_UNAVAILABLE')
    expect(problem.detail).toBe('Bad gateway')
    expect(res.body).not.toContain('ECONNREFUSED')
    expect(front.failures[0]).toBeInstanceOf(GatewayError)
    expect(front.failures[0]!.status).toBe(502)
    const warn = log.records.find((r) => r.level === 'warn')
    expect(warn?.obj).toMatchObject({ upstream: 'svc', code: 'ECONNREFUSED' })
  })

  it('answers 504 GW_ERR_UPSTREAM_TIMEOUT when response headers come after timeouts.headers', async () => {
    // undici runs headers/body timeouts on its coarse "fast timers" (about 1 s resolution)
    const up = await server((_req, res) => {
      setTimeout(() => res.end('late'), 5000).unref()
    })
    const { front } = await proxy({ url: up.url, timeouts: { headers: 200 } })
    const started = Date.now()
    const res = await send(`${front.url}/slow`)
    expect(res.status).toBe(504)
    expect(problemOf(res.body).code).toBe('GW_ERR_UPSTREAM_TIMEOUT')
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('answers 502 GW_ERR_UPSTREAM_PROTOCOL for a malformed upstream response', async () => {
    const raw = createNetServer((socket) => {
      socket.on('data', () => socket.end('NOT-HTTP garbage\r\n\r\n'))
      socket.on('error', () => {})
    }).listen(0, '127.0.0.1')
    await once(raw, 'listening')
    cleanups.push(() => new Promise((resolve) => raw.close(() => resolve())))
    const { front } = await proxy({ url: `http://127.0.0.1:${(raw.address() as AddressInfo).port}` })
    const res = await send(`${front.url}/`)
    expect(res.status).toBe(502)
    expect(problemOf(res.body).code).toBe('GW_ERR_UPSTREAM_PROTOCOL')
  })

  it('answers 502 GW_ERR_UPSTREAM_RESET when the upstream closes before responding', async () => {
    const up = await server((req) => req.socket.destroy())
    const { front } = await proxy({ url: up.url })
    const res = await send(`${front.url}/`)
    expect(res.status).toBe(502)
    expect(problemOf(res.body).code).toBe('GW_ERR_UPSTREAM_RESET')
  })
})

describe('upstream errors: mid-body failures surface on the body stream', () => {
  it('errors the response body when the upstream resets while streaming', async () => {
    const up = await server((_req, res) => {
      res.writeHead(200, { 'content-length': '100000' })
      res.write(Buffer.alloc(1000, 98))
      setTimeout(() => res.socket?.destroy(), 50).unref()
    })
    const { front } = await proxy({ url: up.url })
    await expect(send(`${front.url}/`)).rejects.toThrow()
    await expect.poll(() => front.bodyErrors.length, { timeout: 2000 }).toBe(1)
    expect((front.bodyErrors[0] as { code?: string }).code).toBe('UND_ERR_SOCKET')
  })

  it('errors the response body when the upstream stalls longer than timeouts.body', async () => {
    const up = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('first chunk')
    })
    const { front } = await proxy({ url: up.url, timeouts: { body: 200 } })
    await expect(send(`${front.url}/`)).rejects.toThrow()
    await expect.poll(() => front.bodyErrors.length, { timeout: 2000 }).toBe(1)
    expect((front.bodyErrors[0] as { code?: string }).code).toBe('UND_ERR_BODY_TIMEOUT')
  })
})

describe('upstream errors: client abort', () => {
  it('aborts the upstream request when the client goes away while waiting for headers', async () => {
    let upstreamRes: ServerResponse | undefined
    const up = await server((_req, res) => {
      upstreamRes = res
    })
    const { front } = await proxy({ url: up.url })
    const client = httpRequest(`${front.url}/wait`, { agent: false })
    client.on('error', () => {})
    client.end()
    await expect.poll(() => upstreamRes !== undefined, { timeout: 2000 }).toBe(true)
    const closed = once(upstreamRes!, 'close')
    client.destroy()
    await closed
    expect(upstreamRes!.writableFinished).toBe(false)
    await front.settled(1)
    expect(front.failures[0]!.code).toBe('GW_ERR_CLIENT_ABORTED')
    expect(front.failures[0]!.status).toBe(499)
  })

  it('aborts the upstream request when the client goes away mid-upload', async () => {
    let received = 0
    let upstreamClosed = false
    const up = await server((req) => {
      req.on('data', (c: Buffer) => {
        received += c.length
      })
      req.on('close', () => {
        upstreamClosed = true
      })
    })
    const { front } = await proxy({ url: up.url })
    const client = httpRequest(`${front.url}/upload`, {
      method: 'POST',
      agent: false,
      headers: { 'content-length': '1000000' },
    })
    client.on('error', () => {})
    client.write(Buffer.alloc(1000, 99))
    await expect.poll(() => received, { timeout: 2000 }).toBe(1000)
    client.destroy()
    await expect.poll(() => upstreamClosed, { timeout: 2000 }).toBe(true)
    await front.settled(1)
    expect(front.failures[0]!.code).toBe('GW_ERR_CLIENT_ABORTED')
  })

  it('does not send anything when the exchange is already aborted', async () => {
    const up = await server((_req, res) => res.end('ok'))
    const upstream = createUpstream('svc', { url: up.url }, { log: noopLogger, via: 'gw' })
    cleanups.push(() => upstream.close())
    const request = new GwRequest({
      method: 'GET',
      url: '/',
      headers: {},
      body: new PassThrough(),
      ip: '127.0.0.1',
      protocol: 'http',
      host: 'localhost',
    })
    const ex = new Exchange({
      id: 'r1',
      request,
      route: UNMATCHED_ROUTE,
      upstreamPath: '/',
      clock: systemClock,
      log: noopLogger,
    })
    ex.abort()
    await expect(upstream.forward(ex)).rejects.toMatchObject({ code: 'GW_ERR_CLIENT_ABORTED', status: 499 })
    await delay(50)
    expect(up.connections).toBe(0)
  })
})

describe('upstream errors: retries', () => {
  it('retries a GET after the first connection is reset', async () => {
    const up = await server(
      (_req, res) => res.end('second try'),
      (socket, index) => {
        if (index === 0) socket.destroy()
      },
    )
    const { front } = await proxy({ url: up.url, retries: 2, retryBackoff: 10 })
    const res = await send(`${front.url}/`)
    expect(res.status).toBe(200)
    expect(res.body).toBe('second try')
    expect(up.connections).toBe(2)
  })

  it('does not retry a POST with a body, and still answers the client with 502', async () => {
    let requests = 0
    const up = await server(
      (_req, res) => {
        requests++
        res.end('should not happen')
      },
      (socket, index) => {
        if (index === 0) socket.destroy()
      },
    )
    const { front } = await proxy({ url: up.url, retries: 2, retryBackoff: 10 })
    const res = await send(`${front.url}/`, { method: 'POST', body: 'payload' })
    expect(res.status).toBe(502)
    expect(problemOf(res.body).code).toBe('GW_ERR_UPSTREAM_RESET')
    await delay(50)
    expect(up.connections).toBe(1)
    expect(requests).toBe(0)
  })

  it('does not retry when retries is 0', async () => {
    const up = await server(
      (_req, res) => res.end('ok'),
      (socket, index) => {
        if (index === 0) socket.destroy()
      },
    )
    const { front } = await proxy({ url: up.url })
    expect((await send(`${front.url}/`)).status).toBe(502)
    expect(up.connections).toBe(1)
  })

  it('retries a refused GET with backoff until the upstream comes up', async () => {
    const port = await closedPort()
    const { front } = await proxy({ url: `http://127.0.0.1:${port}`, retries: 5, retryBackoff: 100 })
    const started = send(`${front.url}/`)
    await delay(150)
    const up = await startServerOn(port)
    cleanups.push(() => up.close())
    const res = await started
    expect(res.status).toBe(200)
    expect(res.body).toBe('up now')
  })
})

async function startServerOn(port: number): Promise<TestServer> {
  const { createServer } = await import('node:http')
  const s = createServer((_req, res) => res.end('up now'))
  s.listen(port, '127.0.0.1')
  await once(s, 'listening')
  return {
    server: s,
    url: `http://127.0.0.1:${port}`,
    port,
    connections: 0,
    close: () =>
      new Promise<void>((resolve) => {
        s.closeAllConnections()
        s.close(() => resolve())
      }),
  }
}

describe('upstream close', () => {
  it('closes idle pools and destroys busy ones after the grace period', async () => {
    const up = await server(() => {})
    const upstream = createUpstream('svc', { url: up.url }, { log: noopLogger, via: 'gw', closeGrace: 100 })
    const front = await startFront(upstream)
    cleanups.push(() => front.close())
    const pending = send(`${front.url}/hang`)
    await expect.poll(() => up.connections, { timeout: 2000 }).toBe(1)
    const started = Date.now()
    await upstream.close()
    expect(Date.now() - started).toBeLessThan(1000)
    const res = await pending
    expect(res.status).toBe(503)
    expect(problemOf(res.body).code).toBe('GW_ERR_SHUTTING_DOWN')
    const after = await send(`${front.url}/after`)
    expect(after.status).toBe(503)
  })
})
