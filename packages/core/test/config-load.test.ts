// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are gw config text with ${VAR} references
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { type ConfigIssue, createPolicyRegistry, loadConfigFile, parseConfig } from '../src/config/index.js'
import { GatewayError } from '../src/errors.js'
import { testPolicies } from './fixtures/config/test-policies.js'

const registry = createPolicyRegistry(testPolicies)
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/config/${name}`, import.meta.url))

function failure(fn: () => unknown): { message: string; issues: ConfigIssue[] } {
  try {
    fn()
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error
    expect(error.code).toBe('GW_ERR_CONFIG')
    return { message: error.message, issues: error.extensions?.issues as ConfigIssue[] }
  }
  throw new Error('expected GW_ERR_CONFIG')
}

describe('loadConfigFile: valid files', () => {
  it('loads YAML with defaults applied and policy options kept as written', () => {
    const { config, issues } = loadConfigFile(fixture('good.yaml'), { registry, env: { PORT: '8080' } })
    expect(issues).toEqual([])
    expect(config.server).toMatchObject({ port: 8080, host: '0.0.0.0', requestTimeout: 30_000 })
    expect(config.upstreams?.users).toMatchObject({
      url: 'http://localhost:3001',
      retries: 2,
      timeouts: { connect: 5000, headers: 5000, body: 30_000 },
    })
    expect(config.policies).toEqual([
      { policy: 'rate-limit', options: { limit: 100, window: '15m', enabled: true }, mode: 'report' },
    ])
    expect(config.routes.map((r) => [r.id, r.path, r.upstream, r.stripPrefix])).toEqual([
      ['users', '/api/users/*', 'users', '/api'],
      ['products', '/api/products/*', 'products', '/api'],
    ])
    expect(config.routes[1]?.policies).toEqual([{ policy: 'tag-response', options: { tags: 'a,b' } }])
  })

  it('loads JSON, including a $schema hint and env references in strings', () => {
    const { config } = loadConfigFile(fixture('good.json'), { registry, env: { USERS_RETRIES: '3' } })
    expect(config.$schema).toBe('./gw.schema.json')
    expect(config.server?.port).toBe(3000)
    expect(config.upstreams?.users?.retries).toBe(3)
    expect(config.policies?.[0]?.options).toEqual({ limit: 100 })
  })

  it('reads process.env by default', () => {
    process.env.GW_TEST_USERS_URL = 'http://users.test:9999'
    try {
      const text = 'upstreams:\n  users:\n    url: ${GW_TEST_USERS_URL}\nroutes: []\n'
      expect(parseConfig(text, { registry }).config.upstreams?.users?.url).toBe('http://users.test:9999')
    } finally {
      delete process.env.GW_TEST_USERS_URL
    }
  })
})

describe('loadConfigFile: error paths', () => {
  it('reports nested option types, unknown policies and unknown upstreams at their exact paths, in file order', () => {
    const file = fixture('bad-paths.yaml')
    const { message, issues } = failure(() => loadConfigFile(file, { registry, env: {} }))
    expect(issues).toEqual([
      {
        path: 'routes[0].policies[1].policy',
        message: "unknown policy 'rate-limt' (known: rate-limit, require-header, tag-response)",
      },
      { path: 'routes[1].upstream', message: "unknown upstream 'orders' (defined: users, products)" },
      { path: 'routes[2].policies[0].options.limit', message: 'expected number, received string' },
    ])
    expect(message).toBe(
      [
        `invalid configuration in ${file}:`,
        "  - routes[0].policies[1].policy: unknown policy 'rate-limt' (known: rate-limit, require-header, tag-response)",
        "  - routes[1].upstream: unknown upstream 'orders' (defined: users, products)",
        '  - routes[2].policies[0].options.limit: expected number, received string',
      ].join('\n'),
    )
  })

  it('rejects unknown keys at the top level and in nested objects', () => {
    const { issues } = failure(() => loadConfigFile(fixture('unknown-keys.yaml'), { registry, env: {} }))
    expect(issues).toEqual([
      { path: '(root)', message: "unknown key 'backends'" },
      { path: 'server', message: "unknown key 'prot'" },
    ])
  })

  it('reports YAML syntax errors with line and column', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gw-config-')), 'syntax-error.yaml')
    writeFileSync(file, 'server:\n  port: 3000\nroutes:\n  - path: /a\n    upstream: [users\n  - path: /b\n')
    const { message, issues } = failure(() => loadConfigFile(file, { registry, env: {} }))
    expect(issues).toHaveLength(1)
    expect(issues[0]?.path).toBe('(yaml)')
    expect(issues[0]?.message).toMatch(/^line 6, column 3: Flow sequence .* must be sufficiently indented/)
    expect(message).toMatch(/syntax-error\.yaml:\n {2}- \(yaml\): line 6, column 3: /)
  })

  it('reports JSON syntax errors with line and column', () => {
    const { issues } = failure(() => loadConfigFile(fixture('syntax-error.json'), { registry, env: {} }))
    expect(issues).toEqual([
      { path: '(json)', message: 'line 3, column 42: Expected double-quoted property name' },
    ])
  })

  it('shows the first syntax error only, with a hint for unquoted references in flow collections', () => {
    const { issues } = failure(() =>
      parseConfig('upstreams: { u: { url: ${U} } }\nroutes: []\n', { registry, env: {} }),
    )
    expect(issues[0]).toEqual({
      path: '(yaml)',
      message:
        'line 1, column 25: Unexpected flow-map-start at node end (quote ${...} references inside [ ] and { })',
    })
    expect(issues[1]?.message).toMatch(/^\d+ more syntax error\(s\) after the first$/)
    expect(issues).toHaveLength(2)
  })

  it('rejects duplicate keys, which YAML and JSON parsers would otherwise resolve silently', () => {
    const { issues } = failure(() => parseConfig('routes: []\nroutes: []\n', { registry, env: {} }))
    expect(issues).toEqual([{ path: '(yaml)', message: 'line 2, column 1: Map keys must be unique' }])
  })

  it('lists every problem of a file in one error', () => {
    const text = [
      'server:',
      '  port: 70000',
      'upstreams:',
      '  u:',
      '    url: ftp://example.com',
      '    retries: 2.5',
      '    timeouts: { connect: true }',
      'routes:',
      '  - path: api',
      '    methods: [FETCH]',
      '  - { id: a, path: /a, upstream: u }',
      '  - { id: a, path: /b, upstream: u }',
      '  - path: /c',
      '    upstream: u',
      '    policies:',
      '      - { options: {} }',
      '      - policy: require-header',
      '      - { policy: rate-limit, mode: dry, options: { limit: 0, window: soon } }',
    ].join('\n')
    expect(failure(() => parseConfig(text, { registry, env: {} })).issues).toEqual([
      { path: 'server.port', message: 'expected number <= 65535, received 70000' },
      { path: 'upstreams.u.url', message: 'must be an http:// or https:// URL' },
      { path: 'upstreams.u.retries', message: 'expected integer, received 2.5' },
      { path: 'upstreams.u.timeouts.connect', message: 'expected number | string, received boolean' },
      {
        path: 'routes[0].upstream',
        message:
          'required: a route in a config file must name an upstream (local handlers can only be defined in code)',
      },
      { path: 'routes[0].path', message: "must start with '/'" },
      {
        path: 'routes[0].methods[0]',
        message:
          "expected 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS' | 'TRACE', received 'FETCH'",
      },
      { path: 'routes[2].id', message: "duplicate route id 'a' (also used by routes[1])" },
      {
        path: 'routes[3].policies[0].policy',
        message: 'required (known: rate-limit, require-header, tag-response)',
      },
      { path: 'routes[3].policies[1].options.header', message: 'required (expected string)' },
      { path: 'routes[3].policies[2].mode', message: "expected 'enforce' | 'report', received 'dry'" },
      { path: 'routes[3].policies[2].options.limit', message: 'expected number > 0, received 0' },
      {
        path: 'routes[3].policies[2].options.window',
        message: "invalid duration 'soon' (use ms or e.g. 5s, 15m, 1h)",
      },
    ])
  })

  it('rejects policy entries clearly when no policies are registered', () => {
    const text =
      'upstreams: { u: { url: "http://localhost:1" } }\nroutes:\n  - { path: /a, upstream: u, policies: [{ policy: jwt }] }\n'
    expect(failure(() => parseConfig(text, { registry: createPolicyRegistry([]), env: {} })).issues).toEqual([
      { path: 'routes[0].policies[0].policy', message: "unknown policy 'jwt' (no policies are registered)" },
    ])
  })

  it('reports an empty document, a missing routes list and a non-object root', () => {
    expect(failure(() => parseConfig('# nothing\n', { registry, env: {} })).issues).toEqual([
      { path: '(root)', message: 'the file is empty' },
    ])
    expect(failure(() => parseConfig('server: {}\n', { registry, env: {} })).issues).toEqual([
      { path: 'routes', message: 'required (expected array)' },
    ])
    expect(failure(() => parseConfig('- a\n', { registry, env: {} })).issues).toEqual([
      { path: '(root)', message: 'expected object, received array' },
    ])
  })

  it('fails on unreadable files and unsupported extensions', () => {
    expect(failure(() => loadConfigFile(fixture('missing.yaml'), { registry })).issues).toEqual([
      { path: '(file)', message: `cannot read ${fixture('missing.yaml')}: file not found` },
    ])
    expect(failure(() => loadConfigFile('gateway.toml', { registry })).issues).toEqual([
      { path: '(file)', message: "unsupported extension '.toml' (use .yaml, .yml or .json)" },
    ])
  })
})
