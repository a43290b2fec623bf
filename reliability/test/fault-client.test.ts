import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { type AddressInfo, connect, type Socket } from 'node:net'
import { requestValidation } from '@gw/security'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type EchoUpstream,
  parseResponses,
  type RunningGateway,
  rawExchange,
  startEchoUpstream,
  startGateway,
  waitFor,
} from './helpers/net.js'

const HEADERS_TIMEOUT = 600
const KEEP_ALIVE_TIMEOUT = 800

let upstream: EchoUpstream
let gw: RunningGateway
/** What the upstream saw of requests whose path starts with /slow: 'finished' or 'aborted'. */
const upstreamOutcomes = new Map<string, string>()

function slowResponder(req: IncomingMessage, res: ServerResponse): void {
  const id = req.url ?? ''
  res.on('close', () => upstreamOutcomes.set(id, res.writableFinished ? 'finished' : 'aborted'))
  res.writeHead(200, { 'content-type': 'text/plain' })
  let sent = 0
  const timer = setInterval(() => {
    if (res.destroyed || sent >= 200) {
      clearInterval(timer)
      if (!res.destroyed) res.end()
      return
    }
    res.write(`chunk ${sent++}\n`)
  }, 20)
  res.on('close', () => clearInterval(timer))
}

beforeAll(async () => {
  upstream = await startEchoUpstream()
  const echo = upstream.respond
  upstream.respond = (req, res, recorded) => {
    if (recorded.url.startsWith('/slow')) slowResponder(req, res)
    else echo(req, res, recorded)
  }
  gw = await startGateway({
    server: {
      headersTimeout: HEADERS_TIMEOUT,
      requestTimeout: 5000,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT,
      maxConnections: 2600,
    },
    upstreams: { up: { url: upstream.url } },
    routes: [
      {
        path: '/upload/*',
        upstream: 'up',
        policies: [requestValidation({ maxBodySize: '64kb' })],
      },
      { path: '/*', upstream: 'up' },
    ],
  })
})

afterAll(async () => {
  await gw?.gateway.close()
  await upstream?.close()
})

async function healthy(): Promise<void> {
  const res = await request(`${gw.url}/still-serving`)
  expect(res.statusCode).toBe(200)
  await res.body.text()
}

