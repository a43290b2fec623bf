import { createPolicyRegistry, parseConfig, toGatewayOptions } from '@gw/core/config'
import { createTestPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { policies, rateLimit } from '../src/index.js'

const yaml = `
upstreams:
  api: { url: 'http://127.0.0.1:9' }
routes:
  - path: /api/*
    upstream: api
    policies:
      - policy: rate-limit
        options:
          enabled: \${RATE_LIMIT_ENABLED:-true}
          limit: \${RATE_LIMIT_MAX_REQUESTS:-100}
          window: \${RATE_LIMIT_WINDOW_MS:-900000}
          key: ip
`

describe('config files and the seed environment variables', () => {
  const registry = createPolicyRegistry([...policies])

  it('maps RATE_LIMIT_* onto enabled / limit / window', async () => {
    const { config } = parseConfig(yaml, {
      registry,
      format: 'yaml',
      env: { RATE_LIMIT_MAX_REQUESTS: '2', RATE_LIMIT_WINDOW_MS: '60000' },
    })
    const options = toGatewayOptions(config, registry)
    const entry = options.routes[0]!.policies![0]!
    expect(entry.options).toMatchObject({
      enabled: true,
      limits: [{ limit: 2, windowMs: 60_000, key: 'ip' }],
    })
    const pipeline = await createTestPipeline([entry])
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await pipeline.run()).status)
    expect(statuses).toEqual([200, 200, 429])
    await pipeline.close()
  })

  it('defaults to the seed: 100 requests per 15 minutes per ip', () => {
    const { config } = parseConfig(yaml, { registry, format: 'yaml', env: {} })
    const entry = toGatewayOptions(config, registry).routes[0]!.policies![0]!
    expect(entry.options).toMatchObject({
      enabled: true,
      limits: [{ name: 'default', limit: 100, windowMs: 900_000, key: 'ip', algorithm: 'fixed-window' }],
    })
    expect(rateLimit().options).toEqual(entry.options)
  })

  it('RATE_LIMIT_ENABLED=false turns it off', () => {
    const { config } = parseConfig(yaml, { registry, format: 'yaml', env: { RATE_LIMIT_ENABLED: 'false' } })
    expect(toGatewayOptions(config, registry).routes[0]!.policies![0]!.options).toMatchObject({
      enabled: false,
    })
  })

  it('reports bad options with their path', () => {
    expect(() =>
      parseConfig(yaml.replace('key: ip', 'key: header'), { registry, format: 'yaml', env: {} }),
    ).toThrow(/header: required when key is 'header'/)
  })
})
