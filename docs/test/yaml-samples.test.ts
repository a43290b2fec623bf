// biome-ignore-all lint/suspicious/noTemplateCurlyInString: gw config text with ${VAR} references
import { createFileResources, POLICY_PACKAGES } from '@gw/cli'
import { noopLogger } from '@gw/core'
import { createPolicyRegistry, type PolicyLike, parseConfig, toGatewayOptions } from '@gw/core/config'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { docSamples, docsDir } from './samples.js'

/** What the samples' `${VAR}` references without a default resolve to. */
const ENV: Record<string, string> = {
  API_URL: 'http://127.0.0.1:3001',
  USERS_SERVICE_URL: 'http://127.0.0.1:3001',
  PRODUCTS_SERVICE_URL: 'http://127.0.0.1:3002',
  ORDERS_SERVICE_URL: 'http://127.0.0.1:3003',
  SERVICE_URL: 'http://127.0.0.1:8080',
  JWT_SECRET: 'a-test-secret-that-is-at-least-32-bytes-long',
  REDIS_URL: 'redis://127.0.0.1:6379',
  REDIS_PASSWORD: 'secret',
  CORS_ORIGIN: 'https://app.example.com',
  HOSTNAME: 'gw-1',
  GW_ADMIN_KEY: 'an-admin-key-of-32-characters-xx',
}

const samples = docSamples().filter((s) => s.lang === 'yaml' && !s.flags.includes('fragment'))
const isGatewayFile = (code: string): boolean => {
  const value = parse(code) as unknown
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'routes' in value
}

describe('YAML samples in docs/*.md', () => {
  it('include full gateway files', () => {
    expect(samples.filter((s) => isGatewayFile(s.code)).length).toBeGreaterThanOrEqual(5)
  })

  it.each(samples.filter((s) => isGatewayFile(s.code)).map((s) => [`${s.doc}:${s.line}`, s] as const))(
    '%s loads with the real config loader and builds every policy entry and resource',
    async (_where, sample) => {
      const policies: PolicyLike[] = []
      for (const pkg of POLICY_PACKAGES)
        policies.push(...((await import(pkg)) as { policies: PolicyLike[] }).policies)
      const registry = createPolicyRegistry(policies)
      const { config } = parseConfig(sample.code, { registry, env: ENV, source: sample.doc })
      expect(toGatewayOptions(config, registry).routes.length).toBe(config.routes.length)
      await createFileResources(config, { cwd: docsDir, log: noopLogger, connect: false })
    },
  )
})
