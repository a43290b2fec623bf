import { createGateway } from '@gw/core'
import { configJsonSchema, createPolicyRegistry, parseConfig, toGatewayOptions } from '@gw/core/config'
import { startFakeUpstream } from '@gw/core/testing'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { hashApiKey, policies } from '../src/index.js'

const SECRET = 'config-file-secret-with-at-least-32-bytes'
const KEY = 'gw_config-file-key'

const yaml = `
upstreams:
  api: { url: "\${UPSTREAM_URL}" }
routes:
  - path: /api/*
    upstream: api
    policies:
      - policy: any-of
        options:
          policies:
            - { policy: jwt, options: { algorithms: [HS256], secret: "\${JWT_SECRET}" } }
            - policy: api-key
              options:
                header: "\${API_KEY_HEADER:-X-API-Key}"
                consumers: [{ id: partner, scopes: [orders:read], keys: ["${hashApiKey(KEY)}"] }]
      - policy: authorize
        options: { scopes: [orders:read] }
`

describe('config files', () => {
  const registry = createPolicyRegistry(policies)

  it('produce a JSON Schema that names every auth policy', () => {
    const text = JSON.stringify(configJsonSchema(registry))
    for (const name of ['jwt', 'api-key', 'introspection', 'basic', 'authorize', 'any-of'])
      expect(text).toContain(`"${name}"`)
  })

  it('assemble a working gateway from YAML with env substitution', async () => {
    const upstream = await startFakeUpstream()
    const { config } = parseConfig(yaml, {
      registry,
      env: { UPSTREAM_URL: upstream.url, JWT_SECRET: SECRET, API_KEY_HEADER: 'X-Partner-Key' },
    })
    const gw = await createGateway({
      ...toGatewayOptions(config, registry),
      server: { host: '127.0.0.1', port: 0 },
    })
    await gw.listen()
    try {
      expect((await fetch(`${gw.url}/api/x`, { headers: { 'x-partner-key': KEY } })).status).toBe(200)
      const token = await new SignJWT({ sub: 'u', scope: 'orders:read' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1m')
        .sign(new TextEncoder().encode(SECRET))
      expect((await fetch(`${gw.url}/api/x`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(
        200,
      )
      expect((await fetch(`${gw.url}/api/x`)).status).toBe(401)
    } finally {
      await gw.close()
      await upstream.close()
    }
  })
})
