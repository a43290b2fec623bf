// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are gw config text with ${VAR} references
import { createHash } from 'node:crypto'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { POLICY_PACKAGE_OF, POLICY_PACKAGES } from '../src/discover-policies.js'
import { gw, noStack, packages, project } from './helpers.js'

const ROUTES_YAML = `upstreams:
  users: { url: "http://127.0.0.1:3001" }
  v1: { url: "http://127.0.0.1:3002" }
  v2: { url: "http://127.0.0.1:3003" }
policies:
  - policy: metrics
  - policy: rate-limit
    mode: report
    options: { limit: 100, window: 1m, key: ip }
routes:
  - id: users
    path: /api/users/*
    upstream: users
    policies:
      - policy: rate-limit
        options: { limit: 5, window: 1s, key: ip }
  - path: /orders/:id
    methods: [GET, HEAD]
    host: api.example.com
    split:
      - { upstream: v1, weight: 90 }
      - { upstream: v2, weight: 10 }
    mirror: { upstream: users, percent: 5 }
`

describe('gw routes', () => {
  let dir: string
  beforeAll(() => {
    dir = project(['ratelimit', 'metrics'])
    writeFileSync(join(dir, 'gw.yaml'), ROUTES_YAML)
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('prints the route table as aligned text', async () => {
    const run = await gw(['routes', 'gw.yaml'], { cwd: dir })
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout).toBe(
      [
        'gw.yaml: 2 routes; gateway policies: metrics, rate-limit (report)',
        'ID                                    METHODS   HOST             PATH          UPSTREAM                       POLICIES',
        'users                                 *         *                /api/users/*  users                          rate-limit',
        'GET,HEAD /orders/:id@api.example.com  GET,HEAD  api.example.com  /orders/:id   v1:90 v2:10 (mirror users 5%)  -',
        '',
      ].join('\n'),
    )
  })

  it('prints JSON with --json', async () => {
    const run = await gw(['routes', 'gw.yaml', '--json'], { cwd: dir })
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual({
      file: 'gw.yaml',
      policies: ['metrics', 'rate-limit (report)'],
      routes: [
        {
          id: 'users',
          path: '/api/users/*',
          upstream: 'users',
          policies: ['rate-limit'],
        },
        {
          id: 'GET,HEAD /orders/:id@api.example.com',
          methods: ['GET', 'HEAD'],
          host: 'api.example.com',
          path: '/orders/:id',
          split: [
            { upstream: 'v1', weight: 90 },
            { upstream: 'v2', weight: 10 },
          ],
          mirror: { upstream: 'users', percent: 5 },
          policies: [],
        },
      ],
    })
  })

  it('exits 1 with the file and every problem, 2 on usage errors', async () => {
    writeFileSync(join(dir, 'bad.yaml'), 'routes:\n  - path: /a\n    upstream: nope\n')
    const bad = await gw(['routes', 'bad.yaml'], { cwd: dir })
    expect(bad).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        "gw: invalid configuration in bad.yaml:\n  - routes[0].upstream: unknown upstream 'nope' (defined: none)\n",
    })
    const missing = await gw(['routes', 'nope.yaml'], { cwd: dir })
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe(
      `gw: invalid configuration in nope.yaml:\n  - (file): cannot read ${join(dir, 'nope.yaml')}: file not found\n`,
    )
    expect(await gw(['routes'], { cwd: dir })).toMatchObject({
      code: 2,
      stderr: 'gw: routes needs a config file (see gw --help)\n',
    })
    expect(await gw(['routes', 'gw.yaml', 'x.yaml'], { cwd: dir })).toMatchObject({
      code: 2,
      stderr: "gw: unexpected argument 'x.yaml' (see gw --help)\n",
    })
    expect(noStack(bad.stderr + missing.stderr)).toBe(true)
  })
})

