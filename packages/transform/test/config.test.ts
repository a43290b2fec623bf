import { configJsonSchema, createPolicyRegistry, parseConfig, toGatewayOptions } from '@gw/core/config'
import { describe, expect, it } from 'vitest'
import { policies } from '../src/index.js'

const registry = createPolicyRegistry([...policies])

describe('config files', () => {
  it('registers every policy by name and validates a YAML file', () => {
    const { config } = parseConfig(
      `
upstreams:
  api: { url: 'http://127.0.0.1:1' }
policies:
  - policy: compress
    options: { threshold: 2048, level: 5 }
routes:
  - path: /api/*
    upstream: api
    policies:
      - policy: request-headers
        options:
          set: { x-user-id: '$\${principal.sub}', x-region: '\${REGION:-eu}' }
      - policy: rewrite
        options: { path: { pattern: '^/api/(.*)$', replacement: '/v2/$1' }, method: POST }
      - policy: json-body
        options: { limit: 2048, response: { omit: [/secret] } }
      - policy: response-headers
        options: { remove: [server] }
`,
      { registry, format: 'yaml', env: {} },
    )
    const options = toGatewayOptions(config, registry)
    expect(options.policies?.[0]?.options).toMatchObject({
      threshold: 2048,
      level: 5,
      encodings: ['br', 'gzip'],
    })
    const route = options.routes[0]!
    expect(route.policies?.map((p) => p.definition.name)).toEqual([
      'request-headers',
      'rewrite',
      'json-body',
      'response-headers',
    ])
    expect(route.policies?.[0]?.options).toMatchObject({
      set: { 'x-user-id': '${principal.sub}', 'x-region': 'eu' },
    })
  })

  it('reports bad options with their path', () => {
    expect(() =>
      parseConfig(
        `
upstreams: { api: { url: 'http://127.0.0.1:1' } }
routes:
  - path: /api/*
    upstream: api
    policies:
      - policy: compress
        options: { level: 12 }
`,
        { registry, format: 'yaml', env: {} },
      ),
    ).toThrow(/routes\[0\]\.policies\[0\]\.options\.level/)
  })

  it('exports a JSON Schema that includes every policy', () => {
    const schema = JSON.stringify(configJsonSchema(registry))
    for (const name of ['compress', 'json-body', 'rewrite', 'request-headers', 'response-headers'])
      expect(schema).toContain(`"${name}"`)
  })
})
