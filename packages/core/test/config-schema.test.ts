// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are gw config text with ${VAR} references
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import {
  buildConfigSchema,
  collectIssues,
  configErrorMap,
  configJsonSchema,
  createPolicyRegistry,
  ENV_REFERENCE_PATTERN,
  type FileConfig,
  fromSeedConfig,
  isPolicyLike,
  loadConfigFile,
  type SeedConfig,
  toGatewayOptions,
} from '../src/config/index.js'
import { GatewayError } from '../src/errors.js'
import { definePolicy } from '../src/policy/define-policy.js'
import { rateLimit, requireHeader, tagResponse, testPolicies } from './fixtures/config/test-policies.js'

const registry = createPolicyRegistry(testPolicies)

describe('createPolicyRegistry', () => {
  it('maps names to definitions from factories and definitions alike', () => {
    const mixed = createPolicyRegistry([rateLimit, requireHeader.definition])
    expect([...mixed.keys()]).toEqual(['rate-limit', 'require-header'])
    expect(mixed.get('rate-limit')).toBe(rateLimit.definition)
    expect(mixed.get('require-header')).toBe(requireHeader.definition)
  })

  it('rejects two definitions with the same name but accepts the same one twice', () => {
    const impostor = definePolicy({
      name: 'rate-limit',
      stage: 'limit',
      schema: z.object({}),
      create: () => ({}),
    })
    expect(() => createPolicyRegistry([rateLimit, impostor])).toThrow(GatewayError)
    expect(() => createPolicyRegistry([rateLimit, impostor])).toThrow(
      "policy 'rate-limit' is registered twice",
    )
    expect(createPolicyRegistry([rateLimit, rateLimit.definition]).size).toBe(1)
  })

  it('recognises policy-like values', () => {
    expect(isPolicyLike(rateLimit)).toBe(true)
    expect(isPolicyLike(rateLimit.definition)).toBe(true)
    expect(isPolicyLike({ name: 'x' })).toBe(false)
    expect(isPolicyLike(() => undefined)).toBe(false)
    expect(() => createPolicyRegistry([{ name: 'x' } as never])).toThrow('not a policy definition or factory')
  })
})

describe('buildConfigSchema', () => {
  it('is a plain zod schema: safeParse with configErrorMap and collectIssues give the gw messages', () => {
    const schema = buildConfigSchema(registry)
    const input = {
      upstreams: { users: { url: 'http://localhost:3001' } },
      routes: [
        { path: '/a', upstream: 'users' },
        { path: '/b', upstream: 'users' },
        { path: '/c', upstream: 'users', policies: [{ policy: 'rate-limit', options: { limit: '10' } }] },
      ],
    }
    const result = schema.safeParse(input, { error: configErrorMap })
    expect(result.success).toBe(false)
    if (result.success) return
    expect(collectIssues(result.error)).toEqual([
      { path: 'routes[2].policies[0].options.limit', message: 'expected number, received string' },
    ])
  })

  it('keeps policy options as written and fills server and upstream defaults', () => {
    const parsed = buildConfigSchema(registry).parse({
      server: { port: '8080' },
      upstreams: { users: { url: 'http://localhost:3001', timeouts: { headers: '5s' } } },
      policies: [{ policy: 'tag-response', options: { tags: 'a,b' } }],
      routes: [],
    })
    expect(parsed.server).toMatchObject({ port: 8080, host: '0.0.0.0' })
    expect(parsed.upstreams?.users?.timeouts).toEqual({ connect: 5000, headers: 5000, body: 30_000 })
    expect(parsed.policies).toEqual([{ policy: 'tag-response', options: { tags: 'a,b' } }])
  })

  it('runs the cross-field rules even when other fields are invalid', () => {
    const result = buildConfigSchema(registry).safeParse(
      {
        server: { port: 'x' },
        upstreams: { users: { url: 'http://a' } },
        routes: [{ path: '/', upstream: 'orders' }],
      },
      { error: configErrorMap },
    )
    expect(result.success ? [] : collectIssues(result.error)).toEqual([
      { path: 'server.port', message: 'expected number, received NaN' },
      { path: 'routes[0].upstream', message: "unknown upstream 'orders' (defined: users)" },
    ])
  })
})

