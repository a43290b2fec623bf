import { policies as authPolicies } from '@gw/auth'
import { cache, policies as cachePolicies } from '@gw/cache'
import { definePolicy, GatewayError, principalKey, z } from '@gw/core'
import { createPolicyRegistry, parseConfig } from '@gw/core/config'
import { GatewayRouter } from '@gw/core/runner'
import { createManualClock, createTestExchange, createTestPipeline } from '@gw/core/testing'
import { policies as metricsPolicies } from '@gw/metrics'
import { rateLimit, policies as ratelimitPolicies } from '@gw/ratelimit'
import { policies as securityPolicies } from '@gw/security'
import {
  compileTemplate,
  requestHeaders,
  responseHeaders,
  templateProblems,
  policies as transformPolicies,
} from '@gw/transform'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify as toYaml } from 'yaml'
import {
  type EchoUpstream,
  parseResponses,
  type RunningGateway,
  rawExchange,
  startEchoUpstream,
  startGateway,
} from './helpers/net.js'

/** Bounded runs: the whole file stays within a few seconds on a shared 2-core machine. */
const RUNS = { numRuns: 200 }
const FEW = { numRuns: 60 }

const registry = createPolicyRegistry([
  ...authPolicies,
  ...cachePolicies,
  ...metricsPolicies,
  ...ratelimitPolicies,
  ...securityPolicies,
  ...transformPolicies,
])

/** Runs the config loader; returns 'ok' or the GW_ERR_CONFIG issues, and rethrows anything else. */
function load(
  text: string,
  format: 'yaml' | 'json',
  env: Record<string, string> = { PORT: '8080' },
): 'ok' | { path: string; message: string }[] {
  try {
    parseConfig(text, { registry, format, env })
    return 'ok'
  } catch (error) {
    if (error instanceof GatewayError && error.code === 'GW_ERR_CONFIG') {
      const issues = (error as GatewayError & { extensions?: { issues?: unknown } }).extensions?.issues
      expect(Array.isArray(issues) && issues.length > 0, error.message).toBe(true)
      return issues as { path: string; message: string }[]
    }
    throw error
  }
}

const policyNames = [...registry.keys()]
const scalar = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  // biome-ignore lint/suspicious/noTemplateCurlyInString: config-file ${VAR} references, not JS templates
  fc.constantFrom('${PORT}', '${UNSET}', '${X:-1}', '10s', '1m', '-1', 'http://127.0.0.1:1', '/*'),
)
/** Values shaped like a gateway file, so the schema is exercised deeply, not just rejected at the root. */
const configLike = fc.record(
  {
    server: fc.dictionary(
      fc.constantFrom('port', 'host', 'headersTimeout', 'maxConnections', 'trustProxy', 'via', 'junk'),
      scalar,
    ),
    upstreams: fc.dictionary(
      fc.string({ maxLength: 8 }),
      fc.record(
        { url: scalar, timeouts: fc.dictionary(fc.string({ maxLength: 8 }), scalar) },
        { requiredKeys: [] },
      ),
    ),
    policies: fc.array(
      fc.record(
        {
          policy: fc.oneof(fc.constantFrom(...policyNames), fc.string({ maxLength: 10 })),
          limit: scalar,
          window: scalar,
          key: scalar,
          mode: scalar,
        },
        { requiredKeys: ['policy'] },
      ),
      { maxLength: 4 },
    ),
    routes: fc.array(
      fc.record(
        { path: scalar, upstream: scalar, methods: fc.array(scalar, { maxLength: 3 }), stripPrefix: scalar },
        { requiredKeys: [] },
      ),
      { maxLength: 3 },
    ),
  },
  { requiredKeys: [] },
)

