import { describe, expect, it } from 'vitest'
import { buildEdgeOptions, HYBRID_SERVICES, sidecarUrlsFromEnv } from './edge.js'

const SIDECARS = {
  users: 'http://127.0.0.1:8001',
  products: 'http://127.0.0.1:8002',
  orders: 'http://127.0.0.1:8003',
}

describe('edge configuration', () => {
  it('needs every sidecar URL and names the missing variables', () => {
    expect(() => sidecarUrlsFromEnv({ USERS_SIDECAR_URL: SIDECARS.users })).toThrow(
      'PRODUCTS_SIDECAR_URL, ORDERS_SIDECAR_URL must be set',
    )
    expect(
      sidecarUrlsFromEnv({
        USERS_SIDECAR_URL: SIDECARS.users,
        PRODUCTS_SIDECAR_URL: ` ${SIDECARS.products} `,
        ORDERS_SIDECAR_URL: SIDECARS.orders,
      }),
    ).toEqual(SIDECARS)
  })

  it('has one single-target upstream per sidecar and one /api route per service, cache on products only', () => {
    const options = buildEdgeOptions({}, SIDECARS, 'run-1:')
    expect(Object.keys(options.upstreams ?? {})).toEqual([...HYBRID_SERVICES])
    for (const name of HYBRID_SERVICES) {
      expect(options.upstreams?.[name]).toMatchObject({ url: SIDECARS[name] })
    }
    expect(options.routes.map((r) => [r.path, r.upstream, r.stripPrefix])).toEqual([
      ['/api/users/*', 'users', '/api'],
      ['/api/products/*', 'products', '/api'],
      ['/api/orders/*', 'orders', '/api'],
    ])
    const names = (entries: unknown[] | undefined): string[] =>
      (entries ?? []).map((e) => (e as { definition: { name: string } }).definition.name)
    expect(names(options.policies)).toEqual([
      'metrics',
      'trace-context',
      'access-log',
      'security-headers',
      'cors',
      'request-validation',
      'rate-limit',
    ])
    expect(options.routes.map((r) => names(r.policies))).toEqual([
      ['api-key'],
      ['api-key', 'cache'],
      ['api-key'],
    ])
    expect(names(buildEdgeOptions({ JWT_SECRET: 'x'.repeat(32) }, SIDECARS).routes[0]?.policies)).toEqual([
      'any-of',
    ])
  })

  it('trusts X-Forwarded-For only from TRUST_PROXY', () => {
    expect(buildEdgeOptions({}, SIDECARS).server?.trustProxy).toEqual([])
    expect(buildEdgeOptions({ TRUST_PROXY: '10.0.0.0/8, 192.168.1.7' }, SIDECARS).server?.trustProxy).toEqual(
      ['10.0.0.0/8', '192.168.1.7'],
    )
  })

  it('refuses a malformed policy variable, naming the option', () => {
    expect(() => buildEdgeOptions({ RATE_LIMIT_MAX_REQUESTS: 'lots' }, SIDECARS)).toThrow(
      /rate-limit\.options\.limits\[0\]\.limit: expected number/,
    )
  })
})
