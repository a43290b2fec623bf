import { spawnSync } from 'node:child_process'
import {
  createConsoleLogger,
  createGateway,
  definePolicy,
  type Gateway,
  GatewayError,
  type GatewayOptions,
  z,
} from '@gw/core'
import { type FakeUpstream, freePort, startFakeUpstream } from '@gw/core/testing'
import type { ManagedUpstream } from '@gw/core/upstream'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  accessLog,
  createPrometheusTelemetry,
  instrumentUpstreams,
  type MetricsServer,
  metrics,
  metricsHandler,
  type PrometheusTelemetry,
  startMetricsServer,
  traceContext,
} from '../src/index.js'
import { sampleValue } from './helpers.js'

const gateways: Gateway[] = []
const servers: MetricsServer[] = []
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

async function start(options: GatewayOptions): Promise<Gateway> {
  const gw = await createGateway({ ...options, server: { host: '127.0.0.1', port: 0, ...options.server } })
  gateways.push(gw)
  await gw.listen()
  return gw
}

/** onComplete runs when the response finished on the server side; the client may see the body a moment earlier. */
async function eventually<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  let value = await read()
  for (let i = 0; i < 100 && !ok(value); i++) {
    await new Promise((r) => setTimeout(r, 20))
    value = await read()
  }
  return value
}

const denyAdmins = definePolicy({
  name: 'deny-admin',
  stage: 'authz',
  schema: z.object({}),
  create: () => ({
    onRequest(ex) {
      if (ex.request.headers['x-role'] !== 'admin') return undefined
      throw new GatewayError('GW_ERR_TEST_FORBIDDEN', 403, 'Admins are not served here', {
        decision: {
          rule: 'no-admins',
          key: 'admin',
          reason: 'role',
          matches: [
            { rule: 'role-header', message: 'admin role', data: 'admin', target: 'REQUEST_HEADERS:x-role' },
          ],
        },
      })
    },
  }),
})

const promtool = spawnSync('promtool', ['--version']).status === 0
const requirePromtool = process.env.CI === 'true' || promtool

