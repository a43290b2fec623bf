import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type DemoService,
  httpReferences,
  startOrdersService,
  startUsersService,
} from '../src/demo-services/index.js'

describe('demo services (called directly)', () => {
  let users: DemoService
  let orders: DemoService

  beforeAll(async () => {
    users = await startUsersService()
    // products point at a closed port: lookups fail
    orders = await startOrdersService(httpReferences(users.url, 'http://127.0.0.1:9', 500))
  })
  afterAll(async () => {
    await Promise.all([users?.close(), orders?.close()])
  })

  it('listens on a loopback ephemeral port', () => {
    expect(users.url).toBe(`http://127.0.0.1:${users.port}`)
    expect(users.port).toBeGreaterThan(0)
  })

  it('answers 405 with Allow for a known path and another method', async () => {
    const res = await fetch(`${users.url}/users`, { method: 'DELETE' })
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, POST')
    expect(res.headers.get('content-type')).toBe('application/problem+json')
  })

  it('answers 404 problems for unknown paths and non-numeric ids', async () => {
    for (const path of ['/nothing', '/users/abc', '/users/1/extra']) {
      const res = await fetch(users.url + path)
      expect(res.status).toBe(404)
      expect(await res.json()).toMatchObject({ status: 404 })
    }
  })

  it('answers 413 to a body over 64 KiB', async () => {
    const res = await fetch(`${users.url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x'.repeat(70_000), email: 'big@example.com' }),
    })
    expect(res.status).toBe(413)
  })

  it('answers 400 to a JSON body that is not an object', async () => {
    const res = await fetch(`${users.url}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '[1,2]',
    })
    expect(res.status).toBe(400)
  })

  it('orders answer 502 when a referenced service cannot be reached', async () => {
    const res = await fetch(`${orders.url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId: 1, items: [{ productId: 1, quantity: 1 }] }),
    })
    expect(res.status).toBe(502)
    expect(await res.json()).toMatchObject({ status: 502 })
  })
})
