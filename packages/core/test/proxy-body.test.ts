import { once } from 'node:events'
import { request as httpRequest } from 'node:http'
import { Readable, Transform } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createGateway, definePolicy, type Gateway, type GwResponse, type Outcome } from '../src/index.js'
import { startServer, type TestServer } from './upstream-harness.js'

// The proxied response's body is not a stream until someone reads it: the server writes upstream chunks
// straight into the client response, and a Readable is made only for policies that read `res.body`. These
// tests hold the behaviours that must not change with that: transforms, replacements, late sends, HEAD/204,
// aborts both ways, and bookkeeping (inflight, onComplete).

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((fn) => fn()))
})

async function upstream(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const server = await startServer(handler)
  cleanups.push(() => server.close())
  return server
}

async function gateway(options: Omit<Parameters<typeof createGateway>[0], 'server'>): Promise<Gateway> {
  const gw = await createGateway({ ...options, server: { host: '127.0.0.1', port: 0 } })
  await gw.listen()
  cleanups.unshift(() => gw.close())
  return gw
}

function onResponsePolicy(
  name: string,
  onResponse: (res: GwResponse) => void | Promise<void>,
): ReturnType<ReturnType<typeof definePolicy>> {
  return definePolicy({
    name,
    stage: 'transform',
    schema: z.object({}),
    create: () => ({
      onResponse: async (_ex, res) => {
        await onResponse(res)
      },
    }),
  })()
}

