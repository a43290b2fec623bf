import { createHash } from 'node:crypto'
import { once } from 'node:events'
import { createServer as createHttpServer } from 'node:http'
import { createServer, type Socket } from 'node:net'
import { answerPath, type FakeUpstream, freePort, LogCapture, startFakeUpstream } from '@gw/core/testing'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { Env } from '../src/env.js'
import { createSidecarGateway, type SidecarGateway } from '../src/sidecar.js'

const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long'
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736'
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`

const running: { close(): Promise<void> }[] = []

async function sidecar(env: Env, logs = new LogCapture()): Promise<SidecarGateway & { logs: LogCapture }> {
  const started = await createSidecarGateway(
    { LOG_LEVEL: 'info', PROMETHEUS_PORT: String(await freePort()), ...env },
    { port: 0, host: '127.0.0.1', logDestination: logs },
  )
  running.push(started)
  return Object.assign(started, { logs })
}

async function service(port = 0): Promise<FakeUpstream> {
  const s = await startFakeUpstream(answerPath, { port })
  running.push(s)
  return s
}

function token(claims: Record<string, unknown> = {}, secret = SECRET): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('alice')
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(secret))
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.close()))
})

describe('sidecar: inbound JWT (JWT_SECRET), trace context, access log, metrics, probes', () => {
  it('denies without or with a bad token and forwards a valid one', async () => {
    const svc = await service()
    const sc = await sidecar({ SERVICE_URL: svc.url, JWT_SECRET: SECRET })

    const none = await fetch(`${sc.url}/orders/1`)
    expect(none.status).toBe(401)
    expect(none.headers.get('content-type')).toBe('application/problem+json')
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/)
    const bad = await fetch(`${sc.url}/orders/1`, {
      headers: { authorization: `Bearer ${await token({}, 'another-secret-that-is-also-32-bytes-long!')}` },
    })
    expect(bad.status).toBe(401)
    expect(await bad.json()).toMatchObject({ status: 401, code: 'GW_ERR_AUTH_INVALID_TOKEN' })
    expect(svc.requests).toHaveLength(0)

    const ok = await fetch(`${sc.url}/orders/1?x=1`, {
      headers: { authorization: `Bearer ${await token()}` },
    })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ ok: true, path: '/orders/1?x=1' })
    expect(svc.requests).toHaveLength(1)
    expect(svc.requests[0]?.headers.via).toMatch(/gw-sidecar/)
  })

  it('continues the caller trace: the service sees the same trace id, the access log names it', async () => {
    const svc = await service()
    const sc = await sidecar({ SERVICE_URL: svc.url, AUTH: 'none' })
    const res = await fetch(`${sc.url}/things`, {
      headers: { traceparent: TRACEPARENT, 'user-agent': 'e2e' },
    })
    expect(res.status).toBe(200)
    const seen = svc.requests[0]?.headers.traceparent as string
    expect(seen).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`))
    expect(seen).not.toBe(TRACEPARENT)

    const fresh = await fetch(`${sc.url}/things`)
    expect(fresh.status).toBe(200)
    const started = String(svc.requests[1]?.headers.traceparent).split('-')[1]
    expect(started).toMatch(/^[0-9a-f]{32}$/)
    expect(started).not.toBe(TRACE_ID)

    await sc.close()
    const lines = sc.logs.withMessage('request completed')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatchObject({
      msg: 'request completed',
      method: 'GET',
      path: '/things',
      status: 200,
      route: 'service',
      traceId: TRACE_ID,
      headers: { 'user-agent': 'e2e' },
    })
    expect(lines[1]).toMatchObject({ traceId: started })
  })

  it('TRUST_INCOMING_TRACE=false starts a new trace', async () => {
    const svc = await service()
    const sc = await sidecar({ SERVICE_URL: svc.url, AUTH: 'none', TRUST_INCOMING_TRACE: 'false' })
    await (await fetch(`${sc.url}/x`, { headers: { traceparent: TRACEPARENT } })).text()
    expect(String(svc.requests[0]?.headers.traceparent).split('-')[1]).not.toBe(TRACE_ID)
  })

  it('serves Prometheus metrics on PROMETHEUS_PORT, a separate listener', async () => {
    const svc = await service()
    const metricsPort = await freePort()
    const sc = await sidecar({
      SERVICE_URL: svc.url,
      AUTH: 'none',
      SERVICE_NAME: 'orders',
      PROMETHEUS_PORT: String(metricsPort),
    })
    for (let i = 0; i < 3; i++) await (await fetch(`${sc.url}/orders`)).text()
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
    expect(scrape.status).toBe(200)
    const text = await scrape.text()
    expect(text).toMatch(
      /gw_http_requests_total\{route="orders",method="GET",status_class="2xx",upstream="orders"\} 3/,
    )
    expect((await fetch(`${sc.url}/metrics`)).status).toBe(200)
    expect(svc.requests.map((s) => s.url)).toContain('/metrics')
  })

  it('answers /health and /ready itself, without auth and without calling the service', async () => {
    const svc = await service()
    const sc = await sidecar({ SERVICE_URL: svc.url, JWT_SECRET: SECRET })
    const health = await fetch(`${sc.url}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'healthy' })
    const ready = await fetch(`${sc.url}/ready`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ ready: true })
    expect(svc.requests).toHaveLength(0)
  })
})

describe('sidecar: inbound JWT from a JWKS (JWKS_URL, JWT_ISSUER, JWT_AUDIENCE)', () => {
  let jwks: { url: string; close(): Promise<void> }
  let privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']

  beforeAll(async () => {
    const pair = await generateKeyPair('ES256')
    privateKey = pair.privateKey
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ keys: [jwk] }))
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    jwks = {
      url: `http://127.0.0.1:${(server.address() as { port: number }).port}/jwks.json`,
      close: async () => {
        server.close()
        server.closeAllConnections()
        await once(server, 'close')
      },
    }
  })
  afterAll(async () => {
    await jwks?.close()
  })

  it('accepts a token with the right issuer and audience and refuses another audience', async () => {
    const svc = await service()
    const sc = await sidecar({
      SERVICE_URL: svc.url,
      JWKS_URL: jwks.url,
      JWT_ISSUER: 'https://issuer.example',
      JWT_AUDIENCE: 'orders',
    })
    const sign = (audience: string): Promise<string> =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject('svc-a')
        .setIssuer('https://issuer.example')
        .setAudience(audience)
        .setExpirationTime('5m')
        .sign(privateKey)
    const ok = await fetch(`${sc.url}/o`, { headers: { authorization: `Bearer ${await sign('orders')}` } })
    expect(ok.status).toBe(200)
    const wrong = await fetch(`${sc.url}/o`, {
      headers: { authorization: `Bearer ${await sign('billing')}` },
    })
    expect(wrong.status).toBe(401)
    expect(svc.requests).toHaveLength(1)
  })
})

