import { fileURLToPath } from 'node:url'
import { policies as authPolicies } from '@gw/auth'
import { policies as cachePolicies } from '@gw/cache'
import { createEntry, type PolicyEntry } from '@gw/core'
import {
  createPolicyRegistry,
  type FilePolicyEntry,
  loadConfigFile,
  type PolicyRegistry,
  serverSchema,
  toGatewayOptions,
} from '@gw/core/config'
import { upstreamSchema } from '@gw/core/upstream'
import { policies as metricsPolicies } from '@gw/metrics'
import { policies as ratelimitPolicies } from '@gw/ratelimit'
import { policies as securityPolicies } from '@gw/security'
import { policies as transformPolicies } from '@gw/transform'
import { describe, expect, it } from 'vitest'
import {
  buildGatewayOptions,
  type Env,
  SERVICE_URL_VARS,
  SERVICES,
  type ServiceUrls,
} from '../src/gateway.js'

const FILE = fileURLToPath(new URL('../gateway.yaml', import.meta.url))
const FILE_DEFAULTS: ServiceUrls = {
  users: 'http://127.0.0.1:3001',
  products: 'http://127.0.0.1:3002',
  orders: 'http://127.0.0.1:3003',
}
const SECRET = 'a-test-secret-that-is-at-least-32-bytes-long'

const registry = createPolicyRegistry([
  ...authPolicies,
  ...cachePolicies,
  ...metricsPolicies,
  ...ratelimitPolicies,
  ...securityPolicies,
  ...transformPolicies,
])

/**
 * A chain entry as comparable data: the policy name (and the proof that it is the registered definition),
 * its validated options, mode and allowOutOfOrder. `any-of` alternatives are entries in code and
 * `{ policy, options }` in files: both are turned into the same shape.
 */
function describeEntry(entry: PolicyEntry, reg: PolicyRegistry): unknown {
  const name = entry.definition.name
  expect(reg.get(name), `policy '${name}' is registered`).toBe(entry.definition)
  let options: unknown = entry.options
  if (name === 'any-of') {
    const { policies, ...rest } = entry.options as { policies: unknown[] }
    options = {
      ...rest,
      policies: policies.map((child) =>
        typeof child === 'object' && child !== null && 'definition' in child
          ? describeEntry(child as PolicyEntry, reg)
          : describeEntry(fileChild(child as FilePolicyEntry, reg), reg),
      ),
    }
  }
  return { policy: name, options, mode: entry.mode, allowOutOfOrder: entry.allowOutOfOrder }
}

function fileChild(child: FilePolicyEntry, reg: PolicyRegistry): PolicyEntry {
  const definition = reg.get(child.policy)
  if (definition === undefined) throw new Error(`unknown policy ${child.policy}`)
  return createEntry(definition, child.options ?? {})
}

interface Comparable {
  server: unknown
  upstreams: unknown
  policies: unknown
  routes: unknown
}

/** Code options with core's defaults applied, as the file loader returns them. */
function fromCode(env: Env): Comparable {
  const urls = Object.fromEntries(
    SERVICES.map((name) => [name, env[SERVICE_URL_VARS[name]] ?? FILE_DEFAULTS[name]]),
  ) as ServiceUrls
  const options = buildGatewayOptions(env, urls)
  return {
    server: serverSchema.parse(options.server),
    upstreams: Object.fromEntries(
      Object.entries(options.upstreams ?? {}).map(([k, v]) => [k, upstreamSchema.parse(v)]),
    ),
    policies: options.policies.map((entry) => describeEntry(entry, registry)),
    routes: options.routes.map(({ policies, ...route }) => ({
      ...route,
      policies: (policies ?? []).map((entry) => describeEntry(entry, registry)),
    })),
  }
}

