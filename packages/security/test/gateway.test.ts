import { connect } from 'node:net'
import { createGateway, type Gateway } from '@gw/core'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { attackFilter, botFilter, cors, ipFilter, requestValidation, securityHeaders } from '../src/index.js'

const APP = 'http://app.localhost:5173'

/** Sends raw bytes; resolves with what the gateway answered and whether it closed the connection (within `waitMs`). */
function rawRequest(
  url: string,
  head: string,
  bodyBytes = 0,
  waitMs = 3000,
): Promise<{ data: string; closedByServer: boolean }> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname)
    let data = ''
    let closedByServer = false
    const finish = () => {
      clearTimeout(timer)
      socket.destroy()
      resolve({ data, closedByServer })
    }
    socket.on('connect', () => {
      socket.write(head)
      if (bodyBytes > 0) socket.write(Buffer.alloc(bodyBytes, 'a'))
    })
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1')
    })
    socket.on('end', () => {
      closedByServer = true
      finish()
    })
    socket.on('error', (error) => (data === '' ? reject(error) : finish()))
    const timer = setTimeout(finish, waitMs)
  })
}

describe('@gw/security through a real gateway', () => {
  let upstream: FakeUpstream
  let gw: Gateway

  beforeAll(async () => {
    upstream = await startFakeUpstream((_req, res, recorded) => {
      const body = JSON.stringify({
        method: recorded.method,
        url: recorded.url,
        bodyLength: recorded.body.length,
      })
      res.writeHead(200, {
        'content-type': 'application/json',
        server: 'Apache/2.4.1 (Unix)',
        'x-powered-by': 'PHP/5.6',
        'access-control-allow-origin': '*',
      })
      res.end(body)
    })
    gw = await createGateway({
      server: { trustProxy: ['127.0.0.1'] },
      upstreams: { api: { url: upstream.url } },
      policies: [
        securityHeaders(),
        cors({ origins: [APP], credentials: true, exposedHeaders: ['x-request-id'] }),
        ipFilter({ deny: ['203.0.113.0/24'] }),
        botFilter({ deny: ['evil-bot'] }),
        requestValidation({ maxBodySize: '64kb', contentTypes: ['application/json', 'text/plain'] }),
        attackFilter({
          variables: {
            allowed_methods: 'GET HEAD POST OPTIONS PUT DELETE',
            allowed_request_content_type:
              '|application/x-www-form-urlencoded| |multipart/form-data| |application/json| |text/plain|',
          },
        }),
      ],
      routes: [
        { path: '/api/*', upstream: 'api', methods: ['GET', 'POST', 'PUT'] },
        {
          path: '/orders',
          upstream: 'api',
          methods: ['POST'],
          policies: [
            requestValidation({
              jsonSchema: {
                type: 'object',
                required: ['sku'],
                properties: { sku: { type: 'string' }, qty: { type: 'integer', minimum: 1 } },
              },
            }),
          ],
        },
      ],
    })
    await gw.listen({ port: 0, host: '127.0.0.1' })
  })

  afterAll(async () => {
    await gw?.close()
    await upstream?.close()
  })

  it('proxies with security headers and allowed-origin CORS headers; strips leaking upstream headers', async () => {
    const res = await fetch(`${gw.url}/api/items?x=1`, { headers: { origin: APP } })
    expect(res.status).toBe(200)
    expect(res.headers.get('x-frame-options')).toBe('DENY')
    expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains; preload')
    expect(res.headers.get('content-security-policy')).toContain("default-src 'self'")
    expect(res.headers.get('server')).toBeNull()
    expect(res.headers.get('x-powered-by')).toBeNull()
    expect(res.headers.get('access-control-allow-origin')).toBe(APP)
    expect(res.headers.get('access-control-allow-credentials')).toBe('true')
    expect(res.headers.get('access-control-expose-headers')).toBe('x-request-id')
    expect(res.headers.get('vary')).toContain('Origin')
  })

  it('answers preflights locally, also for routes that do not list OPTIONS', async () => {
    const before = upstream.requests.length
    const ok = await fetch(`${gw.url}/api/items`, {
      method: 'OPTIONS',
      headers: {
        origin: APP,
        'access-control-request-method': 'PUT',
        'access-control-request-headers': 'content-type',
      },
    })
    expect(ok.status).toBe(204)
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP)
    expect(ok.headers.get('access-control-allow-methods')).toBe('GET, POST, PUT, DELETE, OPTIONS')
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff')
    const denied = await fetch(`${gw.url}/api/items`, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.localhost:5173.evil.io', 'access-control-request-method': 'PUT' },
    })
    expect(denied.status).toBe(403)
    expect(denied.headers.get('content-type')).toBe('application/problem+json')
    expect(denied.headers.get('access-control-allow-origin')).toBeNull()
    expect(upstream.requests.length).toBe(before)
  })

  it('decorates gateway-generated errors (404, 405) with CORS and security headers', async () => {
    const notFound = await fetch(`${gw.url}/nope`, { headers: { origin: APP } })
    expect(notFound.status).toBe(404)
    expect(notFound.headers.get('access-control-allow-origin')).toBe(APP)
    expect(notFound.headers.get('x-content-type-options')).toBe('nosniff')
    const wrongMethod = await fetch(`${gw.url}/api/items`, { method: 'DELETE', headers: { origin: APP } })
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('access-control-allow-origin')).toBe(APP)
  })

  it('refuses a 10 GB declared body with 413 after 1 KB of it, and closes the connection', async () => {
    const before = upstream.requests.length
    const host = new URL(gw.url).host
    const { data, closedByServer } = await rawRequest(
      gw.url,
      `POST /api/upload HTTP/1.1\r\nhost: ${host}\r\ncontent-type: text/plain\r\ncontent-length: 10737418240\r\n\r\n`,
      1024,
    )
    expect(data).toMatch(/^HTTP\/1\.1 413 /)
    expect(data).toContain('GW_ERR_BODY_TOO_LARGE')
    expect(closedByServer).toBe(true)
    expect(upstream.requests.length).toBe(before)
  })

  it('cuts off a chunked body that grows past the limit with 413', async () => {
    const before = upstream.requests.length
    const host = new URL(gw.url).host
    const chunk = `${(16 * 1024).toString(16)}\r\n${'a'.repeat(16 * 1024)}\r\n`
    const { data, closedByServer } = await rawRequest(
      gw.url,
      `POST /api/upload HTTP/1.1\r\nhost: ${host}\r\ncontent-type: text/plain\r\ntransfer-encoding: chunked\r\n\r\n${chunk.repeat(6)}`,
    )
    expect(data).toMatch(/^HTTP\/1\.1 413 /)
    expect(closedByServer).toBe(true)
    expect(upstream.requests.length).toBe(before)
  })

  it('forwards bodies within the limit', async () => {
    const res = await fetch(`${gw.url}/api/upload`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'x'.repeat(1000),
    })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { bodyLength: number }).bodyLength).toBe(1000)
  })

  it('validates JSON bodies on a route (400 with paths, malformed 400, valid forwarded)', async () => {
    const post = (body: string) =>
      fetch(`${gw.url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    const invalid = await post('{"qty":0}')
    expect(invalid.status).toBe(400)
    const problem = (await invalid.json()) as { errors: Array<{ path: string }> }
    expect(problem.errors.map((e) => e.path).sort()).toEqual(['/qty', '/sku'])
    expect((await post('{"sku":')).status).toBe(400)
    const ok = await post('{"sku":"A-1","qty":2}')
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { bodyLength: number }).bodyLength).toBe(21)
  })

  it('answers 415 for disallowed content types', async () => {
    const res = await fetch(`${gw.url}/api/x`, {
      method: 'POST',
      headers: { 'content-type': 'application/xml' },
      body: '<a/>',
    })
    expect(res.status).toBe(415)
  })

  it('blocks attacks in query, path and body with 403 problem+json', async () => {
    const query = await fetch(`${gw.url}/api/items?id=${encodeURIComponent("1' OR '1'='1")}`)
    expect(query.status).toBe(403)
    expect(((await query.json()) as { code: string }).code).toBe('GW_ERR_ATTACK_DETECTED')
    expect((await fetch(`${gw.url}/api/%252e%252e%252f%252e%252e%252fetc%252fpasswd`)).status).toBe(403)
    const body = await fetch(`${gw.url}/api/comments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: '<img src=x onerror=alert(1)>' }),
    })
    expect(body.status).toBe(403)
    expect((await fetch(`${gw.url}/api/items?q=${encodeURIComponent("O'Reilly & Sons")}`)).status).toBe(200)
  })

  it('uses the trusted-proxy client address for ip rules', async () => {
    const denied = await fetch(`${gw.url}/api/items`, { headers: { 'x-forwarded-for': '203.0.113.7' } })
    expect(denied.status).toBe(403)
    expect(((await denied.json()) as { code: string }).code).toBe('GW_ERR_IP_DENIED')
    const allowed = await fetch(`${gw.url}/api/items`, {
      headers: { 'x-forwarded-for': '203.0.113.7, 198.51.100.4' },
    })
    expect(allowed.status).toBe(200)
  })

  it('refuses denied user agents', async () => {
    expect((await fetch(`${gw.url}/api/items`, { headers: { 'user-agent': 'evil-bot/1.0' } })).status).toBe(
      403,
    )
  })
})