describe('sidecar: API keys by SHA-256 hash (API_KEY_HASHES)', () => {
  it('accepts a listed key, refuses others, and does not forward the key', async () => {
    const key = 'sk_live_sidecar_e2e'
    const hash = createHash('sha256').update(key).digest('hex')
    const svc = await service()
    const sc = await sidecar({
      SERVICE_URL: svc.url,
      API_KEY_HASHES: `billing:${hash}`,
      API_KEY_HEADER: 'X-Key',
    })
    expect((await fetch(`${sc.url}/a`)).status).toBe(401)
    const wrong = await fetch(`${sc.url}/a`, { headers: { 'x-key': 'nope' } })
    expect(wrong.status).toBe(401)
    expect(await wrong.json()).toMatchObject({ code: 'GW_ERR_AUTH_INVALID_API_KEY' })
    const ok = await fetch(`${sc.url}/a`, { headers: { 'x-key': key } })
    expect(ok.status).toBe(200)
    expect(svc.requests).toHaveLength(1)
    expect(svc.requests[0]?.headers['x-key']).toBeUndefined()
    await sc.close()
    const line = sc.logs.withMessage('request completed').find((l) => l.status === 200)
    expect(JSON.stringify(line)).not.toContain(key)
    expect(line?.principal).toBe('billing')
  })
})

