import { connect } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createGateway, definePolicy, type Gateway, GatewayError, type GatewayOptions } from '../src/index.js'
import { type FakeUpstream, startFakeUpstream } from '../src/testing/index.js'
import type { ManagedUpstream } from '../src/upstream/index.js'

const KEY = 'admin-key-0123456789abcdef'

function rawAdmin(url: string, text: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(text))
    let out = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      out += chunk
    })
    socket.on('end', () => resolve(out))
    socket.on('error', reject)
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')))
  })
}
const gateways: Gateway[] = []
async function start(options: GatewayOptions): Promise<Gateway> {
  const gw = await createGateway({ ...options, server: { host: '127.0.0.1', port: 0, ...options.server } })
  gateways.push(gw)
  await gw.listen()
  return gw
}
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
})

const purge = definePolicy({
  name: 'test-purge',
  stage: 'cache',
  schema: z.object({ prefix: z.string().default('/'), clientSecret: z.string().optional() }),
  create(config, setup) {
    const purged: unknown[] = []
    setup.admin?.mount('POST', '/test/purge', async (req) => {
      const body = await req.json()
      if (typeof body !== 'object' || body === null)
        throw new GatewayError('GW_ERR_TEST_BODY', 400, 'send an object')
      purged.push(body)
      return { status: 202, body: { prefix: config.prefix, purged: purged.length } }
    })
    return {}
  },
})

