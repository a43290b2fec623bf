import { createGateway } from '@gw/core'
import { configJsonSchema, createPolicyRegistry, parseConfig, toGatewayOptions } from '@gw/core/config'
import { startFakeUpstream } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { policies } from '../src/index.js'

const registry = createPolicyRegistry(policies)

const yaml = `
upstreams:
  api: { url: "\${API_URL}" }
policies:
  - policy: security-headers
    options: { frameguard: sameorigin }
  - policy: cors
    options: { origins: "\${CORS_ORIGIN:-*}", exposedHeaders: [x-request-id] }
  - policy: ip-filter
    options: { deny: [203.0.113.0/24] }
  - policy: attack-filter
    options: {}
    mode: report
  - policy: bot-filter
    options: { deny: ["^bad-bot"] }
routes:
  - path: /api/*
    upstream: api
    policies:
      - policy: request-validation
        options: { maxBodySize: 10mb, contentTypes: [application/json], methods: [GET, POST] }
`

describe('config files', () => {
  it('builds a working gateway from YAML with env substitution (CORS_ORIGIN as a comma-separated list)', async () => {
    const upstream = await startFakeUpstream()
    try {
      const env = { API_URL: upstream.url, CORS_ORIGIN: 'https://a.example, https://b.example' }
      const { config } = parseConfig(yaml, { registry, env })
      const gw = await createGateway(toGatewayOptions(config, registry))
      try {
        await gw.listen({ port: 0, host: '127.0.0.1' })
        const ok = await fetch(`${gw.url}/api/x`, { headers: { origin: 'https://b.example' } })
        expect(ok.status).toBe(200)
        expect(ok.headers.get('access-control-allow-origin')).toBe('https://b.example')
        expect(ok.headers.get('x-frame-options')).toBe('SAMEORIGIN')
        const reported = await fetch(`${gw.url}/api/x?q=${encodeURIComponent('<script>alert(1)</script>')}`)
        expect(reported.status).toBe(200)
        expect((await fetch(`${gw.url}/api/x`, { method: 'PUT' })).status).toBe(405)
        expect((await fetch(`${gw.url}/api/x`, { headers: { 'user-agent': 'bad-bot/1' } })).status).toBe(403)
      } finally {
        await gw.close()
      }
    } finally {
      await upstream.close()
    }
  })

  it('reports invalid options with their path', () => {
    const bad = `routes: []\npolicies:\n  - policy: ip-filter\n    options: { deny: [10.0.0.0/40] }\n`
    expect(() => parseConfig(bad, { registry, env: {} })).toThrow(/policies\[0\]\.options\.deny\[0\]/)
  })

  it('contributes every policy to the JSON Schema of the file format', () => {
    const text = JSON.stringify(configJsonSchema(registry))
    for (const policy of policies) expect(text).toContain(`"${policy.definition.name}"`)
    expect(text).toContain('Allowed origins')
  })
})