describe('config loader: any input is a config or GW_ERR_CONFIG with issues, never another exception', () => {
  it('arbitrary JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        load(JSON.stringify(value) ?? 'null', 'json')
      }),
      RUNS,
    )
  })

  it('arbitrary text as YAML and as JSON', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        load(text, 'yaml')
        load(text, 'json')
      }),
      RUNS,
    )
  })

  it('config-shaped documents (deep schema paths), in both formats', () => {
    fc.assert(
      fc.property(configLike, (value) => {
        const json = load(JSON.stringify(value), 'json')
        const yaml = load(toYaml(value), 'yaml')
        expect(json === 'ok').toBe(yaml === 'ok')
      }),
      RUNS,
    )
  })

  it('env substitution with arbitrary variable values (numbers, booleans, YAML syntax, references again)', () => {
    const envValue = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.constantFrom(
        '0',
        '-1',
        '65536',
        'true',
        'no',
        '{a: 1}',
        '[1, 2]',
        `\${PORT}`,
        '"',
        "'",
        ': x',
        '10s',
      ),
    )
    const text = [
      'server:',
      `  port: \${PORT}`,
      `  host: "\${HOST:-127.0.0.1}"`,
      `  headersTimeout: \${X:-5s}`,
      'upstreams:',
      '  up:',
      `    url: http://\${HOST:-127.0.0.1}:\${PORT:-1}`,
      'routes:',
      `  - path: /\${X:-x}/*`,
      '    upstream: up',
    ].join('\n')
    expect(load(text, 'yaml', { PORT: '8080', HOST: '127.0.0.1', X: '5s' })).toBe('ok')
    fc.assert(
      fc.property(fc.record({ PORT: envValue, X: envValue, HOST: envValue }), (env) => {
        load(text, 'yaml', env)
      }),
      RUNS,
    )
  })
})

const referenceArb = fc.oneof(
  fc.constantFrom(
    'request.id',
    'request.method',
    'request.path',
    'request.url',
    'request.host',
    'request.ip',
    'request.headers.x-tenant',
    'request.query.q',
    'route.id',
    'route.params.id',
    'principal.sub',
    'principal.claims.org.id',
    'time.unix',
  ),
  fc.string({ maxLength: 12 }),
)
const templateArb = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc
    .array(
      fc.oneof(
        fc.string({ maxLength: 6 }),
        referenceArb.map((r) => `\${${r}}`),
        fc.tuple(referenceArb, fc.string({ maxLength: 5 })).map(([r, d]) => `\${${r}:-${d}}`),
        fc.constantFrom('$${', '${', '}', '$', ':-'),
      ),
      { maxLength: 6 },
    )
    .map((parts) => parts.join('')),
)

describe('@gw/transform templates', () => {
  it('templateProblems never throws; compileTemplate compiles exactly what it accepts; rendering never throws', () => {
    fc.assert(
      fc.property(
        templateArb,
        fc.dictionary(fc.constantFrom('x-tenant', 'x-other'), fc.string({ maxLength: 10 })),
        fc.option(fc.string({ maxLength: 10 }), { nil: undefined }),
        (source, headers, subject) => {
          const problems = templateProblems(source)
          expect(Array.isArray(problems)).toBe(true)
          let render: ((ex: ReturnType<typeof createTestExchange>) => string | undefined) | undefined
          try {
            render = compileTemplate(source, { env: {} })
          } catch (error) {
            expect(error).toBeInstanceOf(GatewayError)
            expect((error as GatewayError).code).toBe('GW_ERR_TRANSFORM_TEMPLATE')
            return
          }
          expect(problems).toEqual([])
          const ex = createTestExchange({ url: '/p?q=1', headers })
          if (subject !== undefined) ex.set(principalKey, { subject, method: 'test', scopes: [], claims: {} })
          const out = render(ex)
          expect(out === undefined || typeof out === 'string').toBe(true)
        },
      ),
      RUNS,
    )
  })

  it('text without references renders as itself ($${ as a literal ${)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 30 }).filter((s) => !s.includes('$')),
        (text) => {
          expect(compileTemplate(text, { env: {} })(createTestExchange())).toBe(text)
          expect(compileTemplate(`$\${${text}`, { env: {} })(createTestExchange())).toBe(`\${${text}`)
        },
      ),
      RUNS,
    )
  })
})

/** Sets the principal from the `x-sub` header (a stand-in for an auth policy). */
const setPrincipal = definePolicy({
  name: 'test-set-principal',
  stage: 'authn',
  schema: z.object({}),
  state: () => ({ provides: [principalKey] }),
  create: () => ({
    onRequest: (ex) => {
      ex.set(principalKey, {
        subject: String(ex.request.headers['x-sub']),
        method: 'test',
        scopes: [],
        claims: {},
      })
    },
  }),
})

const headerValue = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 })