describe('gw hash-key', () => {
  const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex')
  let withAuth: string
  let without: string
  beforeAll(() => {
    withAuth = project(['auth'])
    without = project([])
  })
  afterAll(() => {
    rmSync(withAuth, { recursive: true, force: true })
    rmSync(without, { recursive: true, force: true })
  })

  it("prints the hash @gw/auth's api-key policy is configured with, from stdin or an argument", async () => {
    const { hashApiKey } = (await import(pathToFileURL(join(packages, 'auth', 'dist', 'index.js')).href)) as {
      hashApiKey(key: string): string
    }
    const key = 'gw_test-key_åß'
    const fromStdin = await gw(['hash-key'], { cwd: withAuth, stdin: `${key}\n` })
    expect(fromStdin).toEqual({ code: 0, stdout: `${hashApiKey(key)}\n`, stderr: '' })
    expect(hashApiKey(key)).toBe(sha256(key))
    const fromArgument = await gw(['hash-key', key], { cwd: withAuth })
    expect(fromArgument.stdout).toBe(`${sha256(key)}\n`)
    const crlf = await gw(['hash-key'], { cwd: withAuth, stdin: `${key}\r\n` })
    expect(crlf.stdout).toBe(`${sha256(key)}\n`)
  })

  it('refuses an empty key and says to install @gw/auth when it is missing', async () => {
    expect(await gw(['hash-key'], { cwd: withAuth, stdin: '\n' })).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'gw: empty key (pass it on stdin: gw hash-key < key.txt)\n',
    })
    expect(await gw(['hash-key'], { cwd: without, stdin: 'k' })).toEqual({
      code: 1,
      stdout: '',
      stderr: 'gw: install @gw/auth to hash API keys\n',
    })
    expect(await gw(['hash-key', 'a', 'b'], { cwd: withAuth })).toMatchObject({
      code: 2,
      stderr: "gw: unexpected argument 'b' (see gw --help)\n",
    })
  })
})