describe('metrics, access log and trace context through a real gateway', () => {
  let upstream: FakeUpstream
  let deadPort: number
  beforeAll(async () => {
    upstream = await startFakeUpstream()
    deadPort = await freePort()
  })
  afterAll(() => upstream.close())

  async function stack(telemetry: PrometheusTelemetry, lines: string[]) {
    const logger = createConsoleLogger('info', {}, (line) => lines.push(line))
    const gw = await start({
      logger,
      telemetry,
      upstreams: { users: { url: upstream.url }, dead: { url: `http://127.0.0.1:${deadPort}` } },
      policies: [
        metrics({ exposition: 'none' }),
        traceContext({}),
        accessLog({ headers: ['user-agent', 'authorization', 'cookie'] }),
      ],
      routes: [
        {
          id: 'users',
          path: '/api/users/*',
          upstream: 'users',
          stripPrefix: '/api',
          policies: [denyAdmins({})],
        },
        { id: 'dead', path: '/dead/*', upstream: 'dead' },
      ],
    })
    const server = await startMetricsServer(telemetry, { port: 0, host: '127.0.0.1' })
    servers.push(server)
    return {
      gw,
      scrape: async (accept?: string) =>
        fetch(server.url + '/metrics', accept ? { headers: { accept } } : {}),
    }
  }

  it('counts real requests by route template, method, status class and upstream', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const { gw, scrape } = await stack(telemetry, [])
    for (const id of [1, 2, 3]) expect((await fetch(`${gw.url}/api/users/${id}`)).status).toBe(200)
    const post = await fetch(`${gw.url}/api/users`, { method: 'POST', body: 'x'.repeat(100) })
    expect(post.status).toBe(200)
    await post.arrayBuffer()
    expect((await fetch(`${gw.url}/dead/x`)).status).toBe(502)
    expect((await fetch(`${gw.url}/api/users/9`, { headers: { 'x-role': 'admin' } })).status).toBe(403)
    expect((await fetch(`${gw.url}/nowhere`)).status).toBe(404)

    const ok = { route: 'users', method: 'GET', status_class: '2xx', upstream: 'users' }
    const text = await eventually(
      async () => (await scrape()).text(),
      (t) => sampleValue(t, 'gw_http_requests_total', { route: '__unmatched' }) === 1,
    )
    expect(sampleValue(text, 'gw_http_requests_total', ok)).toBe(3)
    expect(sampleValue(text, 'gw_http_request_duration_seconds_count', ok)).toBe(3)
    expect(sampleValue(text, 'gw_http_request_duration_seconds_bucket', { ...ok, le: '+Inf' })).toBe(3)
    expect(sampleValue(text, 'gw_http_request_duration_seconds_bucket', { ...ok, le: '30' })).toBe(3)
    expect(sampleValue(text, 'gw_http_response_bytes_total', ok)).toBeGreaterThan(0)
    expect(sampleValue(text, 'gw_http_request_bytes_total', { ...ok, method: 'POST' })).toBe(100)
    expect(
      sampleValue(text, 'gw_http_requests_total', { route: 'dead', status_class: '5xx', upstream: 'dead' }),
    ).toBe(1)
    expect(sampleValue(text, 'gw_upstream_errors_total', { upstream: 'dead', kind: 'connect' })).toBe(1)
    expect(sampleValue(text, 'gw_http_requests_total', { route: 'users', status_class: '4xx' })).toBe(1)
    expect(sampleValue(text, 'gw_policy_decisions_total', { policy: 'deny-admin', outcome: 'deny' })).toBe(1)
    expect(
      sampleValue(text, 'gw_http_requests_total', {
        route: '__unmatched',
        status_class: '4xx',
        upstream: 'none',
      }),
    ).toBe(1)
    expect(sampleValue(text, 'gw_http_requests_in_flight', { route: 'users' })).toBe(0)
    expect(text).not.toContain('/api/users/1')
    expect(text).not.toContain('/nowhere')
  })

  it.skipIf(!requirePromtool)('passes promtool check metrics', async () => {
    const telemetry = createPrometheusTelemetry({ defaultLabels: { instance: 'gw-test' } })
    const { gw, scrape } = await stack(telemetry, [])
    await fetch(`${gw.url}/api/users/1`)
    await fetch(`${gw.url}/dead/x`)
    await fetch(`${gw.url}/api/users/2`, { headers: { 'x-role': 'admin' } })
    telemetry.count('cache.hits', 1, { route: 'users' })
    const res = await scrape()
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    const body = await res.text()
    const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' })
    expect(check.error).toBeUndefined()
    expect({ status: check.status, out: check.stdout + check.stderr }).toEqual({ status: 0, out: '' })
  })

  it('negotiates OpenMetrics on the listener', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const { gw, scrape } = await stack(telemetry, [])
    await fetch(`${gw.url}/api/users/1`)
    const res = await eventually(
      () => scrape('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'),
      (r) => r.ok,
    )
    expect(res.headers.get('content-type')).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8')
    const body = await res.text()
    expect(body).toContain('# TYPE gw_http_requests counter')
    expect(body.endsWith('# EOF\n')).toBe(true)
  })

  it('propagates traceparent upstream and writes redacted JSON access-log lines with the trace id', async () => {
    const lines: string[] = []
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const { gw } = await stack(telemetry, lines)
    const incoming = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const before = upstream.requests.length
    const res = await fetch(`${gw.url}/api/users/5?q=1`, {
      headers: {
        traceparent: incoming,
        tracestate: 'congo=t61rcWkgMzE',
        authorization: 'Bearer top-secret-token',
        cookie: 'session=top-secret-cookie',
        'user-agent': 'metrics-test',
      },
    })
    expect(res.status).toBe(200)
    await res.arrayBuffer()
    const seen = upstream.requests[before]!.headers
    expect(seen.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
    expect(seen.traceparent).not.toBe(incoming)
    expect(seen.tracestate).toBe('congo=t61rcWkgMzE')

    const fresh = await fetch(`${gw.url}/api/users/6`)
    await fresh.arrayBuffer()
    expect(upstream.requests[before + 1]!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)

    const access = (
      await eventually(
        async () =>
          lines
            .map((l) => JSON.parse(l) as Record<string, unknown>)
            .filter((l) => l.msg === 'request completed'),
        (l) => l.length === 2,
      )
    )[0]!
    expect(lines.join('\n')).not.toContain('top-secret')
    expect(access).toMatchObject({
      level: 30,
      method: 'GET',
      route: 'users',
      path: '/api/users/5',
      status: 200,
      upstream: 'users',
      clientIp: '127.0.0.1',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: (seen.traceparent as string).slice(36, 52),
      headers: { authorization: '[REDACTED]', cookie: '[REDACTED]', 'user-agent': 'metrics-test' },
    })
    expect(access.reqId).toBe(res.headers.get('x-request-id'))
    expect(typeof access.durationMs).toBe('number')
    expect(access.bytesOut).toBeGreaterThan(0)
  })

  it('logs the decision record of a denial on the access-log line and as its own record', async () => {
    const lines: string[] = []
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const { gw } = await stack(telemetry, lines)
    const res = await fetch(`${gw.url}/api/users/1`, {
      headers: { 'x-role': 'admin', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    })
    expect(res.status).toBe(403)
    await res.arrayBuffer()
    const parsed = await eventually(
      async () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
      (l) => l.some((r) => r.msg === 'request completed'),
    )
    const decision = parsed.find((r) => r.msg === 'policy decision')
    expect(decision).toMatchObject({
      reqId: res.headers.get('x-request-id'),
      traceId: '0af7651916cd43dd8448eb211c80319c',
      decision: {
        policy: 'deny-admin',
        rule: 'no-admins',
        key: 'admin',
        outcome: 'deny',
        reason: 'role',
        matches: [
          { rule: 'role-header', message: 'admin role', data: 'admin', target: 'REQUEST_HEADERS:x-role' },
        ],
      },
    })
    expect(parsed.filter((r) => r.msg === 'policy decision')).toHaveLength(1)
    expect(parsed.find((r) => r.msg === 'request completed')).toMatchObject({
      status: 403,
      respondedBy: 'deny-admin',
      decisions: [
        {
          policy: 'deny-admin',
          outcome: 'deny',
          reason: 'role',
          matches: [{ rule: 'role-header', target: 'REQUEST_HEADERS:x-role' }],
        },
      ],
    })
  })
})