function fromFile(env: Env): Comparable {
  const { config, issues } = loadConfigFile(FILE, { registry, env })
  expect(issues).toEqual([])
  const file = toGatewayOptions(config, registry)
  return {
    server: file.server,
    upstreams: file.upstreams,
    policies: (file.policies ?? []).map((entry) => describeEntry(entry, registry)),
    routes: file.routes.map(({ policies, ...route }) => ({
      ...route,
      policies: (policies ?? []).map((entry) => describeEntry(entry, registry)),
    })),
  }
}

describe('gateway.yaml', () => {
  // The file needs JWT_SECRET and CACHE_TTL_SECONDS (it cannot leave options out when a variable is unset).
  const required = { JWT_SECRET: SECRET, CACHE_TTL_SECONDS: '60' }
  const envs: Env[] = [
    required,
    {
      ...required,
      PORT: '8080',
      HOST: '127.0.0.1',
      USERS_SERVICE_URL: 'http://users.internal:9001',
      PRODUCTS_SERVICE_URL: 'http://products.internal:9002',
      ORDERS_SERVICE_URL: 'http://orders.internal:9003',
      API_KEY_HEADER: 'x-demo-key',
      CORS_ORIGIN: 'https://app.example.com,https://admin.example.com',
      RATE_LIMIT_ENABLED: 'false',
      RATE_LIMIT_WINDOW_MS: '60000',
      RATE_LIMIT_MAX_REQUESTS: '5',
      PROMETHEUS_PORT: '9464',
      METRICS_ENABLED: 'false',
    },
    // Redis mode: the code derives the stores from REDIS_HOST, the file reads them from the two variables.
    { ...required, REDIS_HOST: '127.0.0.1', RATE_LIMIT_STORE: 'redis', CACHE_STORE: 'tiered' },
  ]
  for (const env of envs) {
    it(`describes the same gateway as buildGatewayOptions (env: ${JSON.stringify(env)})`, () => {
      expect(fromFile(env)).toEqual(fromCode(env))
    })
  }

  it('has the documented policy chain, in order', () => {
    const file = fromFile(required) as {
      policies: { policy: string }[]
      routes: { policies: { policy: string }[] }[]
    }
    expect(file.policies.map((p) => p.policy)).toEqual([
      'metrics',
      'trace-context',
      'access-log',
      'security-headers',
      'cors',
      'request-validation',
      'rate-limit',
      'compress',
    ])
    expect(file.routes.map((r) => r.policies.map((p) => p.policy))).toEqual([
      ['any-of', 'rate-limit'],
      ['any-of', 'rate-limit', 'cache'],
      ['any-of', 'rate-limit'],
    ])
  })

  it('derives the Redis stores from REDIS_HOST in code, as RATE_LIMIT_STORE / CACHE_STORE say in the file', () => {
    const withRedis = fromCode({ ...required, REDIS_HOST: 'redis.internal' })
    expect(withRedis).toEqual(fromFile({ ...required, RATE_LIMIT_STORE: 'redis', CACHE_STORE: 'tiered' }))
    expect(JSON.stringify(withRedis)).toContain('"type":"redis"')
    expect(JSON.stringify(withRedis)).toContain('"store":"tiered"')
  })

  it('names JWT_SECRET and CACHE_TTL_SECONDS when they are missing (the code makes them optional)', () => {
    expect(() => loadConfigFile(FILE, { registry, env: {} })).toThrow(/JWT_SECRET/)
    expect(() => loadConfigFile(FILE, { registry, env: {} })).toThrow(/CACHE_TTL_SECONDS/)
    // The code: API key only, no default TTL.
    const code = buildGatewayOptions({}, FILE_DEFAULTS)
    expect(code.routes.map((r) => r.policies?.[0]?.definition.name)).toEqual([
      'api-key',
      'api-key',
      'api-key',
    ])
    const cacheEntry = code.routes[1]?.policies?.[2]
    expect(cacheEntry?.definition.name).toBe('cache')
    expect((cacheEntry?.options as { defaultTtl?: number } | undefined)?.defaultTtl).toBeUndefined()
  })
})
