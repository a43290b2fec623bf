import { createGateway } from '@gw/core'
import { configJsonSchema, createPolicyRegistry, parseConfig, toGatewayOptions } from '@gw/core/config'
import { startFakeUpstream } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { policies } from '../src/index.js'

describe('config files', () => {
  const registry = createPolicyRegistry(policies)

  it('build a caching gateway from YAML with CACHE_TTL_SECONDS as the opt-in default TTL', async () => {
    const upstream = await startFakeUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' })
      res.end('hello')
    })
    const yaml = `
upstreams:
  products:
    url: ${upstream.url}
policies:
  - policy: cache-purge
    options:
      apiKey: \${CACHE_PURGE_KEY}
routes:
  - path: /api/products/*
    upstream: products
    stripPrefix: /api
    policies:
      - policy: cache
        options:
          defaultTtl: \${CACHE_TTL_SECONDS}
          keyHeaders: [X-Tenant]
`
    const { config } = parseConfig(yaml, {
      registry,
      env: { CACHE_TTL_SECONDS: '30', CACHE_PURGE_KEY: 'a-long-purge-key-123' },
    })
    const gw = await createGateway(toGatewayOptions(config, registry))
    await gw.listen({ port: 0, host: '127.0.0.1' })
    try {
      await (await fetch(`${gw.url}/api/products/1`)).text()
      const hit = await fetch(`${gw.url}/api/products/1`)
      expect(await hit.text()).toBe('hello')
      expect(hit.headers.get('cache-status')).toMatch(/^gw; hit; ttl=\d+$/)
      expect(upstream.requests).toHaveLength(1)
    } finally {
      await gw.close()
      await upstream.close()
    }
  })

  it('report each bad option with its path', () => {
    const yaml = `
routes:
  - path: /x
    upstream: up
    policies:
      - policy: cache
        options:
          store: disk
          maxEntrySize: -1
`
    expect(() => parseConfig(yaml, { registry, env: {} })).toThrow(/store[\s\S]*maxEntrySize/)
  })

  it('appear in the JSON Schema for editors', () => {
    const schema = JSON.stringify(configJsonSchema(registry))
    expect(schema).toContain('"cache"')
    expect(schema).toContain('"cache-purge"')
    expect(schema).toContain('defaultTtl')
  })
})