describe('@gw/ratelimit keys', () => {
  it('any header value gets its own budget: limit 2 -> 200, 200, 429; distinct values never share a counter', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(headerValue, { minLength: 2, maxLength: 4 }), async (values) => {
        const p = await createTestPipeline(
          [rateLimit({ limit: 2, window: '1m', key: 'header', header: 'x-client' })],
          { clock: createManualClock() },
        )
        for (const value of values) {
          const statuses: number[] = []
          for (let i = 0; i < 3; i++) statuses.push((await p.run({ headers: { 'x-client': value } })).status)
          expect(statuses).toEqual([200, 200, 429])
        }
        await p.close()
      }),
      FEW,
    )
  })

  it('principal keys: arbitrary subjects never throw and are counted apart', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(headerValue, { minLength: 2, maxLength: 3 }), async (subjects) => {
        const p = await createTestPipeline(
          [setPrincipal({}), rateLimit({ limit: 1, window: '1m', key: 'principal' })],
          { clock: createManualClock() },
        )
        for (const subject of subjects) {
          expect((await p.run({ headers: { 'x-sub': subject } })).status).toBe(200)
          expect((await p.run({ headers: { 'x-sub': subject } })).status).toBe(429)
        }
        await p.close()
      }),
      FEW,
    )
  })
})

const pathSegment = fc.string({ minLength: 1, maxLength: 12 }).map(encodeURIComponent)
const urlArb = fc
  .tuple(
    fc.array(pathSegment, { minLength: 1, maxLength: 4 }),
    fc.option(fc.webQueryParameters(), { nil: undefined }),
  )
  .map(([segments, query]) => `/${segments.join('/')}${query === undefined ? '' : `?${query}`}`)

describe('@gw/cache keys', () => {
  it('a cached response is only ever served for its own URL and host', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(fc.constantFrom('a.test', 'b.test', 'A.test'), urlArb), {
          minLength: 2,
          maxLength: 5,
          selector: ([host, url]) => `${host.toLowerCase()}${url}`,
        }),
        async (targets) => {
          const p = await createTestPipeline([cache({ defaultTtl: 60 })], {
            clock: createManualClock(),
            upstream: (ex) => ({
              status: 200,
              headers: { 'content-type': 'text/plain', 'cache-control': 'max-age=60' },
              body: `${ex.request.host.toLowerCase()}|${ex.request.url}`,
            }),
          })
          for (const round of [1, 2]) {
            for (const [host, url] of targets) {
              const res = await p.run({ url, headers: { host } })
              expect(res.status).toBe(200)
              expect(res.text).toBe(`${host.toLowerCase()}|${url}`)
              if (round === 2) expect(res.upstreamCalls).toBe(0)
            }
          }
          await p.close()
        },
      ),
      FEW,
    )
  })
})

describe('router', () => {
  const router = new GatewayRouter<string>()
  router.add({
    id: 'items',
    pattern: '/users/:id/items/:item',
    methods: ['GET'],
    host: undefined,
    value: 'items',
  })
  router.add({ id: 'api', pattern: '/api/*', methods: ['GET', 'POST'], host: undefined, value: 'api' })
  router.add({ id: 'hosted', pattern: '/h/:name', methods: ['GET'], host: 'a.test', value: 'hosted' })

  it('arbitrary methods, paths and hosts never throw', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom('GET', 'POST', 'DELETE', 'TRACE', 'get', ''), fc.string({ maxLength: 8 })),
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 60 }),
          urlArb,
          fc.webUrl().map((u) => new URL(u).pathname),
        ),
        fc.option(fc.oneof(fc.domain(), fc.string({ maxLength: 20 }), fc.constant('[::1]:80')), {
          nil: undefined,
        }),
        (method, path, host) => {
          const found = router.find(method, path, host)
          expect(found === null || typeof found.route.id === 'string').toBe(true)
          router.allowedMethods(path, host)
        },
      ),
      RUNS,
    )
  })

  it('params round-trip: encoded segments come back decoded', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 30 }),
        fc.string({ minLength: 1, maxLength: 30 }),
        (id, item) => {
          const found = router.find(
            'GET',
            `/users/${encodeURIComponent(id)}/items/${encodeURIComponent(item)}`,
            'x.test',
          )
          expect(found?.route.id).toBe('items')
          expect(found?.params).toEqual({ id, item })
        },
      ),
      RUNS,
    )
  })

  it('host-constrained routes only match their host (any case, any port)', () => {
    fc.assert(
      fc.property(fc.domain(), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        const found = router.find('GET', '/h/x', `${host}:${port}`)
        expect(found?.route.id === 'hosted').toBe(host.toLowerCase() === 'a.test')
        expect(router.find('GET', '/h/x', `A.TEST:${port}`)?.route.id).toBe('hosted')
      }),
      RUNS,
    )
  })
})

/** Our own oracle: a segment that is `.` or `..` once `%2e` (any case) is decoded. */
function hasDotSegmentOracle(path: string): boolean {
  return path
    .split('?')[0]!
    .split('/')
    .some((segment) => {
      const decoded = segment.replace(/%2e/gi, '.')
      return decoded === '.' || decoded === '..'
    })
}

