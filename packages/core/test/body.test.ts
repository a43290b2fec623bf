import { request as httpRequest } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createGateway, definePolicy, type Gateway, readBody } from '../src/index.js'
import { type FakeUpstream, startFakeUpstream } from '../src/testing/index.js'

const LIMIT = 1000

const bufferBody = definePolicy({
  name: 'buffer-body',
  stage: 'guard',
  schema: z.object({}),
  create: () => ({
    onRequest: async (ex) => {
      if (ex.route.id.startsWith('/report') || ex.route.id.startsWith('/keep')) return
      const body = await readBody(ex, { limit: LIMIT })
      ex.request.headers['x-buffered-length'] = String(body.length)
    },
  }),
})

const bufferKeeping = definePolicy({
  name: 'buffer-keeping',
  stage: 'guard',
  schema: z.object({}),
  create: () => ({
    onRequest: async (ex) => {
      await readBody(ex, { limit: LIMIT, overflow: 'keep' })
    },
  }),
})

/** Sends a request whose body is written in chunks (no Content-Length) and resolves with status and headers. */
function sendChunked(
  url: string,
  chunks: number,
  size: number,
): Promise<{ status: number; connection: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/octet-stream' } },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (c: string) => {
          body += c
        })
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, connection: res.headers.connection, body }),
        )
      },
    )
    req.on('error', reject)
    let sent = 0
    const write = (): void => {
      while (sent < chunks) {
        sent++
        if (!req.write(Buffer.alloc(size, 0x62))) {
          req.once('drain', write)
          return
        }
      }
      req.end()
    }
    write()
  })
}

describe('readBody through a real gateway', () => {
  let upstream: FakeUpstream
  let gw: Gateway
  beforeAll(async () => {
    upstream = await startFakeUpstream()
    gw = await createGateway({
      server: { host: '127.0.0.1', port: 0 },
      upstreams: { up: { url: upstream.url } },
      policies: [bufferBody()],
      routes: [
        { path: '/report/*', upstream: 'up', policies: [bufferKeeping({}, { mode: 'report' })] },
        { path: '/keep/*', upstream: 'up', policies: [bufferKeeping({})] },
        { path: '/*', upstream: 'up' },
      ],
    })
    await gw.listen()
  })
  afterAll(async () => {
    await gw.close()
    await upstream.close()
  })

  it('forwards the buffered bytes with a matching Content-Length', async () => {
    const res = await sendChunked(`${gw.url}/small`, 4, 200)
    expect(res.status).toBe(200)
    const seen = upstream.requests.at(-1)!
    expect(seen.body.length).toBe(800)
    expect(seen.headers['content-length']).toBe('800')
    expect(seen.headers['transfer-encoding']).toBeUndefined()
    expect(seen.headers['x-buffered-length']).toBe('800')
  })

  it('answers 413 problem+json for a declared Content-Length over the limit, without reading the body', async () => {
    const res = await fetch(`${gw.url}/big`, { method: 'POST', body: 'a'.repeat(LIMIT + 1) })
    expect(res.status).toBe(413)
    expect(res.headers.get('connection')).toBe('close')
    expect(await res.json()).toMatchObject({ code: 'GW_ERR_BODY_TOO_LARGE', limit: LIMIT })
  })

  it('answers 413 to a chunked body that grows past the limit, and closes the connection', async () => {
    const requestsBefore = upstream.requests.length
    const res = await sendChunked(`${gw.url}/stream`, 20, 500)
    expect(res.status).toBe(413)
    expect(res.connection).toBe('close')
    expect(JSON.parse(res.body)).toMatchObject({ code: 'GW_ERR_BODY_TOO_LARGE' })
    expect(upstream.requests.length).toBe(requestsBefore)
  })

  it("with overflow 'keep' in report mode, forwards a chunked body past the limit intact", async () => {
    const before = upstream.requests.length
    const res = await sendChunked(`${gw.url}/report/stream`, 20, 500)
    expect(res.status).toBe(200)
    expect(upstream.requests.length).toBe(before + 1)
    const seen = upstream.requests.at(-1)!
    expect(seen.body.length).toBe(10_000)
    expect(seen.body.equals(Buffer.alloc(10_000, 0x62))).toBe(true)
  })

  it("with overflow 'keep' when enforced, still answers 413 and closes the connection", async () => {
    const before = upstream.requests.length
    const res = await sendChunked(`${gw.url}/keep/stream`, 20, 500)
    expect(res.status).toBe(413)
    expect(res.connection).toBe('close')
    expect(upstream.requests.length).toBe(before)
  })
})