describe('configJsonSchema', () => {
  const schema = configJsonSchema(registry)
  type Json = Record<string, unknown> & { properties?: Record<string, Json>; items?: Json; oneOf?: Json[] }
  const props = (node: Json | undefined): Record<string, Json> => node?.properties ?? {}
  const entry = (name: string): Json | undefined =>
    props(schema as Json).policies?.items?.oneOf?.find((b) => props(b).policy?.const === name)

  it('is draft 2020-12, strict, and requires only routes', () => {
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    expect(schema.required).toEqual(['routes'])
    expect(schema.additionalProperties).toBe(false)
    expect(Object.keys(props(schema as Json))).toEqual([
      '$schema',
      'server',
      'admin',
      'workers',
      'upstreams',
      'policies',
      'routes',
      'resources',
    ])
  })

  it('describes every policy entry with its option descriptions', () => {
    const rate = entry('rate-limit')
    expect(rate?.description).toBe('Test rate limit.')
    const options = props(rate).options
    expect(options?.required).toEqual(['limit'])
    expect(props(options).limit?.description).toBe('Requests allowed per window.')
    expect(props(options).window?.description).toBe('Length of the window.')
    expect(props(options).key).toMatchObject({ description: 'What requests are counted by.', default: 'ip' })
    expect(props(props(entry('require-header')).options).header?.description).toBe(
      'Header that must be present.',
    )
    expect(props(props(entry('tag-response')).options).tags).toEqual({
      type: 'string',
      description: 'Comma-separated tags for the x-tags response header.',
    })
    expect(props(rate).mode?.enum).toEqual(['enforce', 'report'])
  })

  it('keeps the descriptions of core fields and lets numbers and booleans be env references', () => {
    const server = props(props(schema as Json).server)
    expect(server.port).toMatchObject({ description: 'Listening port (PORT).', default: 3000 })
    expect(server.port?.anyOf).toEqual([
      { type: 'integer', minimum: 0, maximum: 65535 },
      { type: 'string', pattern: ENV_REFERENCE_PATTERN, description: 'An environment variable reference.' },
    ])
    expect(server.requestTimeout?.anyOf).toEqual([{ type: 'number', minimum: 0 }, { type: 'string' }])
    const upstream = (props(schema as Json).upstreams?.additionalProperties ?? {}) as Json
    expect(props(upstream).url?.description).toMatch(/^Base URL of the target/)
    const route = props(props(schema as Json).routes?.items)
    expect(route.upstream?.description).toBe('Name of the upstream to forward to.')
    expect(route.policies?.description).toMatch(/^Route-level policies/)
    expect(new RegExp(ENV_REFERENCE_PATTERN).test('${PORT:-3000}')).toBe(true)
    expect(new RegExp(ENV_REFERENCE_PATTERN).test('x${PORT}')).toBe(false)
  })

  it('represents what JSON Schema cannot express as an open schema', () => {
    const odd = definePolicy({
      name: 'odd',
      stage: 'observe',
      schema: z.object({ when: z.date().optional().describe('A date.'), fn: z.custom<() => void>() }),
      create: () => ({}),
    })
    const json = configJsonSchema(createPolicyRegistry([odd])) as Json
    const items = props(json).policies?.items
    const options = props(props(items?.oneOf?.[0] ?? items).options)
    expect(options.when).toEqual({ description: 'A date.' })
    expect(options.fn).toEqual({})
  })
})