describe('dot-segment check through a real gateway', () => {
  let upstream: EchoUpstream
  let gw: RunningGateway
  beforeAll(async () => {
    upstream = await startEchoUpstream()
    gw = await startGateway({
      upstreams: { up: { url: upstream.url } },
      routes: [{ path: '/public/*', upstream: 'up' }],
    })
  })
  afterAll(async () => {
    await gw?.gateway.close()
    await upstream?.close()
  })

  it('paths with dot-segments (plain or %2e-encoded) get 400; others are forwarded without any', async () => {
    const segment = fc.constantFrom(
      '.',
      '..',
      '%2e',
      '%2E',
      '%2e%2E',
      '.%2e',
      '%2e.',
      '...',
      'a',
      'b..',
      '..c',
      '%2f',
      'x',
    )
    await fc.assert(
      fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 5 }), async (segments) => {
        const path = `/public/${segments.join('/')}`
        upstream.reset()
        const reply = await rawExchange(
          gw.port,
          `GET ${path} HTTP/1.1\r\nHost: gw.test\r\nConnection: close\r\n\r\n`,
        )
        const [res] = parseResponses(reply.raw)
        if (hasDotSegmentOracle(path)) {
          expect(res?.status).toBe(400)
          expect(upstream.requests).toHaveLength(0)
        } else {
          expect([200, 404]).toContain(res?.status)
          for (const r of upstream.requests) expect(hasDotSegmentOracle(r.url)).toBe(false)
        }
      }),
      { numRuns: 80 },
    )
  })
})

describe('header templates fed with hostile values, through a real gateway', () => {
  let upstream: EchoUpstream
  let gw: RunningGateway
  const claims = new Map<string, string>()
  const claimFromHeader = definePolicy({
    name: 'test-claim-from-table',
    stage: 'authn',
    schema: z.object({}),
    state: () => ({ provides: [principalKey] }),
    create: () => ({
      onRequest: (ex) => {
        const name = claims.get(String(ex.request.headers['x-case'])) ?? ''
        ex.set(principalKey, { subject: 'u1', method: 'test', scopes: [], claims: { name } })
      },
    }),
  })

  // biome-ignore lint/suspicious/noTemplateCurlyInString: a gw header template, not a JS template
  const claimName = '${principal.claims.name}'

  beforeAll(async () => {
    upstream = await startEchoUpstream()
    gw = await startGateway({
      upstreams: { up: { url: upstream.url } },
      routes: [
        {
          path: '/*',
          upstream: 'up',
          policies: [
            claimFromHeader({}),
            requestHeaders({ set: { 'x-user-name': claimName } }),
            responseHeaders({ set: { 'x-echo-name': claimName } }),
          ],
        },
      ],
    })
  })
  afterAll(async () => {
    await gw?.gateway.close()
    await upstream?.close()
  })

  it('a claim with CR/LF/NUL never injects a header or breaks framing; plain visible values pass unchanged', async () => {
    const hostile = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 30 }),
      fc
        .tuple(
          fc.string({ maxLength: 5 }),
          fc.constantFrom('\r\n', '\n', '\r', '\0', '\r\nX-Injected: 1', '\r\n\r\nGET /smuggled HTTP/1.1'),
        )
        .map(([a, b]) => `${a}${b}`),
    )
    let n = 0
    await fc.assert(
      fc.asyncProperty(hostile, async (name) => {
        const id = String(n++)
        claims.set(id, name)
        upstream.reset()
        const reply = await rawExchange(
          gw.port,
          `GET /t HTTP/1.1\r\nHost: gw.test\r\nX-Case: ${id}\r\nConnection: close\r\n\r\n`,
        )
        const responses = parseResponses(reply.raw)
        expect(responses).toHaveLength(1)
        const [res] = responses
        expect(res?.names).not.toContain('x-injected')
        expect(upstream.rawText()).not.toMatch(/\r\nx-injected:/i)
        expect(upstream.rawText()).not.toContain('/smuggled')
        expect(upstream.requests.length).toBeLessThanOrEqual(1)
        if (res?.status === 200) {
          const sent = upstream.requests[0]?.headers['x-user-name']
          expect(sent === undefined || !/[\r\n\0]/.test(String(sent))).toBe(true)
          if (/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(name)) {
            expect(sent).toBe(name)
            expect(res.headers['x-echo-name']).toBe(name)
          }
        } else {
          expect(res?.status).toBeGreaterThanOrEqual(400)
          expect(res?.headers['content-type']).toMatch(/application\/problem\+json/)
        }
      }),
      { numRuns: 80 },
    )
  })
})