describe('exposition choices', () => {
  let upstream: FakeUpstream
  beforeAll(async () => {
    upstream = await startFakeUpstream()
  })
  afterAll(() => upstream.close())

  it('runs its own listener on PROMETHEUS_PORT and stops it with the gateway', async () => {
    const port = await freePort()
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const gw = await start({
      telemetry,
      upstreams: { users: { url: upstream.url } },
      policies: [metrics({ port, host: '127.0.0.1' })],
      routes: [{ id: 'users', path: '/users/*', upstream: 'users' }],
    })
    await (await fetch(`${gw.url}/users/1`)).arrayBuffer()
    const text = await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text(),
      (t) => sampleValue(t, 'gw_http_requests_total', { route: 'users' }) === 1,
    )
    expect(sampleValue(text, 'gw_http_requests_total', { route: 'users' })).toBe(1)
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404)
    expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405)
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(404)
    await gw.close()
    gateways.splice(gateways.indexOf(gw), 1)
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow()
  })

  it('fails start-up with a coded error when the metrics port is taken', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const taken = await startMetricsServer(telemetry, { port: 0, host: '127.0.0.1' })
    servers.push(taken)
    await expect(
      createGateway({
        telemetry,
        policies: [metrics({ port: taken.address.port, host: '127.0.0.1' })],
        routes: [{ path: '/x', handler: () => ({ status: 200, headers: {}, body: 'x' }) }],
      }),
    ).rejects.toMatchObject({ code: 'GW_ERR_METRICS_LISTEN' })
  })

  it('serves /metrics on the main port, from the policy or from a route handler', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const gw = await start({
      telemetry,
      upstreams: { users: { url: upstream.url } },
      policies: [metrics({ exposition: 'gateway', path: '/-/metrics' })],
      routes: [
        { id: 'users', path: '/users/*', upstream: 'users' },
        { id: 'scrape', path: '/scrape', methods: ['GET'], handler: metricsHandler(telemetry) },
      ],
    })
    await (await fetch(`${gw.url}/users/1`)).arrayBuffer()
    const fromPolicy = await fetch(`${gw.url}/-/metrics`, {
      headers: { accept: 'application/openmetrics-text' },
    })
    expect(fromPolicy.headers.get('content-type')).toContain('application/openmetrics-text')
    expect((await fromPolicy.text()).endsWith('# EOF\n')).toBe(true)
    const fromRoute = await fetch(`${gw.url}/scrape`)
    expect(fromRoute.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    expect(sampleValue(await fromRoute.text(), 'gw_http_requests_total', { route: 'users' })).toBe(1)
  })

  it('binds nothing and records nothing when METRICS_ENABLED=false', async () => {
    const port = await freePort()
    const env: Record<string, string | undefined> = { METRICS_ENABLED: 'false' }
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const gw = await start({
      telemetry,
      upstreams: { users: { url: upstream.url } },
      policies: [metrics({ enabled: env.METRICS_ENABLED !== 'false', port })],
      routes: [{ id: 'users', path: '/users/*', upstream: 'users' }],
    })
    expect((await fetch(`${gw.url}/users/1`)).status).toBe(200)
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow()
    expect(sampleValue(await telemetry.registry.metrics(), 'gw_http_requests_total')).toBeUndefined()
  })

  it('times upstream calls per upstream and target', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const deadPort = await freePort()
    const upstreams = instrumentUpstreams(
      telemetry,
      { users: { url: upstream.url }, dead: { url: `http://127.0.0.1:${deadPort}` } },
      { log: createConsoleLogger('silent'), via: 'gw' },
    )
    const gw = await start({
      telemetry,
      upstreams,
      policies: [metrics({ exposition: 'none' })],
      routes: [
        { id: 'users', path: '/users/*', upstream: 'users' },
        { id: 'dead', path: '/dead', upstream: 'dead' },
      ],
    })
    await (await fetch(`${gw.url}/users/1`)).arrayBuffer()
    await (await fetch(`${gw.url}/users/2`)).arrayBuffer()
    expect((await fetch(`${gw.url}/dead`)).status).toBe(502)
    const text = await telemetry.registry.metrics()
    const labels = { upstream: 'users', target: new URL(upstream.url).origin, status_class: '2xx' }
    expect(sampleValue(text, 'gw_upstream_request_duration_seconds_count', labels)).toBe(2)
    expect(
      sampleValue(text, 'gw_upstream_request_duration_seconds_count', {
        upstream: 'dead',
        status_class: 'error',
      }),
    ).toBe(1)
  })

  it('keeps target management on instrumented upstreams (admin listener, service discovery)', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const deadPort = await freePort()
    const { users } = instrumentUpstreams(
      telemetry,
      { users: { url: `http://127.0.0.1:${deadPort}` } },
      { log: createConsoleLogger('silent'), via: 'gw' },
    )
    const gw = await start({
      telemetry,
      upstreams: { users: users! },
      routes: [{ path: '/*', upstream: 'users' }],
    })
    expect((await fetch(`${gw.url}/x`)).status).toBe(502)
    const managed = gw.upstreams.get('users') as ManagedUpstream
    expect(managed.circuitState).toBe('closed')
    managed.setTargets([{ url: upstream.url }])
    expect(managed.targets().map((t) => t.url)).toEqual([new URL(upstream.url).origin])
    expect((await fetch(`${gw.url}/users/1`)).status).toBe(200)
    const text = await telemetry.registry.metrics()
    expect(
      sampleValue(text, 'gw_upstream_request_duration_seconds_count', {
        upstream: 'users',
        status_class: '2xx',
      }),
    ).toBe(1)
  })

  it("serves /metrics on the admin listener with exposition 'admin', behind the admin key", async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const key = 'metrics-admin-key-0123456789'
    const gw = await start({
      telemetry,
      admin: { port: 0, host: '127.0.0.1', apiKey: key },
      upstreams: { users: { url: upstream.url } },
      policies: [metrics({ exposition: 'admin' })],
      routes: [{ id: 'users', path: '/users/*', upstream: 'users' }],
    })
    await (await fetch(`${gw.url}/users/1`)).arrayBuffer()
    expect((await fetch(`${gw.url}/metrics`)).status).toBe(404)
    expect((await fetch(`${gw.adminUrl}/metrics`)).status).toBe(401)
    const res = await fetch(`${gw.adminUrl}/metrics`, { headers: { 'x-admin-key': key } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    expect(sampleValue(await res.text(), 'gw_http_requests_total', { route: 'users' })).toBe(1)
    const open = await fetch(`${gw.adminUrl}/metrics`, {
      headers: { 'x-admin-key': key, accept: 'application/openmetrics-text; version=1.0.0' },
    })
    expect(open.headers.get('content-type')).toMatch(/^application\/openmetrics-text/)
    expect(await open.text()).toMatch(/# EOF\n$/)
  })

  it("refuses exposition 'admin' without an admin listener", async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    await expect(
      createGateway({
        telemetry,
        policies: [metrics({ exposition: 'admin' })],
        routes: [{ path: '/*', handler: () => ({ status: 204, headers: {}, body: null }) }],
      }),
    ).rejects.toMatchObject({ code: 'GW_ERR_METRICS_NO_ADMIN' })
  })
})
