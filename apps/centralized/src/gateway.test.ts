import { describe, expect, it } from 'vitest'
import { buildGatewayOptions, createAppLogger } from './gateway.js'

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
    expect(options.routes).toEqual([
      { id: 'users', path: '/api/users/*', upstream: 'users', stripPrefix: '/api' },
      { id: 'products', path: '/api/products/*', upstream: 'products', stripPrefix: '/api' },
      { id: 'orders', path: '/api/orders/*', upstream: 'orders', stripPrefix: '/api' },
    ])
  })
})

describe('createAppLogger', () => {
  it('takes its level from LOG_LEVEL, info by default', () => {
    expect(createAppLogger({}).level).toBe('info')
    expect(createAppLogger({ LOG_LEVEL: 'DEBUG' }).level).toBe('debug')
    expect(() => createAppLogger({ LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL must be one of/)
  })
})