describe('sidecar: local rate limit (memory)', () => {
  it('allows RATE_LIMIT_MAX_REQUESTS per window, then 429 with RateLimit headers and Retry-After', async () => {
    const svc = await service()
    const sc = await sidecar({
      SERVICE_URL: svc.url,
      AUTH: 'none',
      RATE_LIMIT_MAX_REQUESTS: '3',
      RATE_LIMIT_WINDOW_MS: '3600000',
    })
    const statuses: number[] = []
    let last: Response | undefined
    for (let i = 0; i < 5; i++) {
      last = await fetch(`${sc.url}/r`)
      statuses.push(last.status)
      if (i === 0) {
        expect(last.headers.get('ratelimit-policy')).toBe('"sidecar";q=3;w=3600')
        expect(last.headers.get('ratelimit')).toMatch(/^"sidecar";r=2;t=\d+$/)
      }
      if (last.status === 429) {
        expect(last.headers.get('content-type')).toBe('application/problem+json')
        expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(0)
        expect(last.headers.get('ratelimit')).toMatch(/^"sidecar";r=0;t=\d+$/)
      }
      await last.arrayBuffer()
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429])
    expect(svc.requests).toHaveLength(3)
  })

  it('RATE_LIMIT_ENABLED=false sends no RateLimit headers and never limits', async () => {
    const svc = await service()
    const sc = await sidecar({
      SERVICE_URL: svc.url,
      AUTH: 'none',
      RATE_LIMIT_ENABLED: 'false',
      RATE_LIMIT_MAX_REQUESTS: '1',
    })
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${sc.url}/r`)
      expect(res.status).toBe(200)
      expect(res.headers.get('ratelimit')).toBeNull()
      await res.arrayBuffer()
    }
  })
})

/**
 * A local service that "dies" on its first connection (reset before any byte, then its listener closes) and
 * comes back on the same port at once: the restart of the process beside the sidecar.
 */
async function dyingThenAliveService(
  port: number,
): Promise<{ resets: () => number; alive: Promise<FakeUpstream> }> {
  let resets = 0
  let revive: (s: FakeUpstream) => void = () => {}
  const alive = new Promise<FakeUpstream>((resolve) => {
    revive = resolve
  })
  const dying = createServer((socket: Socket) => {
    resets++
    socket.resetAndDestroy()
    dying.close(() => {
      void service(port).then(revive)
    })
  })
  dying.listen(port, '127.0.0.1')
  await once(dying, 'listening')
  return { resets: () => resets, alive }
}

describe('sidecar: retries to the local service', () => {
  it('a GET that meets a dying service is retried and answered by the restarted one', async () => {
    const port = await freePort()
    const flaky = await dyingThenAliveService(port)
    const sc = await sidecar({
      SERVICE_URL: `http://127.0.0.1:${port}`,
      AUTH: 'none',
      RETRIES: '6',
      RETRY_BACKOFF_MS: '20',
    })
    const res = await fetch(`${sc.url}/orders/7`)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ ok: true, path: '/orders/7' })
    expect(flaky.resets()).toBe(1)
    expect((await flaky.alive).requests).toHaveLength(1)
  })

  it('a POST is not retried (not idempotent): 502 problem, the service saw it once', async () => {
    const port = await freePort()
    const flaky = await dyingThenAliveService(port)
    const sc = await sidecar({ SERVICE_URL: `http://127.0.0.1:${port}`, AUTH: 'none', RETRIES: '6' })
    const res = await fetch(`${sc.url}/orders`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    })
    expect(res.status).toBe(502)
    expect(res.headers.get('content-type')).toBe('application/problem+json')
    expect(flaky.resets()).toBe(1)
    expect((await flaky.alive).requests).toHaveLength(0)
  })

  it('a dead service is a 502 problem without a stack trace; once it is up, requests pass', async () => {
    const port = await freePort()
    const sc = await sidecar({ SERVICE_URL: `http://127.0.0.1:${port}`, AUTH: 'none', RETRIES: '2' })
    const dead = await fetch(`${sc.url}/x`)
    expect(dead.status).toBe(502)
    const body = await dead.text()
    expect(body).not.toMatch(/ECONNREFUSED|at .*\.js/)
    expect(JSON.parse(body)).toMatchObject({ status: 502 })
    const svc = await service(port)
    const res = await fetch(`${sc.url}/x`)
    expect(res.status).toBe(200)
    expect(svc.requests).toHaveLength(1)
  })
})
