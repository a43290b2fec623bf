import { once } from 'node:events'
import { type AddressInfo, createServer } from 'node:net'
import { request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import {
  hasHead,
  parseResponses,
  type RawConnection,
  type RawServer,
  type RunningGateway,
  rawExchange,
  startGateway,
  startRawServer,
  startRawServerOn,
} from './helpers/net.js'

const cleanups: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

const HEADERS_TIMEOUT = 400
const BODY_TIMEOUT = 400

async function gatewayFor(url: string, extra: Record<string, unknown> = {}): Promise<RunningGateway> {
  const gw = await startGateway({
    upstreams: {
      up: { url, timeouts: { connect: 1000, headers: HEADERS_TIMEOUT, body: BODY_TIMEOUT }, ...extra },
    },
    routes: [{ path: '/*', upstream: 'up' }],
  })
  cleanups.push(() => gw.gateway.close())
  return gw
}

async function raw(onData: Parameters<typeof startRawServer>[0]): Promise<RawServer> {
  const server = await startRawServer(onData)
  cleanups.push(() => server.close())
  return server
}

const GET = (path = '/') => `GET ${path} HTTP/1.1\r\nHost: gw.test\r\n\r\n`

/** A response the client can only read as complete if it really is: status plus framing check. */
async function fetchRaw(port: number, path = '/', timeout = 5000) {
  const reply = await rawExchange(port, GET(path), {
    timeout,
    until: (text) => {
      const [res] = parseResponses(text)
      return res?.complete === true
    },
  })
  return { reply, response: parseResponses(reply.raw)[0] }
}

async function waitForCount(count: () => number, target: number): Promise<boolean> {
  const deadline = Date.now() + 5000
  while (count() < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
  return count() >= target
}

async function closedPort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

describe('upstream faults through a real gateway', () => {
  it('refused connection -> 502 problem+json', async () => {
    const gw = await gatewayFor(`http://127.0.0.1:${await closedPort()}`)
    const { response } = await fetchRaw(gw.port)
    expect(response?.status).toBe(502)
    expect(response?.headers['content-type']).toMatch(/application\/problem\+json/)
    expect(response?.complete).toBe(true)
    expect(JSON.parse(response?.body ?? '{}')).toMatchObject({ status: 502 })
  })

  it('reset after the request arrived, before any response byte -> 502', async () => {
    const upstream = await raw((conn) => {
      if (hasHead(conn)) conn.socket.resetAndDestroy()
    })
    const gw = await gatewayFor(upstream.url)
    const { response } = await fetchRaw(gw.port)
    expect(response?.status).toBe(502)
    expect(response?.complete).toBe(true)
  })

  it('reset mid-response (after headers and part of the body) -> the client sees an aborted response', async () => {
    const upstream = await raw((conn) => {
      if (!hasHead(conn)) return
      conn.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n' + 'x'.repeat(100))
      setTimeout(() => conn.socket.resetAndDestroy(), 50)
    })
    const gw = await gatewayFor(upstream.url)
    const { reply, response } = await fetchRaw(gw.port)
    expect(reply.timedOut).toBe(false)
    expect(reply.closed).toBe(true)
    expect(response?.status).toBe(200)
    expect(response?.complete).toBe(false)
  })

  it('stall before headers -> 504 once the headers timeout fires', async () => {
    const upstream = await raw(() => {})
    const gw = await gatewayFor(upstream.url)
    const started = Date.now()
    const { reply, response } = await fetchRaw(gw.port, '/', 10_000)
    expect(Date.now() - started).toBeGreaterThanOrEqual(HEADERS_TIMEOUT - 20)
    expect(reply.timedOut).toBe(false)
    expect(response?.status).toBe(504)
    expect(JSON.parse(response?.body ?? '{}')).toMatchObject({ status: 504 })
  })

  it('stall mid-body -> the response is terminated by the body timeout, not left hanging', async () => {
    for (const framing of ['content-length: 1000', 'transfer-encoding: chunked']) {
      const chunked = framing.startsWith('transfer')
      const upstream = await raw((conn) => {
        if (!hasHead(conn)) return
        conn.socket.write(`HTTP/1.1 200 OK\r\n${framing}\r\n\r\n${chunked ? '5\r\nhello\r\n' : 'hello'}`)
      })
      const gw = await gatewayFor(upstream.url)
      const { reply, response } = await fetchRaw(gw.port, '/', 10_000)
      expect(reply.timedOut, framing).toBe(false)
      expect(reply.closed, framing).toBe(true)
      expect(response?.status, framing).toBe(200)
      expect(response?.complete, framing).toBe(false)
    }
  })

  it.each([
    ['garbage status line', 'HELLO WORLD\r\n\r\n', 502],
    ['invalid header name', 'HTTP/1.1 200 OK\r\nbad header: x\r\ncontent-length: 0\r\n\r\n', 502],
    ['invalid content-length', 'HTTP/1.1 200 OK\r\ncontent-length: abc\r\n\r\n', 502],
    [
      'CL and TE together',
      'HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
      502,
    ],
    ['NUL in a header value', 'HTTP/1.1 200 OK\r\nx-a: a\0b\r\ncontent-length: 0\r\n\r\n', 502],
    [
      'bad chunk size (headers were fine)',
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
      'aborted',
    ],
    ['short chunk then close', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\na\r\nhel', 'aborted'],
    [
      '64 kB of response headers',
      `HTTP/1.1 200 OK\r\nx-big: ${'h'.repeat(65_536)}\r\ncontent-length: 0\r\n\r\n`,
      502,
    ],
    ['duplicate Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nabc', 502],
    [
      // undici rejects an unsolicited 100 Continue ('bad response'): the client gets a clean 502, not a hang
      'unsolicited 100 Continue',
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok',
      502,
    ],
  ] as const)(
    'malformed response (%s): 502 or an aborted response, never a complete 2xx',
    async (_name, payload, expected) => {
      const upstream = await raw((conn) => {
        if (hasHead(conn)) conn.socket.end(payload)
      })
      const gw = await gatewayFor(upstream.url)
      const { reply, response } = await fetchRaw(gw.port)
      expect(reply.timedOut).toBe(false)
      if (expected === 502) {
        expect(response).toMatchObject({ status: 502, complete: true })
        expect(response?.headers['content-type']).toMatch(/application\/problem\+json/)
      } else {
        expect(reply.closed).toBe(true)
        expect(response === undefined || response.complete === false).toBe(true)
      }
    },
  )

  it('Content-Length mismatch (short body, then close) -> the client sees an aborted response, not a complete 200', async () => {
    const upstream = await raw((conn) => {
      if (hasHead(conn)) conn.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly-twenty-bytes!!!')
    })
    const gw = await gatewayFor(upstream.url)
    const { reply, response } = await fetchRaw(gw.port)
    expect(reply.timedOut).toBe(false)
    expect(reply.closed).toBe(true)
    if (response?.status === 502) expect(response.complete).toBe(true)
    else {
      expect(response?.status).toBe(200)
      expect(response?.complete).toBe(false)
    }
  })

  it('keep-alive connections closed by the upstream: idempotent requests succeed (or 502) and the pool recovers', async () => {
    let served = 0
    const upstream = await raw((conn) => {
      const text = conn.text()
      const requests = text.split('\r\n\r\n').length - 1
      const answered = (conn as { answered?: number }).answered ?? 0
      if (requests <= answered) return
      ;(conn as { answered?: number }).answered = requests
      served++
      conn.socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=60\r\n\r\nok')
      if (served % 3 === 0) setTimeout(() => conn.socket.destroy(), 5)
    })
    const gw = await gatewayFor(upstream.url, { retries: 2, retryBackoff: 1 })
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) {
      const res = await request(`${gw.url}/k/${i}`)
      await res.body.text()
      statuses.push(res.statusCode)
      if (i % 5 === 4) await new Promise((r) => setTimeout(r, 20))
    }
    expect(statuses.every((s) => s === 200 || s === 502)).toBe(true)
    expect(statuses.slice(-5)).toEqual([200, 200, 200, 200, 200])
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(25)
    expect(upstream.connections.length).toBeGreaterThan(1)
  })

  it('a POST whose connection dies after it was sent is not retried (never duplicated); a GET is', async () => {
    const seen: string[] = []
    const upstream = await raw((conn) => {
      if (!hasHead(conn)) return
      const text = conn.text()
      const line = text.slice(0, text.indexOf('\r\n'))
      const body = text.slice(text.indexOf('\r\n\r\n') + 4)
      if (line.startsWith('POST') && body.length < 4) return
      seen.push(line)
      conn.socket.destroy()
    })
    const gw = await gatewayFor(upstream.url, { retries: 2, retryBackoff: 1 })
    const post = await rawExchange(
      gw.port,
      'POST /pay HTTP/1.1\r\nHost: gw.test\r\nContent-Type: text/plain\r\nContent-Length: 4\r\nConnection: close\r\n\r\nabcd',
    )
    expect(parseResponses(post.raw)[0]?.status).toBe(502)
    expect(seen.filter((l) => l.startsWith('POST'))).toHaveLength(1)
    const get = await rawExchange(gw.port, 'GET /read HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n')
    expect(parseResponses(get.raw)[0]?.status).toBe(502)
    expect(seen.filter((l) => l.startsWith('GET'))).toHaveLength(3)
  })

  it('overload beyond maxPending -> fast 503 with Retry-After for the excess, the rest served, then recovery', async () => {
    const held: (() => void)[] = []
    const upstream = await raw((conn) => {
      if (!hasHead(conn)) return
      held.push(() => conn.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok'))
    })
    const gw = await gatewayFor(upstream.url, { maxPending: 5 })
    const answered: Awaited<ReturnType<typeof fetchRaw>>[] = []
    const all = Array.from({ length: 20 }, () =>
      fetchRaw(gw.port).then((result) => {
        answered.push(result)
        return result
      }),
    )
    expect(await waitForCount(() => held.length, 5)).toBe(true)
    expect(await waitForCount(() => answered.length, 15), 'the excess is answered while five are held').toBe(
      true,
    )
    expect(held).toHaveLength(5)
    for (const { response } of answered) {
      expect(response?.status).toBe(503)
      expect(response?.headers['retry-after']).toBeDefined()
    }
    for (const release of held.splice(0)) release()
    const statuses = (await Promise.all(all)).map((r) => r.response?.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(5)
    const after = fetchRaw(gw.port)
    expect(await waitForCount(() => held.length, 1)).toBe(true)
    for (const release of held.splice(0)) release()
    expect((await after).response?.status).toBe(200)
  })

  it('one of two targets dies under load: GETs keep succeeding on the other; it rejoins after it comes back', async () => {
    const hits = { a: 0, b: 0 }
    const serve = (name: 'a' | 'b') => (conn: RawConnection) => {
      const requests = conn.text().split('\r\n\r\n').length - 1
      const answered = answeredOn.get(conn) ?? 0
      for (let i = answered; i < requests; i++) {
        hits[name]++
        conn.socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 1\r\nx-target: ${name}\r\n\r\n${name}`)
      }
      answeredOn.set(conn, requests)
    }
    const answeredOn = new WeakMap<RawConnection, number>()
    let a = await raw(serve('a'))
    const b = await raw(serve('b'))
    const aPort = a.port
    const gw = await startGateway({
      upstreams: {
        pair: {
          targets: [{ url: a.url }, { url: b.url }],
          timeouts: { connect: 1000, headers: 2000, body: 2000 },
          retries: 2,
          retryBackoff: 1,
          outlierDetection: { consecutiveFailures: 2, baseEjectionTime: 300 },
        },
      },
      routes: [{ path: '/*', upstream: 'pair' }],
    })
    cleanups.push(() => gw.gateway.close())
    const get = async (): Promise<number> => {
      const res = await request(`${gw.url}/x`)
      await res.body.text()
      return res.statusCode
    }
    const before: number[] = []
    for (let i = 0; i < 10; i++) before.push(await get())
    expect(before.every((s) => s === 200)).toBe(true)
    expect(hits.a).toBeGreaterThan(0)
    await a.close()
    const during: number[] = []
    for (let i = 0; i < 30; i++) during.push(await get())
    expect(during.filter((s) => s !== 200)).toEqual([])
    a = await startRawServerOn(aPort, serve('a'))
    cleanups.push(() => a.close())
    const aBefore = hits.a
    let rejoined = false
    for (let i = 0; i < 100 && !rejoined; i++) {
      expect(await get()).toBe(200)
      rejoined = hits.a > aBefore
      if (!rejoined) await new Promise((r) => setTimeout(r, 50))
    }
    expect(rejoined, 'the restarted target receives traffic again').toBe(true)
  })

  it('after every fault above the gateway still serves a healthy upstream', async () => {
    const upstream = await raw((conn) => {
      if (hasHead(conn))
        conn.socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok')
    })
    const gw = await gatewayFor(upstream.url)
    const { response } = await fetchRaw(gw.port)
    expect(response).toMatchObject({ status: 200, body: 'ok', complete: true })
  })
})