describe('client faults through a real gateway', () => {
  it('client aborts mid-request body: the upstream sees the abort, the gateway keeps serving', async () => {
    const before = upstream.requests.length
    const socket = connect(gw.port, '127.0.0.1')
    await once(socket, 'connect')
    socket.write('POST /abort-body HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 100000\r\n\r\n')
    socket.write('x'.repeat(1000))
    const arrived = await waitFor(() => upstream.raw.some((c) => Buffer.concat(c).includes('/abort-body')))
    expect(arrived).toBe(true)
    socket.destroy()
    expect(await waitFor(() => upstream.aborted.includes('/abort-body'))).toBe(true)
    expect(upstream.requests.slice(before).some((r) => r.url === '/abort-body')).toBe(false)
    await healthy()
  })

  it('client aborts mid-response: the upstream response is torn down, the gateway keeps serving', async () => {
    const socket = connect(gw.port, '127.0.0.1')
    await once(socket, 'connect')
    socket.write('GET /slow/1 HTTP/1.1\r\nHost: gw.test\r\n\r\n')
    let received = ''
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString()
    })
    expect(await waitFor(() => received.includes('chunk 1'))).toBe(true)
    socket.destroy()
    expect(await waitFor(() => upstreamOutcomes.has('/slow/1'))).toBe(true)
    expect(upstreamOutcomes.get('/slow/1')).toBe('aborted')
    await healthy()
  })

  it('slowloris (headers one byte per interval) -> 408 after headersTimeout, connection closed', async () => {
    const head = 'GET /slowloris HTTP/1.1\r\nHost: gw.test\r\nX-Padding: ' + 'a'.repeat(120) + '\r\n\r\n'
    const started = Date.now()
    const reply = await rawExchange(gw.port, [...head], { gap: 50, timeout: 15_000 })
    expect(reply.timedOut).toBe(false)
    expect(reply.closed).toBe(true)
    expect(Date.now() - started).toBeGreaterThanOrEqual(HEADERS_TIMEOUT - 50)
    expect(parseResponses(reply.raw)[0]?.status).toBe(408)
    expect(upstream.requests.some((r) => r.url === '/slowloris')).toBe(false)
    await healthy()
  })

  it('huge headers -> 431 problem+json', async () => {
    const reply = await rawExchange(
      gw.port,
      `GET /huge HTTP/1.1\r\nHost: gw.test\r\nX-Big: ${'b'.repeat(40_000)}\r\n\r\n`,
    )
    const [res] = parseResponses(reply.raw)
    expect(res?.status).toBe(431)
    expect(res?.headers['content-type']).toMatch(/application\/problem\+json/)
    expect(upstream.requests.some((r) => r.url === '/huge')).toBe(false)
  })

  it('huge declared body -> 413 without reading it (nothing forwarded)', async () => {
    const reply = await rawExchange(
      gw.port,
      'POST /upload/file HTTP/1.1\r\nHost: gw.test\r\nContent-Type: application/octet-stream\r\nContent-Length: 10737418240\r\n\r\n',
      { until: (raw) => parseResponses(raw)[0]?.complete === true, timeout: 5000 },
    )
    expect(reply.timedOut).toBe(false)
    const [res] = parseResponses(reply.raw)
    expect(res?.status).toBe(413)
    expect(upstream.requests.some((r) => r.url === '/upload/file')).toBe(false)
    await healthy()
  })

  it('2,000 idle keep-alive connections: bounded memory, other clients served, keepAliveTimeout closes them', async () => {
    const COUNT = 2000
    const sockets: Socket[] = []
    let answered = 0
    let closed = 0
    const rssBefore = process.memoryUsage().rss
    try {
      for (let batch = 0; batch < COUNT / 100; batch++) {
        await Promise.all(
          Array.from({ length: 100 }, async () => {
            const socket = connect(gw.port, '127.0.0.1')
            sockets.push(socket)
            socket.on('error', () => {})
            socket.on('close', () => closed++)
            let seen = ''
            socket.on('data', (chunk: Buffer) => {
              if (seen.includes('\r\n\r\n')) return
              seen += chunk.toString('latin1')
              if (seen.includes('\r\n\r\n')) answered++
            })
            await once(socket, 'connect')
            socket.write('GET /idle HTTP/1.1\r\nHost: gw.test\r\n\r\n')
          }),
        )
      }
      expect(await waitFor(() => answered === COUNT, 20_000)).toBe(true)
      const open = await new Promise<number>((resolve, reject) =>
        gw.gateway.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      )
      expect(open).toBeLessThanOrEqual(COUNT)
      await healthy()
      const grownMb = (process.memoryUsage().rss - rssBefore) / 1024 / 1024
      expect(grownMb).toBeLessThan(300)
      expect(await waitFor(() => closed === COUNT, 20_000, 100)).toBe(true)
      const after = await new Promise<number>((resolve, reject) =>
        gw.gateway.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      )
      expect(after).toBeLessThanOrEqual(1)
    } finally {
      for (const socket of sockets) socket.destroy()
    }
  })
})

describe('maxConnections is honoured', () => {
  let capped: RunningGateway
  beforeAll(async () => {
    capped = await startGateway({
      server: { maxConnections: 50, keepAliveTimeout: 10_000, headersTimeout: 10_000 },
      upstreams: { up: { url: upstream.url } },
      routes: [{ path: '/*', upstream: 'up' }],
    })
  })
  afterAll(() => capped?.gateway.close())

  it('connections beyond the cap are closed at once; the accepted ones keep working', async () => {
    const sockets: Socket[] = []
    const closedEarly: boolean[] = []
    try {
      for (let i = 0; i < 80; i++) {
        const socket = connect(capped.port, '127.0.0.1')
        const index = i
        closedEarly[index] = false
        socket.on('error', () => {})
        socket.on('close', () => {
          closedEarly[index] = true
        })
        sockets.push(socket)
        await once(socket, 'connect')
      }
      await waitFor(() => closedEarly.filter(Boolean).length >= 30, 5000)
      const open = await new Promise<number>((resolve, reject) =>
        capped.gateway.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      )
      expect(open).toBeLessThanOrEqual(50)
      expect(closedEarly.filter(Boolean).length).toBeGreaterThanOrEqual(30)
      const survivor = sockets.find((_s, i) => !closedEarly[i])
      expect(survivor).toBeDefined()
      const reply = await new Promise<string>((resolve) => {
        let seen = ''
        survivor?.on('data', (chunk: Buffer) => {
          seen += chunk.toString('latin1')
          if (parseResponses(seen)[0]?.complete) resolve(seen)
        })
        survivor?.write('GET /survivor HTTP/1.1\r\nHost: gw.test\r\n\r\n')
        setTimeout(() => resolve(seen), 5000)
      })
      expect(parseResponses(reply)[0]?.status).toBe(200)
    } finally {
      for (const socket of sockets) socket.destroy()
    }
  })
})