describe('admin listener', () => {
  let a: FakeUpstream
  let b: FakeUpstream
  beforeAll(async () => {
    a = await startFakeUpstream()
    b = await startFakeUpstream()
  })
  afterAll(async () => {
    await a.close()
    await b.close().catch(() => undefined)
  })

  const options = (): GatewayOptions => ({
    admin: { port: 0, apiKey: KEY },
    upstreams: {
      api: {
        targets: [{ url: a.url }, { url: b.url }],
        healthCheck: { path: '/health', interval: '1h', unhealthyThreshold: 1 },
      },
    },
    policies: [purge({ prefix: '/p', clientSecret: 'upstream-secret' })],
    routes: [
      { id: 'api', path: '/api/*', methods: ['GET'], upstream: 'api' },
      { id: 'local', path: '/hello', handler: () => ({ status: 200, headers: {}, body: 'hi' }) },
    ],
  })

  it('refuses requests without the key, with a wrong key and with a key of another length (401 problem+json)', async () => {
    const gw = await start(options())
    expect(gw.adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    for (const headers of [
      {},
      { authorization: `Bearer ${KEY.slice(0, -1)}x` },
      { 'x-admin-key': 'short' },
      { authorization: KEY },
    ] as Record<string, string>[]) {
      const res = await fetch(`${gw.adminUrl}/routes`, { headers })
      expect(res.status).toBe(401)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect(res.headers.get('www-authenticate')).toContain('Bearer')
      const body = (await res.json()) as { code: string; routes?: unknown }
      expect(body.code).toBe('GW_ERR_ADMIN_UNAUTHORIZED')
      expect(body.routes).toBeUndefined()
    }
    const unknown = await fetch(`${gw.adminUrl}/nope`)
    expect(unknown.status).toBe(401)
  })

  it('serves the route table with either header, and 404 / 405 for unknown paths and methods', async () => {
    const gw = await start(options())
    for (const headers of [{ authorization: `Bearer ${KEY}` }, { 'x-admin-key': KEY }] as Record<
      string,
      string
    >[]) {
      const res = await fetch(`${gw.adminUrl}/routes`, { headers })
      expect(res.status).toBe(200)
      const { routes } = (await res.json()) as { routes: Record<string, unknown>[] }
      expect(routes).toEqual([
        { id: 'api', methods: ['GET', 'HEAD'], pattern: '/api/*', upstream: 'api', policies: ['test-purge'] },
        {
          id: 'local',
          methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
          pattern: '/hello',
          policies: ['test-purge'],
        },
      ])
    }
    const missing = await fetch(`${gw.adminUrl}/nope`, { headers: { 'x-admin-key': KEY } })
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toBe('application/problem+json')
    const wrongMethod = await fetch(`${gw.adminUrl}/routes`, {
      method: 'DELETE',
      headers: { 'x-admin-key': KEY },
    })
    expect(wrongMethod.status).toBe(405)
    expect(wrongMethod.headers.get('allow')).toBe('GET')
    const absolute = await rawAdmin(
      gw.adminUrl,
      `GET http://elsewhere/routes HTTP/1.1\r\nhost: x\r\nx-admin-key: ${KEY}\r\nconnection: close\r\n\r\n`,
    )
    expect(absolute).toMatch(/^HTTP\/1\.1 400 /)
    expect(absolute).toContain('application/problem+json')
    const gatewayStillServes = await fetch(`${gw.url}/hello`)
    expect(await gatewayStillServes.text()).toBe('hi')
    const notOnGateway = await fetch(`${gw.url}/routes`)
    expect(notOnGateway.status).toBe(404)
  })

  it('shows live target health: a target taken down is reported unhealthy', async () => {
    const gw = await start(options())
    const get = async () => {
      const res = await fetch(`${gw.adminUrl}/upstreams`, { headers: { 'x-admin-key': KEY } })
      expect(res.status).toBe(200)
      return ((await res.json()) as { upstreams: Record<string, unknown>[] }).upstreams
    }
    const before = await get()
    expect(before).toHaveLength(1)
    expect(before[0]).toMatchObject({
      name: 'api',
      managed: true,
      circuit: 'closed',
      healthy: 2,
      inflight: 0,
    })
    await b.close()
    await (gw.upstreams.get('api') as ManagedUpstream).checkHealth()
    const after = (await get())[0] as { healthy: number; targets: { url: string; healthy: boolean }[] }
    expect(after.healthy).toBe(1)
    expect(after.targets.find((t) => t.url === b.url)?.healthy).toBe(false)
    expect(after.targets.find((t) => t.url === a.url)?.healthy).toBe(true)
  })

  it('shows the effective config with secrets redacted', async () => {
    const gw = await start(options())
    const res = await fetch(`${gw.adminUrl}/config`, { headers: { 'x-admin-key': KEY } })
    expect(res.status).toBe(200)
    const text = await res.text()
    expect(text).not.toContain(KEY)
    expect(text).not.toContain('upstream-secret')
    const config = JSON.parse(text) as {
      admin: { apiKey: string; host: string }
      server: { port: number }
      policies: { policy: string; options: unknown }[]
      routes: { handler?: string }[]
    }
    expect(config.admin).toMatchObject({ apiKey: '[redacted]', host: '127.0.0.1' })
    expect(config.policies).toEqual([
      { policy: 'test-purge', mode: 'enforce', options: { prefix: '/p', clientSecret: '[redacted]' } },
    ])
    expect(config.server.port).toBe(0)
    expect(config.routes[1]?.handler).toBe('[function]')
  })

  it('serves endpoints mounted by policies and by app code, with JSON bodies and problem errors', async () => {
    const gw = await start(options())
    gw.admin?.mount('GET', '/app/ping', (req) => ({ body: { pong: req.query.get('n') } }))
    expect(() => gw.admin?.mount('GET', '/routes', () => ({}))).toThrow(/already mounted/)
    expect(() => gw.admin?.mount('POST', '/test/purge', () => ({}))).toThrow(/already mounted/)
    const headers = { 'x-admin-key': KEY, 'content-type': 'application/json' }
    const purged = await fetch(`${gw.adminUrl}/test/purge`, { method: 'POST', headers, body: '{"tag":"x"}' })
    expect(purged.status).toBe(202)
    expect(await purged.json()).toEqual({ prefix: '/p', purged: 1 })
    const bad = await fetch(`${gw.adminUrl}/test/purge`, { method: 'POST', headers, body: '{nope' })
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as { code: string }).code).toBe('GW_ERR_BAD_REQUEST')
    const notObject = await fetch(`${gw.adminUrl}/test/purge`, { method: 'POST', headers, body: '3' })
    expect(notObject.status).toBe(400)
    expect(((await notObject.json()) as { code: string }).code).toBe('GW_ERR_TEST_BODY')
    const ping = await fetch(`${gw.adminUrl}/app/ping?n=3`, { headers })
    expect(await ping.json()).toEqual({ pong: '3' })
    const wrong = await fetch(`${gw.adminUrl}/test/purge`, { headers })
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('POST')
  })

  it('answers POST /reload with 409 when the gateway has no reload source', async () => {
    const gw = await start(options())
    const res = await fetch(`${gw.adminUrl}/reload`, { method: 'POST', headers: { 'x-admin-key': KEY } })
    expect(res.status).toBe(409)
    expect(((await res.json()) as { code: string }).code).toBe('GW_ERR_RELOAD_UNAVAILABLE')
  })

  it('rejects an admin port equal to the gateway port, with the path', async () => {
    await expect(
      createGateway({ ...options(), server: { port: 8080 }, admin: { port: 8080, apiKey: KEY } }),
    ).rejects.toMatchObject({
      code: 'GW_ERR_CONFIG',
      extensions: { issues: [{ path: 'admin.port', message: expect.stringContaining('its own port') }] },
    })
  })

  it('rejects an admin section without a key, with the path', async () => {
    await expect(
      createGateway({ ...options(), admin: { port: 0 } as unknown as GatewayOptions['admin'] }),
    ).rejects.toMatchObject({
      code: 'GW_ERR_CONFIG',
      extensions: { issues: [expect.objectContaining({ path: 'admin.apiKey' })] },
    })
  })
})
