import { createHmac } from 'node:crypto'
import { anyOf, apiKey, authorize, basic, hashApiKey, hashPassword, introspection, jwt } from '@gw/auth'
import { cachePurge } from '@gw/cache'
import { createConsoleLogger, createGateway, type Gateway, type PolicyEntry } from '@gw/core'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import { accessLog, createPrometheusTelemetry, type PrometheusTelemetry } from '@gw/metrics'
import { concurrencyLimit, rateLimit } from '@gw/ratelimit'
import { botFilter, cors, ipFilter, openapiValidation, requestValidation } from '@gw/security'
import { jsonBody } from '@gw/transform'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// One decision record per denial, in enforce and in report mode, for every policy that can deny, counted
// through a real gateway with @gw/metrics' sink: gw_policy_decisions_total and the access-log line of each
// request. (attack-filter is left out until it throws its denials with a decision like the others.)

const SECRET = 'decision-records-test-secret-0123456789'
const API_KEY = 'key-for-the-decision-records-test'
const PURGE_KEY = 'purge-key-for-the-decision-test'
const DENIED = 5

function sign(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
  const input = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`
}

interface Probe {
  method?: 'GET' | 'POST' | 'OPTIONS'
  path?: string
  headers?: Record<string, string>
  body?: string
}

interface Row {
  /** The policy whose decisions are counted. */
  policy: string
  /** The route's policies for one mode. */
  policies: (mode: 'enforce' | 'report') => PolicyEntry[]
  /** A request the policy denies. */
  probe: Probe
  /** Status of the denial. */
  status: number
  /** Expected decision fields besides policy and outcome. */
  decision: Record<string, unknown>
  /** Requests that pass before the denied ones (a rate limit of 1 admits one). */
  warmup?: number
  /** Requests to keep in flight while the denied ones are sent (a concurrency limit of 1). */
  hold?: number
  /** Modes the policy supports (json-body has no report mode). */
  modes?: ('enforce' | 'report')[]
}

const valid = sign({ sub: 'alice', scope: 'read', exp: 4102444800 })
let passwordHash = ''
const openapi = {
  openapi: '3.0.3',
  info: { title: 't', version: '1' },
  paths: {
    '/items/{id}': {
      get: {
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer' } }],
        responses: { '200': { description: 'ok' } },
      },
    },
  },
}
const jwtOptions = { algorithms: ['HS256' as const], secret: SECRET }

const rows: Row[] = [
  {
    policy: 'ip-filter',
    policies: (mode) => [ipFilter({ deny: ['127.0.0.1', '::1'] }, { mode })],
    probe: {},
    status: 403,
    decision: { rule: 'deny', key: '127.0.0.1', reason: 'ip-denied' },
  },
  {
    policy: 'bot-filter',
    policies: (mode) => [botFilter({ deny: ['badbot'] }, { mode })],
    probe: { headers: { 'user-agent': 'badbot/1.0' } },
    status: 403,
    decision: { rule: 'deny', key: 'badbot/1.0', reason: 'user-agent-denied' },
  },
  {
    policy: 'cors',
    policies: (mode) => [cors({ origins: ['https://app.example'] }, { mode })],
    probe: {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'PUT' },
    },
    status: 403,
    decision: { rule: 'preflight', reason: 'origin-not-allowed' },
  },
  {
    policy: 'request-validation',
    policies: (mode) => [requestValidation({ maxUrlLength: 40 }, { mode })],
    probe: { path: `/x?q=${'a'.repeat(60)}` },
    status: 414,
    decision: { rule: 'url-length', reason: 'uri-too-long' },
  },
  {
    policy: 'openapi-validation',
    policies: (mode) => [openapiValidation({ document: openapi }, { mode })],
    probe: { path: '/items/abc' },
    status: 400,
    decision: { rule: 'parameters', reason: 'parameters' },
  },
  {
    policy: 'jwt',
    policies: (mode) => [jwt(jwtOptions, { mode })],
    probe: { headers: { authorization: `Bearer ${valid.slice(0, -4)}AAAA` } },
    status: 401,
    decision: { reason: 'bad-signature' },
  },
  {
    policy: 'api-key',
    policies: (mode) => [apiKey({ consumers: [{ id: 'app', keys: [hashApiKey(API_KEY)] }] }, { mode })],
    probe: { headers: { 'x-api-key': 'not-the-key' } },
    status: 401,
    decision: { reason: 'unknown-key' },
  },
  {
    policy: 'basic',
    policies: (mode) => [basic({ users: [{ username: 'ops', passwordHash }] }, { mode })],
    probe: { headers: { authorization: `Basic ${Buffer.from('ops:wrong').toString('base64')}` } },
    status: 401,
    decision: { key: 'ops', reason: 'bad-password' },
  },
  {
    policy: 'introspection',
    policies: (mode) => [
      introspection(
        { introspectionEndpoint: 'http://127.0.0.1:9/introspect', clientId: 'gw', clientSecret: 'secret' },
        { mode },
      ),
    ],
    probe: {},
    status: 401,
    decision: { reason: 'missing' },
  },
  {
    policy: 'any-of',
    policies: (mode) => [
      anyOf(
        { policies: [jwt(jwtOptions), apiKey({ consumers: [{ id: 'app', keys: [hashApiKey(API_KEY)] }] })] },
        { mode },
      ),
    ],
    probe: { headers: { 'x-api-key': 'not-the-key' } },
    status: 401,
    decision: { reason: 'unknown-key' },
  },
  {
    policy: 'authorize',
    policies: (mode) => [jwt(jwtOptions), authorize({ scopes: ['admin'] }, { mode })],
    probe: { headers: { authorization: `Bearer ${valid}` } },
    status: 403,
    decision: { key: 'alice', reason: 'missing-scope' },
  },
  {
    policy: 'rate-limit',
    policies: (mode) => [rateLimit({ limit: 1, window: '1m', key: 'ip' }, { mode })],
    probe: {},
    status: 429,
    decision: { rule: 'default', key: '127.0.0.1', reason: 'limit-exceeded' },
    warmup: 1,
  },
  {
    policy: 'concurrency-limit',
    policies: (mode) => [concurrencyLimit({ max: 1, key: 'ip' }, { mode })],
    probe: {},
    status: 429,
    decision: { rule: 'concurrency', key: '127.0.0.1', reason: 'concurrency-exceeded' },
    hold: 1,
  },
  {
    policy: 'cache-purge',
    policies: (mode) => [cachePurge({ apiKey: PURGE_KEY }, { mode })],
    probe: { method: 'POST', path: '/_cache/purge', headers: { 'x-api-key': 'wrong' }, body: '{"url":"/x"}' },
    status: 401,
    decision: { reason: 'bad-api-key' },
  },
  {
    policy: 'json-body',
    policies: (mode) => [jsonBody({ request: { omit: ['/secret'] } }, { mode })],
    probe: { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"not json' },
    status: 400,
    decision: { rule: 'request', reason: 'GW_ERR_TRANSFORM_INVALID_JSON' },
    modes: ['enforce'],
  },
]

let upstream: FakeUpstream
const release: (() => void)[] = []
beforeAll(async () => {
  passwordHash = await hashPassword('right')
  upstream = await startFakeUpstream(async (req, res) => {
    if (req.url?.startsWith('/hold')) await new Promise<void>((resolve) => release.push(resolve))
    res.writeHead(200, { 'content-type': 'application/json' })
    res.end('{"ok":true}')
  })
})
afterAll(() => upstream.close())

async function decisionCounts(telemetry: PrometheusTelemetry, policy: string) {
  const metric = telemetry.registry.getSingleMetric('gw_policy_decisions_total')
  const values = metric === undefined ? [] : (await metric.get()).values
  const count = (outcome: string) =>
    values.find((v) => v.labels.policy === policy && v.labels.outcome === outcome)?.value ?? 0
  return { deny: count('deny'), report: count('report') }
}

async function send(gw: Gateway, probe: Probe, path = probe.path ?? '/api/x') {
  const res = await request(`${gw.url}${path}`, {
    method: probe.method ?? 'GET',
    headers: probe.headers,
    body: probe.body,
  })
  await res.body.dump()
  return { status: res.statusCode, id: String(res.headers['x-request-id']) }
}

async function until(test: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !test(); i++) await new Promise((r) => setTimeout(r, 10))
  expect(test()).toBe(true)
}

describe.each(rows)('$policy: one decision record per denied request', (row) => {
  for (const mode of row.modes ?? (['enforce', 'report'] as const)) {
    it(`in ${mode} mode`, async () => {
      const telemetry = createPrometheusTelemetry({ defaultMetrics: false, logDecisions: 'none' })
      const lines: Record<string, unknown>[] = []
      const gw = await createGateway({
        server: { host: '127.0.0.1', port: 0, drainIdleGrace: 0 },
        logger: createConsoleLogger('info', {}, (line) => lines.push(JSON.parse(line))),
        telemetry,
        upstreams: { api: { url: upstream.url } },
        policies: [accessLog({})],
        routes: [{ path: '/*', upstream: 'api', policies: row.policies(mode) }],
      })
      await gw.listen()
      try {
        for (let i = 0; i < (row.warmup ?? 0); i++) expect((await send(gw, row.probe)).status).toBe(200)
        const held = Array.from({ length: row.hold ?? 0 }, () => send(gw, row.probe, '/hold'))
        if (held.length > 0) await until(() => release.length === held.length)
        const denied: { status: number; id: string }[] = []
        for (let i = 0; i < DENIED; i++) denied.push(await send(gw, row.probe))
        for (const resolve of release.splice(0)) resolve()
        await Promise.all(held)

        for (const res of denied)
          if (mode === 'enforce') expect(res.status).toBe(row.status)
          else expect(res.status).toBeLessThan(400)
        const outcome = mode === 'enforce' ? 'deny' : 'report'
        expect(await decisionCounts(telemetry, row.policy)).toEqual({
          deny: mode === 'enforce' ? DENIED : 0,
          report: mode === 'report' ? DENIED : 0,
        })
        await until(() =>
          denied.every((r) => lines.some((l) => l.reqId === r.id && l.msg === 'request completed')),
        )
        for (const res of denied) {
          const line = lines.find((l) => l.reqId === res.id && l.msg === 'request completed')
          const records = (line?.decisions as { outcome: string }[] | undefined) ?? []
          const denials = records.filter((d) => d.outcome !== 'allow')
          expect(denials).toEqual([{ policy: row.policy, outcome, ...row.decision }])
        }
      } finally {
        for (const resolve of release.splice(0)) resolve()
        await gw.close()
      }
    })
  }
})