describe('toGatewayOptions', () => {
  it('builds policy entries with createEntry, parsing the written options exactly once', () => {
    const config: FileConfig = buildConfigSchema(registry).parse({
      upstreams: { users: { url: 'http://localhost:3001' } },
      policies: [
        { policy: 'rate-limit', options: { limit: 5, window: '2s' }, mode: 'report', allowOutOfOrder: true },
      ],
      routes: [
        {
          id: 'u',
          path: '/u/*',
          upstream: 'users',
          policies: [{ policy: 'tag-response', options: { tags: 'a,b' } }],
        },
        { path: '/plain', upstream: 'users' },
      ],
    })
    const options = toGatewayOptions(config, registry)
    expect(options.upstreams?.users).toMatchObject({ url: 'http://localhost:3001' })
    expect(options.policies).toHaveLength(1)
    expect(options.policies?.[0]).toMatchObject({
      definition: rateLimit.definition,
      options: { limit: 5, window: 2000, key: 'ip', enabled: true },
      mode: 'report',
      allowOutOfOrder: true,
    })
    expect(options.routes[0]).toMatchObject({ id: 'u', path: '/u/*', upstream: 'users' })
    expect(options.routes[0]?.policies?.[0]).toMatchObject({
      definition: tagResponse.definition,
      options: { tags: ['a', 'b'] },
      mode: 'enforce',
      allowOutOfOrder: false,
    })
    expect(options.routes[1]).toEqual({ path: '/plain', upstream: 'users' })
  })

  it('reports entries that do not fit the registry with config paths', () => {
    const config: FileConfig = {
      routes: [
        {
          path: '/',
          upstream: 'u',
          policies: [{ policy: 'rate-limit', options: { limit: -1 } }, { policy: 'nope' }],
        },
      ],
    }
    expect(() => toGatewayOptions(config, registry)).toThrow(
      [
        'invalid configuration:',
        '  - routes[0].policies[0].options.limit: expected number > 0, received -1',
        "  - routes[0].policies[1].policy: unknown policy 'nope'",
      ].join('\n'),
    )
  })
})

describe('fromSeedConfig', () => {
  const env = process.env
  const seed: SeedConfig = {
    server: { port: env.GW_TEST_UNSET_PORT ?? '3000', timeout: 30_000 },
    backends: {
      users: { url: 'http://localhost:3001', timeout: 5000, retries: 3 },
      products: { url: 'http://localhost:3002', timeout: 5000, retries: 3 },
      orders: { url: 'http://localhost:3003', timeout: 10_000, retries: 2 },
    },
    security: { cors: { origin: '*', methods: ['GET', 'POST'] }, helmet: { contentSecurityPolicy: false } },
    rateLimit: { windowMs: 900_000, max: 100 },
    cache: { ttl: 300 },
    performance: {
      compression: { threshold: 1024, level: 6 },
      connectionPooling: { maxSockets: 50, keepAlive: true },
      requestOptimization: { maxBodySize: '10mb' },
    },
  }

  it('maps server, backends and pooling, and creates one /api/<name>/* route per backend', () => {
    const { config, policyHints } = fromSeedConfig(seed)
    expect(config.server).toEqual({ port: '3000', requestTimeout: 30_000 })
    expect(config.upstreams?.orders).toEqual({
      url: 'http://localhost:3003',
      timeouts: { headers: 10_000 },
      retries: 2,
      pool: { connections: 50, keepAlive: true },
    })
    expect(config.routes).toEqual([
      { id: 'users', path: '/api/users/*', upstream: 'users', stripPrefix: '/api' },
      { id: 'products', path: '/api/products/*', upstream: 'products', stripPrefix: '/api' },
      { id: 'orders', path: '/api/orders/*', upstream: 'orders', stripPrefix: '/api' },
    ])
    expect(policyHints).toEqual({
      security: seed.security,
      rateLimit: seed.rateLimit,
      cache: seed.cache,
      compression: seed.performance?.compression,
      requestOptimization: seed.performance?.requestOptimization,
    })
  })

  it('produces a config that validates, equal to the seed.yaml fixture', () => {
    const { config } = fromSeedConfig(seed)
    const parsed = buildConfigSchema(createPolicyRegistry([])).parse(config)
    expect(parsed.server?.port).toBe(3000)
    expect(parsed.upstreams?.users?.timeouts.headers).toBe(5000)
    const fixture = fileURLToPath(new URL('./fixtures/config/seed.yaml', import.meta.url))
    const fromFile = loadConfigFile(fixture, { registry: createPolicyRegistry([]), env: {} }).config
    expect(parsed).toEqual(fromFile)
  })

  it('handles an empty seed', () => {
    const { config, policyHints } = fromSeedConfig({})
    expect(config).toEqual({ routes: [] })
    expect(policyHints).toEqual({})
    expect(buildConfigSchema(registry).safeParse(config).success).toBe(true)
  })
})
