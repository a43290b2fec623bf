import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createGateway, type Gateway } from '../src/index.js'
import { rawRequest } from './helpers/raw-http.js'

/** Status codes of the responses in a raw reply, in order. */
function statuses(raw: string): number[] {
  return [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]))
}

describe('request framing at the edge', () => {
  let gw: Gateway
  let port: number
  const seen: string[] = []

  beforeAll(async () => {
    gw = await createGateway({
      routes: [
        {
          path: '/*',
          handler: async (ex) => {
            seen.push(ex.request.path)
            if (ex.request.path === '/slow') await new Promise((r) => setTimeout(r, 100))
            return { status: 200, headers: { 'content-type': 'text/plain' }, body: `ok ${ex.request.path}` }
          },
        },
      ],
    })
    port = (await gw.listen({ port: 0, host: '127.0.0.1' })).port
  })
  afterAll(() => gw.close())

  it('rejects an absolute-form target whose authority disagrees with Host (400, connection closed)', async () => {
    const raw = await rawRequest(port, 'GET http://evil.test/x HTTP/1.1\r\nHost: gw.test\r\n\r\n')
    expect(statuses(raw)).toEqual([400])
    expect(raw.toLowerCase()).toContain('connection: close')
    expect(seen).not.toContain('/x')
  })

  it('accepts an absolute-form target that agrees with Host (default port ignored)', async () => {
    const raw = await rawRequest(
      port,
      'GET http://GW.test:80/agree HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n',
    )
    expect(statuses(raw)).toEqual([200])
    expect(raw).toContain('ok /agree')
  })

  it('answers a missing Host with problem+json 400 and closes (HTTP/1.1 and HTTP/1.0)', async () => {
    for (const version of ['1.1', '1.0']) {
      const raw = await rawRequest(port, `GET /no-host HTTP/${version}\r\n\r\n`)
      expect(statuses(raw), version).toEqual([400])
      expect(raw).toContain('application/problem+json')
      expect(raw.toLowerCase()).toContain('connection: close')
    }
    expect(seen).not.toContain('/no-host')
  })

  it('closes the connection after an early 400, so a pipelined request behind it is never served', async () => {
    const raw = await rawRequest(
      port,
      'GET /first HTTP/1.1\r\nHost: bad host\r\n\r\nGET /pipelined HTTP/1.1\r\nHost: gw.test\r\n\r\n',
    )
    expect(statuses(raw)).toEqual([400])
    expect(seen).not.toContain('/pipelined')
  })

  it('lets the in-flight response finish when garbage follows a complete request, then closes', async () => {
    const raw = await rawRequest(port, 'GET /slow HTTP/1.1\r\nHost: gw.test\r\n\r\n\x00\x01garbage\r\n\r\n')
    expect(statuses(raw)).toEqual([200])
    expect(raw).toContain('ok /slow')
  })
})