describe('backpressure: bodies are streamed, never buffered whole', () => {
  const TOTAL = 512 * 1024 * 1024
  const LIMIT = 64 * 1024 * 1024
  const CHUNK = Buffer.alloc(1024 * 1024, 97)
  let sink: Server
  let sinkPort: number
  let upstreamWritten = 0
  let gwBp: RunningGateway
  const sockets = new Set<Socket>()

  /** Waits until `progress()` stops changing for `quiet` ms (bounded by `timeout`); returns the last value. */
  async function stalled(progress: () => number, quiet = 500, timeout = 15_000): Promise<number> {
    const deadline = Date.now() + timeout
    let last = -1
    let since = Date.now()
    while (Date.now() < deadline) {
      const now = progress()
      if (now !== last) {
        last = now
        since = Date.now()
      } else if (Date.now() - since >= quiet) break
      await new Promise((r) => setTimeout(r, 50))
    }
    return last
  }

  beforeAll(async () => {
    sink = createServer((req, res) => {
      if (req.url === '/upload') {
        req.pause()
        return
      }
      res.writeHead(200, { 'content-type': 'application/octet-stream' })
      const pump = (): void => {
        while (upstreamWritten < TOTAL && !res.destroyed) {
          upstreamWritten += CHUNK.length
          if (!res.write(CHUNK)) {
            res.once('drain', pump)
            return
          }
        }
        if (!res.destroyed) res.end()
      }
      pump()
    })
    sink.on('connection', (socket: Socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    sink.listen(0, '127.0.0.1')
    await once(sink, 'listening')
    sinkPort = (sink.address() as AddressInfo).port
    gwBp = await startGateway({
      upstreams: { sink: { url: `http://127.0.0.1:${sinkPort}` } },
      routes: [{ path: '/*', upstream: 'sink' }],
    })
  })

  afterAll(async () => {
    await gwBp?.gateway.close()
    for (const socket of sockets) socket.destroy()
    await new Promise((r) => sink?.close(r))
  })

  it('a client uploading 512 MB to an upstream that does not read stalls long before the gateway holds it all', async () => {
    const socket = connect(gwBp.port, '127.0.0.1')
    socket.on('error', () => {})
    await once(socket, 'connect')
    socket.write(`POST /upload HTTP/1.1\r\nHost: gw.test\r\nContent-Length: ${TOTAL}\r\n\r\n`)
    let sent = 0
    let stop = false
    const feed = (): void => {
      while (!stop && sent < TOTAL) {
        sent += CHUNK.length
        if (!socket.write(CHUNK)) {
          socket.once('drain', feed)
          return
        }
      }
    }
    feed()
    const settled = await stalled(() => sent)
    stop = true
    socket.destroy()
    expect(settled).toBeLessThan(LIMIT)
    expect(settled).toBeGreaterThan(0)
  })

  it('an upstream sending 512 MB to a client that does not read stalls long before the gateway holds it all', async () => {
    upstreamWritten = 0
    const socket = connect(gwBp.port, '127.0.0.1')
    socket.on('error', () => {})
    await once(socket, 'connect')
    socket.write('GET /download HTTP/1.1\r\nHost: gw.test\r\n\r\n')
    socket.pause()
    expect(await waitFor(() => upstreamWritten > 0)).toBe(true)
    const settled = await stalled(() => upstreamWritten)
    socket.destroy()
    expect(settled).toBeLessThan(LIMIT)
  })
})
