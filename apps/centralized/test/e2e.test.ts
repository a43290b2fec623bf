import { startFakeUpstream } from '@gw/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CentralizedGateway, startCentralizedGateway } from '../src/gateway.js'
import { rawRequest, testEnv, WITH_KEY } from './helpers/http.js'

interface Reply {
  status: number
  headers: Headers
  body: Record<string, unknown>
}

/** fetch with the demo API key (unless `key: false`), JSON in and out. */
async function call(
  base: string,
  path: string,
  init: RequestInit & { json?: unknown; key?: boolean } = {},
): Promise<Reply> {
  const { json, key = true, ...rest } = init
  const headers = {
    ...(key ? WITH_KEY : {}),
    ...(json === undefined ? {} : { 'content-type': 'application/json' }),
    ...(rest.headers as Record<string, string> | undefined),
  }
  const res = await fetch(base + path, {
    ...rest,
    headers,
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  })
  const text = await res.text()
  return {
    status: res.status,
    headers: res.headers,
    body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
  }
}

describe('centralized gateway, end to end', () => {
  let app: CentralizedGateway
  let base: string

  beforeAll(async () => {
    app = await startCentralizedGateway({ env: await testEnv(), port: 0, host: '127.0.0.1' })
    base = app.url
  })
  afterAll(async () => {
    await app?.close()
  })

  it('listens on the requested loopback address and runs all three demo services', () => {
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(app.port).toBeGreaterThan(0)
    for (const name of ['users', 'products', 'orders'] as const) {
      expect(app.services[name].bundled).toBe(true)
      expect(app.services[name].url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    }
  })

  describe('/api/users -> users service', () => {
    it('lists users (bare prefix, /api stripped)', async () => {
      const res = await call(base, '/api/users')
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^application\/json/)
      expect(res.headers.get('via')).toBe('1.1 gw')
      expect(res.body.total).toBe(3)
      expect((res.body.items as { name: string }[]).map((u) => u.name)).toEqual([
        'Ada Lovelace',
        'Alan Turing',
        'Grace Hopper',
      ])
    })

    it('passes the query string through', async () => {
      const res = await call(base, '/api/users?role=customer&limit=1')
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ total: 2, limit: 1, offset: 0 })
      expect(res.body.items).toEqual([expect.objectContaining({ name: 'Alan Turing' })])
    })

    it('gets a user by id', async () => {
      const res = await call(base, '/api/users/1')
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ id: 1, name: 'Ada Lovelace', email: 'ada@example.com' })
    })

    it("passes the service's own 404 problem through unchanged", async () => {
      const res = await call(base, '/api/users/999')
      expect(res.status).toBe(404)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect(res.body).toEqual({
        type: 'about:blank',
        title: 'Not Found',
        status: 404,
        detail: 'User 999 not found',
      })
      expect(res.headers.get('x-request-id')).toBeTruthy()
    })

    it('creates a user (201) and then serves it', async () => {
      const created = await call(base, '/api/users', {
        method: 'POST',
        json: { name: 'Katherine Johnson', email: 'Katherine@Example.com' },
      })
      expect(created.status).toBe(201)
      expect(created.body).toMatchObject({
        name: 'Katherine Johnson',
        email: 'katherine@example.com',
        role: 'customer',
      })
      const id = created.body.id as number
      expect(id).toBeGreaterThan(3)
      const fetched = await call(base, `/api/users/${id}`)
      expect(fetched.status).toBe(200)
      expect(fetched.body).toEqual(created.body)
      const duplicate = await call(base, '/api/users', {
        method: 'POST',
        json: { name: 'K. Johnson', email: 'katherine@example.com' },
      })
      expect(duplicate.status).toBe(409)
    })

    it('rejects an invalid user with a 422 listing the fields', async () => {
      const res = await call(base, '/api/users', {
        method: 'POST',
        json: { name: '', email: 'nope', role: 'root' },
      })
      expect(res.status).toBe(422)
      expect(res.headers.get('content-type')).toBe('application/problem+json')
      expect((res.body.errors as { field: string }[]).map((e) => e.field).sort()).toEqual([
        'email',
        'name',
        'role',
      ])
    })
  })

  describe('/api/products -> products service', () => {
    it('lists and filters products', async () => {
      const all = await call(base, '/api/products')
      expect(all.status).toBe(200)
      expect(all.body.total).toBeGreaterThanOrEqual(4)
      const peripherals = await call(base, '/api/products?category=peripherals')
      expect(
        (peripherals.body.items as { category: string }[]).every((p) => p.category === 'peripherals'),
      ).toBe(true)
      expect(peripherals.body.total).toBe(2)
    })

    it('gets a product by id, 404 for an unknown one', async () => {
      const res = await call(base, '/api/products/2')
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ id: 2, name: 'Wireless mouse', price: 29.5 })
      const missing = await call(base, '/api/products/12345')
      expect(missing.status).toBe(404)
      expect(missing.body.detail).toBe('Product 12345 not found')
    })

    it('creates a product (201) with defaults', async () => {
      const res = await call(base, '/api/products', {
        method: 'POST',
        json: { name: 'Laptop stand', price: 49.95 },
      })
      expect(res.status).toBe(201)
      expect(res.body).toMatchObject({
        name: 'Laptop stand',
        price: 49.95,
        category: 'general',
        stock: 0,
        currency: 'EUR',
      })
    })

    it('answers 415 to a non-JSON body and 400 to malformed JSON', async () => {
      const text = await call(base, '/api/products', {
        method: 'POST',
        body: 'name=x',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })
      expect(text.status).toBe(415)
      const broken = await call(base, '/api/products', {
        method: 'POST',
        body: '{"name":',
        headers: { 'content-type': 'application/json' },
      })
      expect(broken.status).toBe(400)
    })
  })

  describe('/api/orders -> orders service', () => {
    it('lists orders filtered by user and gets one by id', async () => {
      const list = await call(base, '/api/orders?userId=3')
      expect(list.status).toBe(200)
      expect(list.body.items).toEqual([expect.objectContaining({ id: 2, userId: 3, total: 687.5 })])
      const one = await call(base, '/api/orders/1')
      expect(one.status).toBe(200)
      expect(one.body).toMatchObject({ id: 1, userId: 2, status: 'shipped' })
      const missing = await call(base, '/api/orders/77')
      expect(missing.status).toBe(404)
      expect(missing.body.detail).toBe('Order 77 not found')
    })

    it('creates an order priced from the products service (201)', async () => {
      const res = await call(base, '/api/orders', {
        method: 'POST',
        json: {
          userId: 1,
          items: [
            { productId: 2, quantity: 3 },
            { productId: 1, quantity: 1 },
          ],
        },
      })
      expect(res.status).toBe(201)
      expect(res.body).toMatchObject({
        userId: 1,
        status: 'pending',
        total: 178.49,
        items: [
          { productId: 2, name: 'Wireless mouse', quantity: 3, unitPrice: 29.5, lineTotal: 88.5 },
          { productId: 1, name: 'Mechanical keyboard', quantity: 1, unitPrice: 89.99, lineTotal: 89.99 },
        ],
      })
      const fetched = await call(base, `/api/orders/${res.body.id as number}`)
      expect(fetched.body).toEqual(res.body)
    })

    it('rejects an order for an unknown user or product with 422', async () => {
      const res = await call(base, '/api/orders', {
        method: 'POST',
        json: { userId: 404, items: [{ productId: 9999, quantity: 1 }] },
      })
      expect(res.status).toBe(422)
      expect(res.body.errors).toEqual([
        { field: 'userId', message: 'user 404 does not exist' },
        { field: 'items[0].productId', message: 'product 9999 does not exist' },
      ])
      const shape = await call(base, '/api/orders', { method: 'POST', json: { userId: 1, items: [] } })
      expect(shape.status).toBe(422)
    })
  })

  describe('built-in endpoints and gateway errors', () => {
    it('/health reports healthy with a timestamp and version', async () => {
      const res = await call(base, '/health')
      expect(res.status).toBe(200)
      expect(res.body).toEqual({
        status: 'healthy',
        timestamp: expect.any(String),
        version: expect.any(String),
      })
      expect(Number.isNaN(Date.parse(res.body.timestamp as string))).toBe(false)
      expect(res.body.version).toMatch(/^\d+\.\d+\.\d+/)
    })

    it('/ready is 200 while serving', async () => {
      const res = await call(base, '/ready')
      expect(res.status).toBe(200)
      expect(res.body).toMatchObject({ ready: true })
    })

    it('an unknown route is a 404 problem with the request id', async () => {
      for (const path of ['/nope', '/api/unknown/1', '/users/1']) {
        const res = await call(base, path)
        expect(res.status).toBe(404)
        expect(res.headers.get('content-type')).toBe('application/problem+json')
        expect(res.body).toMatchObject({ status: 404, code: 'GW_ERR_ROUTE_NOT_FOUND' })
        expect(res.body.requestId).toBeTruthy()
        expect(res.body.requestId).toBe(res.headers.get('x-request-id'))
      }
    })

    it('a method no route serves on a known path is a 405 with Allow', async () => {
      const res = await rawRequest(`${base}/api/users`, 'TRACE', WITH_KEY)
      expect(res.status).toBe(405)
      expect(res.headers['content-type']).toBe('application/problem+json')
      const allow = String(res.headers.allow).split(', ')
      expect(allow).toEqual(expect.arrayContaining(['GET', 'POST', 'DELETE']))
      expect(allow).not.toContain('TRACE')
    })

    it('echoes a client x-request-id on proxied and local responses', async () => {
      const proxied = await call(base, '/api/products/1', { headers: { 'x-request-id': 'e2e-req-42' } })
      expect(proxied.status).toBe(200)
      expect(proxied.headers.get('x-request-id')).toBe('e2e-req-42')
      const problem = await call(base, '/missing', { headers: { 'x-request-id': 'e2e-req-43' } })
      expect(problem.headers.get('x-request-id')).toBe('e2e-req-43')
      expect(problem.body.requestId).toBe('e2e-req-43')
    })
  })
})

