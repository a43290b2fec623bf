import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createPolicyRegistry, parseConfig, toGatewayOptions } from '../src/config/index.js'
import { definePolicy } from '../src/index.js'

describe('config files: policy entries', () => {
  it('accepts a policy entry without options (the schema defaults apply)', () => {
    const p = definePolicy({
      name: 'p',
      stage: 'guard',
      schema: z.object({ a: z.number().default(1) }),
      create: () => ({}),
    })
    const registry = createPolicyRegistry([p])
    const { config } = parseConfig(
      'upstreams: { u: { url: "http://127.0.0.1:1" } }\npolicies:\n  - policy: p\nroutes:\n  - { path: /, upstream: u }\n',
      { registry, env: {} },
    )
    const opts = toGatewayOptions(config, registry)
    expect(opts.policies?.[0]?.options).toEqual({ a: 1 })
  })
})