describe('policies of packages that are not installed', () => {
  let dir: string
  beforeAll(() => {
    dir = project(['ratelimit'])
    writeFileSync(
      join(dir, 'gw.yaml'),
      `upstreams: { u: { url: "http://127.0.0.1:1" } }
policies:
  - policy: cors
routes:
  - path: /a
    upstream: u
    policies:
      - { policy: rate-limit, options: { limit: 1, window: 1s } }
      - { policy: cache }
      - { policy: cahce }
`,
    )
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('names the package to install, and keeps the generic message for unknown names', async () => {
    const run = await gw(['validate', 'gw.yaml'], { cwd: dir })
    expect(run.code).toBe(1)
    expect(run.stderr).toBe(
      [
        'gw: invalid configuration in gw.yaml:',
        "  - policies[0].policy: install @gw/security to use policy 'cors'",
        "  - routes[0].policies[1].policy: install @gw/cache to use policy 'cache'",
        "  - routes[0].policies[2].policy: unknown policy 'cahce' (known: rate-limit, concurrency-limit)",
        '',
      ].join('\n'),
    )
    const start = await gw(['start', 'gw.yaml'], { cwd: dir })
    expect(start.code).toBe(1)
    expect(start.stderr).toContain(
      "  - routes[0].policies[1].policy: install @gw/cache to use policy 'cache'\n",
    )
  })

  it("maps exactly the policies each package's `policies` export defines", async () => {
    const expected: Record<string, string> = {}
    for (const pkg of POLICY_PACKAGES) {
      const dist = join(packages, pkg.slice('@gw/'.length), 'dist', 'index.js')
      const mod = (await import(pathToFileURL(dist).href)) as {
        policies: ({ definition: { name: string } } | { name: string })[]
      }
      for (const policy of mod.policies)
        expected['definition' in policy ? policy.definition.name : policy.name] = pkg
    }
    expect({ ...POLICY_PACKAGE_OF }).toEqual(expected)
  })
})

describe('resources in validate', () => {
  let withRedis: string
  let bare: string
  beforeAll(() => {
    withRedis = project(['ratelimit', 'metrics'], { ioredis: true })
    bare = project(['ratelimit'])
  })
  afterAll(() => {
    rmSync(withRedis, { recursive: true, force: true })
    rmSync(bare, { recursive: true, force: true })
  })

  const file = (dir: string, resources: string) =>
    writeFileSync(
      join(dir, 'gw.yaml'),
      `upstreams: { u: { url: "http://127.0.0.1:1" } }\nroutes: [{ path: /a, upstream: u }]\nresources:\n${resources}`,
    )

  it('accepts a Redis client and telemetry options', async () => {
    file(withRedis, '  redis: { url: "redis://127.0.0.1:6379/0" }\n  metrics: { prefix: edge_ }\n')
    expect(await gw(['validate', 'gw.yaml'], { cwd: withRedis })).toMatchObject({
      code: 0,
      stdout: 'OK gw.yaml: 1 route, 1 upstream, 0 policy entries\n',
    })
    file(withRedis, '  redis:\n    cluster: ["10.0.0.1:7000", { host: 10.0.0.2 }]\n    password: s3cret\n')
    expect((await gw(['validate', 'gw.yaml'], { cwd: withRedis })).code).toBe(0)
  })

  it('reports conflicting, invalid and unusable resources with their paths', async () => {
    file(
      withRedis,
      '  redis: { url: "redis://h:1", host: h, cluster: ["nope"], connectTimeout: soon }\n  metrics: { prefix: "1x" }\n',
    )
    const run = await gw(['validate', 'gw.yaml'], { cwd: withRedis })
    expect(run.code).toBe(1)
    expect(run.stderr).toBe(
      [
        'gw: invalid configuration in gw.yaml:',
        "  - resources.redis.cluster[0]: expected 'host:port'",
        "  - resources.redis.connectTimeout: invalid duration 'soon' (use ms or e.g. 5s, 15m, 1h)",
        '',
      ].join('\n'),
    )
    file(withRedis, '  redis: { url: "redis://h:1", host: h }\n  metrics: { prefix: "1x" }\n')
    const clash = await gw(['validate', 'gw.yaml'], { cwd: withRedis })
    expect(clash.stderr).toBe(
      'gw: invalid configuration in gw.yaml:\n  - resources.redis.host: set either url or host, not both\n',
    )
    file(withRedis, '  metrics: { prefix: "1x" }\n')
    const metrics = await gw(['validate', 'gw.yaml'], { cwd: withRedis })
    expect(metrics.stderr).toBe(
      'gw: invalid configuration in gw.yaml:\n  - resources.metrics.prefix: must be a valid metric name prefix\n',
    )
    file(bare, '  redis: { host: 127.0.0.1 }\n')
    expect(await gw(['validate', 'gw.yaml'], { cwd: bare })).toMatchObject({
      code: 1,
      stderr:
        'gw: invalid configuration in gw.yaml:\n  - resources.redis: install ioredis to connect to Redis (npm i ioredis)\n',
    })
    file(bare, '  metrics: true\n')
    expect((await gw(['validate', 'gw.yaml'], { cwd: bare })).stderr).toBe(
      'gw: invalid configuration in gw.yaml:\n  - resources.metrics: install @gw/metrics to use Prometheus telemetry\n',
    )
  })
})

describe('a policy that needs a resource the file does not describe', () => {
  let dir: string
  beforeAll(() => {
    dir = project(['ratelimit'])
    writeFileSync(
      join(dir, 'gw.yaml'),
      'upstreams: { u: { url: "http://127.0.0.1:1" } }\nroutes:\n  - path: /a\n    upstream: u\n' +
        '    policies: [{ policy: rate-limit, options: { limit: 1, window: 1s, store: { type: redis } } }]\n',
    )
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('fails gw start with the resource and how to add it to the file', async () => {
    const run = await gw(['start', 'gw.yaml', '--port', '0'], { cwd: dir, env: { LOG_LEVEL: 'silent' } })
    expect(run).toMatchObject({ code: 1, stdout: '' })
    expect(run.stderr).toBe(
      "gw: GW_ERR_MISSING_RESOURCE: policy 'rate-limit' on route '/a' needs the resource 'redis'; pass it in createGateway({ resources: { redis: ... } })\n" +
        '  gw.yaml: add a resources.redis section (url, host/port or cluster) and gw start creates the Redis client\n',
    )
  })
})