describe('service URLs from the environment', () => {
  it('forwards to USERS_SERVICE_URL instead of starting the demo users service', async () => {
    const external = await startFakeUpstream()
    const app = await startCentralizedGateway({
      env: await testEnv({ USERS_SERVICE_URL: external.url }),
      port: 0,
      host: '127.0.0.1',
    })
    try {
      expect(app.services.users).toEqual({ url: external.url, bundled: false })
      expect(app.services.products.bundled).toBe(true)
      const res = await call(app.url, '/api/users/42?expand=orders', { headers: { 'x-request-id': 'ext-1' } })
      expect(res.status).toBe(200)
      expect(external.requests).toHaveLength(1)
      expect(external.requests[0]).toMatchObject({ method: 'GET', url: '/users/42?expand=orders' })
      expect(external.requests[0]!.headers['x-request-id']).toBe('ext-1')
      // The API key authenticated the request and was removed before forwarding (stripCredential).
      expect(external.requests[0]!.headers['x-api-key']).toBeUndefined()
      const products = await call(app.url, '/api/products/1')
      expect(products.status).toBe(200)
    } finally {
      await app.close()
      await external.close()
    }
  })
})

describe('lifecycle', () => {
  it('close() stops the gateway and the demo services, and is idempotent', async () => {
    const env = await testEnv()
    const app = await startCentralizedGateway({ env, port: 0, host: '127.0.0.1' })
    expect((await call(app.url, '/api/users/1')).status).toBe(200)
    const metricsUrl = `http://127.0.0.1:${env.PROMETHEUS_PORT}/metrics`
    expect((await fetch(metricsUrl)).status).toBe(200)
    expect(app.gateway.ready).toBe(true)
    await Promise.all([app.close(), app.close()])
    await app.close()
    expect(app.gateway.ready).toBe(false)
    await expect(fetch(`${app.url}/health`)).rejects.toThrow()
    await expect(fetch(metricsUrl)).rejects.toThrow()
    await expect(fetch(`${app.services.users.url}/users`)).rejects.toThrow()
    await expect(fetch(`${app.services.orders.url}/orders`)).rejects.toThrow()
  })

  it('refuses to start with an invalid PORT or LOG_LEVEL', async () => {
    await expect(startCentralizedGateway({ env: await testEnv({ PORT: 'eighty' }) })).rejects.toMatchObject({
      code: 'GW_ERR_CONFIG',
      message: expect.stringContaining('server.port'),
    })
    await expect(startCentralizedGateway({ env: { LOG_LEVEL: 'loud' } })).rejects.toThrow(
      /LOG_LEVEL must be one of/,
    )
  })
})
