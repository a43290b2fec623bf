// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are gw config text with ${VAR} references
import { afterEach, describe, expect, it } from 'vitest'
import {
  type ConfigIssue,
  configJsonSchema,
  createPolicyRegistry,
  parseConfig,
  toGatewayOptions,
} from '../src/config/index.js'
import { GatewayError } from '../src/errors.js'
import { createGateway, type Gateway } from '../src/index.js'
import { startFakeUpstream } from '../src/testing/index.js'
import type { ManagedUpstream } from '../src/upstream/types.js'

const registry = createPolicyRegistry([])

function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn()
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error
    return error.extensions?.issues as ConfigIssue[]
  }
  throw new Error('expected GW_ERR_CONFIG')
}

const gateways: Gateway[] = []
afterEach(async () => {
  await Promise.all(gateways.splice(0).map((gw) => gw.close()))
})

describe('upstream options in config files', () => {
  const text = [
    'upstreams:',
    '  users:',
    '    targets:',
    '      - url: ${USERS_A}',
    '        weight: 2',
    '      - url: ${USERS_B}',
    '    balancer: { type: consistent-hash, key: { source: cookie, name: session }, algorithm: maglev }',
    '    healthCheck: { path: /healthz, interval: 1h }',
    '    outlierDetection: { consecutiveFailures: 3 }',
    '    circuitBreaker: { minimumRequests: 50 }',
    '    retry: { attempts: 2, retryOn: [connect-failure, 503], perTryTimeout: 2s }',
    '  shadow:',
    '    url: ${USERS_A}',
    'routes:',
    '  - { path: /api/users/*, upstream: users, stripPrefix: /api, mirror: { upstream: shadow, percent: 5 } }',
    '  - path: /canary/*',
    '    split: [{ upstream: users, weight: 9 }, { upstream: shadow, weight: 1 }]',
  ].join('\n')

  it('loads targets, balancer, health, outlier, breaker, retry, split and mirror with defaults', async () => {
    const a = await startFakeUpstream()
    const b = await startFakeUpstream()
    try {
      const { config } = parseConfig(text, { registry, env: { USERS_A: a.url, USERS_B: b.url } })
      const users = config.upstreams?.users
      expect(users?.targets).toEqual([
        { url: a.url, weight: 2 },
        { url: b.url, weight: 1 },
      ])
      expect(users?.balancer).toEqual({
        type: 'consistent-hash',
        key: { source: 'cookie', name: 'session' },
        algorithm: 'maglev',
        virtualNodes: 160,
        tableSize: 65_537,
      })
      expect(users?.retry).toMatchObject({
        attempts: 2,
        retryOn: ['connect-failure', 503],
        perTryTimeout: 2000,
      })
      expect(users?.circuitBreaker).toMatchObject({ minimumRequests: 50, failureRate: 0.5 })
      expect(users?.maxPending).toBe(10_000)
      const gw = await createGateway({
        ...toGatewayOptions(config, registry),
        server: { host: '127.0.0.1', port: 0 },
      })
      gateways.push(gw)
      await gw.listen()
      const res = await fetch(`${gw.url}/api/users/1`, { headers: { cookie: 'session=abc' } })
      expect(res.status).toBe(200)
      await res.text()
      expect((gw.upstreams.get('users') as ManagedUpstream).targets()).toHaveLength(2)
      const canary = await fetch(`${gw.url}/canary/x`)
      expect(canary.status).toBe(200)
      await canary.text()
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('reports url and targets together, unknown split / mirror upstreams and bad balancer options', () => {
    const bad = [
      'upstreams:',
      '  users:',
      '    url: http://127.0.0.1:1',
      '    targets: [{ url: http://127.0.0.1:2 }]',
      '  none: {}',
      '  hash:',
      '    url: http://127.0.0.1:1',
      '    balancer: { type: consistent-hash, key: { source: header } }',
      'routes:',
      '  - { path: /a, upstream: users, mirror: { upstream: ghost } }',
      '  - { path: /b, split: [{ upstream: phantom, weight: 1 }] }',
    ].join('\n')
    const issues = issuesOf(() => parseConfig(bad, { registry, env: {} }))
    const paths = issues.map((i) => i.path)
    expect(paths).toContain('upstreams.users.targets')
    expect(paths).toContain('upstreams.none.url')
    expect(paths).toContain('upstreams.hash.balancer.key.name')
    expect(issues).toContainEqual({
      path: 'routes[0].mirror.upstream',
      message: "unknown upstream 'ghost' (defined: users, none, hash)",
    })
    expect(issues).toContainEqual({
      path: 'routes[1].split[0].upstream',
      message: "unknown upstream 'phantom' (defined: users, none, hash)",
    })
  })

  it('documents the new upstream options in the JSON Schema', () => {
    const schema = JSON.stringify(configJsonSchema(registry))
    for (const word of [
      'targets',
      'balancer',
      'p2c-ewma',
      'maglev',
      'healthCheck',
      'outlierDetection',
      'circuitBreaker',
    ])
      expect(schema).toContain(word)
  })
})
