import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { introspection } from '../src/index.js'
import { type Harness, startHarness } from './helpers/gateway.js'

/** An authorization server that accepts connections and never answers, and one that answers 500. */
let silent: Server
let broken: Server
const sockets = new Set<Socket>()
let h: Harness

const url = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`

beforeAll(async () => {
  silent = createServer(() => {})
  silent.on('connection', (socket) => sockets.add(socket))
  broken = createServer((_req, res) => res.writeHead(500).end())
  await Promise.all(
    [silent, broken].map((s) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve))),
  )
  const common = { clientId: 'gw', clientSecret: 'secret', timeout: 300 }
  h = await startHarness({
    routes: [
      {
        path: '/silent/*',
        upstream: 'api',
        policies: [introspection({ ...common, introspectionEndpoint: url(silent) })],
      },
      {
        path: '/silent-401/*',
        upstream: 'api',
        policies: [introspection({ ...common, introspectionEndpoint: url(silent), onError: 'unauthorized' })],
      },
      {
        path: '/broken/*',
        upstream: 'api',
        policies: [introspection({ ...common, introspectionEndpoint: url(broken) })],
      },
    ],
  })
})

afterAll(async () => {
  await h.close()
  for (const socket of sockets) socket.destroy()
  await Promise.all([silent, broken].map((s) => new Promise((resolve) => s.close(resolve))))
})

const get = (path: string) => fetch(`${h.url}${path}`, { headers: { authorization: 'Bearer opaque-token' } })

describe('introspection when the authorization server misbehaves (real sockets)', () => {
  it('answers 503 after the timeout when the server never answers, never hanging', async () => {
    const res = await get('/silent/x')
    expect(res.status).toBe(503)
    expect(((await res.json()) as { code: string }).code).toBe('GW_ERR_AUTH_UNAVAILABLE')
    expect(h.upstream.requests).toHaveLength(0)
  })

  it('answers 401 instead with onError: unauthorized', async () => {
    const res = await get('/silent-401/x')
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  it('answers 503 when the server fails', async () => {
    expect((await get('/broken/x')).status).toBe(503)
  })
})