const recorded: Outcome[] = []
const recorder = definePolicy({
  name: 'outcome-recorder',
  stage: 'observe',
  schema: z.object({}),
  create: () => ({ onComplete: (_ex, outcome) => recorded.push(outcome) }),
})

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return
    await sleep(10)
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('proxied response bodies', () => {
  it('streams a body a policy transforms (the body becomes a Readable when read)', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('hello ')
      setTimeout(() => res.end('world'), 20)
    })
    const upper = onResponsePolicy('upper', (res) => {
      const body = res.body as Readable
      expect(body).toBeInstanceOf(Readable)
      res.body = body.pipe(
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            done(null, chunk.toString().toUpperCase())
          },
        }),
      )
      delete res.headers['content-length']
    })
    const gw = await gateway({
      upstreams: { up: { url: up.url } },
      routes: [{ path: '/*', upstream: 'up', policies: [upper] }],
    })
    const res = await fetch(`${gw.url}/x`)
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('HELLO WORLD')
  })

  it('replacing the body without reading it stops the upstream and frees its connection', async () => {
    let upstreamClosed = false
    const up = await upstream((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('x'.repeat(1024))
      req.socket.once('close', () => {
        upstreamClosed = true
      })
      // Never ends on its own: only an abort from the gateway closes this response.
    })
    const replace = onResponsePolicy('replace', (res) => {
      res.body = 'replaced'
      res.headers = { 'content-type': 'text/plain' }
    })
    const gw = await gateway({
      upstreams: { up: { url: up.url } },
      routes: [{ path: '/*', upstream: 'up', policies: [replace] }],
    })
    const res = await fetch(`${gw.url}/x`)
    expect(await res.text()).toBe('replaced')
    await waitFor(() => upstreamClosed, 'the upstream request to be aborted')
  })

  it('sends a body that fully arrived while an async policy was still running', async () => {
    const body = 'y'.repeat(200_000)
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length) })
      res.end(body)
    })
    const slow = onResponsePolicy('slow', async (res) => {
      await sleep(100)
      res.headers['x-slow'] = '1'
    })
    const gw = await gateway({
      upstreams: { up: { url: up.url } },
      policies: [recorder()],
      routes: [{ path: '/*', upstream: 'up', policies: [slow] }],
    })
    recorded.length = 0
    const res = await fetch(`${gw.url}/big`)
    expect(res.headers.get('x-slow')).toBe('1')
    expect(res.headers.get('via')).toBe('1.1 gw')
    expect(await res.text()).toBe(body)
    await waitFor(() => recorded.length === 1, 'onComplete')
    expect(recorded[0]!.status).toBe(200)
    expect(recorded[0]!.bytesSent).toBeGreaterThanOrEqual(body.length)
  })

  it('answers HEAD and 204 without a body', async () => {
    const up = await upstream((req, res) => {
      if (req.url === '/empty') {
        res.writeHead(204)
        res.end()
        return
      }
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' })
      res.end(req.method === 'HEAD' ? undefined : 'hello')
    })
    const gw = await gateway({ upstreams: { up: { url: up.url } }, routes: [{ path: '/*', upstream: 'up' }] })
    const head = await fetch(`${gw.url}/x`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe('5')
    expect(await head.text()).toBe('')
    const empty = await fetch(`${gw.url}/empty`)
    expect(empty.status).toBe(204)
    expect(await empty.text()).toBe('')
    const get = await fetch(`${gw.url}/x`)
    expect(await get.text()).toBe('hello')
  })

  it('keeps backpressure: a slow client pauses the upstream instead of buffering its body', async () => {
    const chunk = Buffer.alloc(64 * 1024, 97)
    let written = 0
    let stopped = false
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const pump = (): void => {
        while (!stopped && written < 64 * 1024 * 1024) {
          written += chunk.length
          if (!res.write(chunk)) {
            res.once('drain', pump)
            return
          }
        }
        res.end()
      }
      res.on('close', () => {
        stopped = true
      })
      pump()
    })
    const gw = await gateway({ upstreams: { up: { url: up.url } }, routes: [{ path: '/*', upstream: 'up' }] })
    const req = httpRequest(`${gw.url}/stream`)
    req.end()
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage]
    res.pause()
    await sleep(300)
    // Socket and stream buffers on both hops hold a few MB at most; without backpressure all 64 MB would flow.
    expect(written).toBeLessThan(16 * 1024 * 1024)
    res.destroy()
    await waitFor(() => stopped, 'the upstream response to be aborted')
  })

  it('a client that goes away mid-body aborts the upstream and is recorded as 499', async () => {
    let upstreamClosed = false
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('partial')
      res.on('close', () => {
        upstreamClosed = true
      })
    })
    const gw = await gateway({
      upstreams: { up: { url: up.url } },
      policies: [recorder()],
      routes: [{ path: '/*', upstream: 'up' }],
    })
    recorded.length = 0
    const req = httpRequest(`${gw.url}/x`)
    req.on('error', () => {})
    req.end()
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage]
    await once(res, 'data')
    req.destroy()
    await waitFor(() => upstreamClosed, 'the upstream response to be aborted')
    await waitFor(() => recorded.length === 1, 'onComplete')
    expect(recorded[0]!.status).toBe(499)
    expect(recorded[0]!.aborted).toBe(true)
  })

  it('a client that goes away before the upstream answers aborts the upstream request (499)', async () => {
    let upstreamClosed = false
    const up = await upstream((req) => {
      req.socket.once('close', () => {
        upstreamClosed = true
      })
    })
    const gw = await gateway({
      upstreams: { up: { url: up.url } },
      policies: [recorder()],
      routes: [{ path: '/*', upstream: 'up' }],
    })
    recorded.length = 0
    const req = httpRequest(`${gw.url}/hang`)
    req.on('error', () => {})
    req.end()
    await sleep(100)
    req.destroy()
    await waitFor(() => upstreamClosed, 'the upstream request to be aborted')
    await waitFor(() => recorded.length === 1, 'onComplete')
    expect(recorded[0]!.status).toBe(499)
  })

  it('an upstream that fails mid-body ends the client response abruptly, never as a clean end', async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100' })
      res.write('only part')
      setTimeout(() => res.socket?.destroy(), 20)
    })
    const gw = await gateway({ upstreams: { up: { url: up.url } }, routes: [{ path: '/*', upstream: 'up' }] })
    const req = httpRequest(`${gw.url}/x`)
    req.end()
    const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage]
    let received = ''
    res.setEncoding('utf8')
    res.on('data', (c: string) => {
      received += c
    })
    const ending = await Promise.race([
      once(res, 'end').then(() => 'end'),
      once(res, 'aborted').then(() => 'aborted'),
      once(res, 'error').then(() => 'error'),
    ])
    expect(ending).not.toBe('end')
    expect(received).toBe('only part')
  })
})
