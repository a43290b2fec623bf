import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPolicyRegistry, loadConfigFile, toGatewayOptions } from '../src/config/index.js'
import { createGateway } from '../src/gateway.js'
import type { Gateway } from '../src/gateway-types.js'
import { testPolicies } from './fixtures/config/test-policies.js'

describe('a gateway assembled from a config file', () => {
  let upstream: Server
  let upstreamUrl: string
  let gateway: Gateway

  beforeAll(async () => {
    upstream = createServer((req, res) => {
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ url: req.url, tenant: req.headers['x-tenant'] ?? null }))
    })
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
    const registry = createPolicyRegistry(testPolicies)
    const file = fileURLToPath(new URL('./fixtures/config/good.yaml', import.meta.url))
    const env = { PORT: '0', USERS_SERVICE_URL: upstreamUrl, PRODUCTS_SERVICE_URL: upstreamUrl }
    const { config } = loadConfigFile(file, { registry, env })
    gateway = await createGateway(toGatewayOptions(config, registry))
    await gateway.listen({ host: '127.0.0.1' })
  })

  afterAll(async () => {
    await gateway?.close()
    await new Promise((resolve) => upstream?.close(resolve))
  })

  it('forwards to the upstream named in the file, with the prefix stripped', async () => {
    const res = await fetch(`${gateway.url}/api/users/42?x=1`, { headers: { 'x-tenant': 'acme' } })
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ url: '/users/42?x=1', tenant: 'acme' })
  })

  it('runs the route policies from the file with their options', async () => {
    const denied = await fetch(`${gateway.url}/api/users/42`)
    expect(denied.status).toBe(400)
    expect(await denied.text()).toBe('missing x-tenant')
    const tagged = await fetch(`${gateway.url}/api/products/7`)
    expect(tagged.status).toBe(200)
    expect(tagged.headers.get('x-tags')).toBe('a b')
    expect(await tagged.json()).toMatchObject({ url: '/products/7' })
  })
})
