import { describe, expect, it } from 'vitest'
import { buildGatewayOptions, createAppLogger, storeKinds } from './gateway.js'

const urls = {
  users: 'http://127.0.0.1:3001',
  products: 'http://127.0.0.1:3002',
  orders: 'http://127.0.0.1:3003',
}

describe('buildGatewayOptions', () => {
  it('listens on 0.0.0.0:3000 by default', () => {
    expect(buildGatewayOptions({}, urls).server).toEqual({ port: 3000, host: '0.0.0.0' })
    expect(buildGatewayOptions({ PORT: '', HOST: ' ' }, urls).server).toEqual({ port: 3000, host: '0.0.0.0' })
  })

  it('reads PORT and HOST', () => {
    expect(buildGatewayOptions({ PORT: '8080', HOST: '127.0.0.1' }, urls).server).toEqual({
      port: 8080,
      host: '127.0.0.1',
    })
  })

  it('has one upstream and one /api route per service, stripping /api', () => {
    const options = buildGatewayOptions({}, urls)
    expect(options.upstreams).toEqual({
      users: { url: urls.users },
      products: { url: urls.products },
      orders: { url: urls.orders },
    })
    expect(options.routes.map(({ policies: _, ...route }) => route)).toEqual([
      { id: 'users', path: '/api/users/*', upstream: 'users', stripPrefix: '/api' },
      { id: 'products', path: '/api/products/*', upstream: 'products', stripPrefix: '/api' },
      { id: 'orders', path: '/api/orders/*', upstream: 'orders', stripPrefix: '/api' },
    ])
  })

  it('builds the policy chain in the documented order', () => {
    const options = buildGatewayOptions({}, urls)
    expect(options.policies.map((p) => p.definition.name)).toEqual([
      'metrics',
      'trace-context',
      'access-log',
      'security-headers',
      'cors',
      'request-validation',
      'rate-limit',
      'compress',
    ])
    expect(options.routes.map((r) => r.policies?.map((p) => p.definition.name))).toEqual([
      ['api-key', 'rate-limit'],
      ['api-key', 'rate-limit', 'cache'],
      ['api-key', 'rate-limit'],
    ])
    const withJwt = buildGatewayOptions({ JWT_SECRET: 'x'.repeat(32) }, urls)
    expect(withJwt.routes.map((r) => r.policies?.[0]?.definition.name)).toEqual([
      'any-of',
      'any-of',
      'any-of',
    ])
  })

  it('uses the seed rate-limit defaults and reads the RATE_LIMIT_* variables', () => {
    const perIp = (env: Record<string, string>) => buildGatewayOptions(env, urls).policies[6]!.options
    expect(perIp({})).toMatchObject({
      enabled: true,
      limits: [{ name: 'per-ip', key: 'ip', limit: 100, windowMs: 900_000 }],
    })
    expect(
      perIp({ RATE_LIMIT_ENABLED: 'FALSE', RATE_LIMIT_MAX_REQUESTS: '5', RATE_LIMIT_WINDOW_MS: '60000' }),
    ).toMatchObject({ enabled: false, limits: [{ limit: 5, windowMs: 60_000 }] })
  })

  it('reports a malformed variable with the option it feeds', () => {
    expect(() => buildGatewayOptions({ RATE_LIMIT_MAX_REQUESTS: 'lots' }, urls)).toThrow(/limit/)
    expect(() => buildGatewayOptions({ PROMETHEUS_PORT: 'ninety' }, urls)).toThrow(/port/)
    expect(() => buildGatewayOptions({ METRICS_ENABLED: 'yes' }, urls)).toThrow(/enabled/)
    expect(() => buildGatewayOptions({ JWT_SECRET: 'short' }, urls)).toThrow(/32 bytes/)
  })
})

describe('storeKinds', () => {
  it('is memory by default, Redis-backed with REDIS_HOST, and explicit variables win', () => {
    expect(storeKinds({})).toEqual({ rateLimit: 'memory', cache: 'memory' })
    expect(storeKinds({ REDIS_HOST: 'redis' })).toEqual({ rateLimit: 'redis', cache: 'tiered' })
    expect(storeKinds({ REDIS_HOST: 'redis', CACHE_STORE: 'redis', RATE_LIMIT_STORE: 'memory' })).toEqual({
      rateLimit: 'memory',
      cache: 'redis',
    })
  })
})

describe('createAppLogger', () => {
  it('takes its level from LOG_LEVEL, info by default', () => {
    expect(createAppLogger({}).level).toBe('info')
    expect(createAppLogger({ LOG_LEVEL: 'DEBUG' }).level).toBe('debug')
    expect(() => createAppLogger({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL must be one of/)
  })
})
