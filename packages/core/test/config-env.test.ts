// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are gw config text with ${VAR} references
import { describe, expect, it } from 'vitest'
import { createPolicyRegistry, expandEnv, parseConfig, substituteEnv } from '../src/config/index.js'
import { GatewayError } from '../src/errors.js'
import { testPolicies } from './fixtures/config/test-policies.js'

const registry = createPolicyRegistry(testPolicies)

function thrown(fn: () => unknown): GatewayError {
  try {
    fn()
  } catch (error) {
    if (error instanceof GatewayError) return error
    throw error
  }
  throw new Error('expected a GatewayError')
}

describe('substituteEnv', () => {
  it('substitutes set variables and uses defaults for unset or empty ones', () => {
    const env = { HOST: 'users.internal', EMPTY: '' }
    expect(substituteEnv('http://${HOST}:${PORT:-3001}/x', env)).toBe('http://users.internal:3001/x')
    expect(substituteEnv('${EMPTY:-fallback}', env)).toBe('fallback')
    expect(substituteEnv('[${EMPTY}]', env)).toBe('[]')
    expect(substituteEnv('${MISSING:-}', env)).toBe('')
    expect(substituteEnv('${URL:-http://a:1/b?c=d}', {})).toBe('http://a:1/b?c=d')
  })

  it('keeps $${ as a literal ${ and a lone $ as is', () => {
    expect(substituteEnv('cost: $5, literal: $${HOME}, $$x', { HOME: '/root' })).toBe(
      'cost: $5, literal: ${HOME}, $$x',
    )
  })

  it('keeps dotted policy templates verbatim and substitutes variables beside them', () => {
    expect(substituteEnv('${request.id}/${principal.sub:-anon}/${REGION:-eu}', {})).toBe(
      '${request.id}/${principal.sub:-anon}/eu',
    )
    expect(expandEnv('${route.params.id}', {}).whole).toBe(false)
  })

  it('throws GW_ERR_CONFIG naming the unset variable and its line', () => {
    const error = thrown(() =>
      substituteEnv('a: 1\nb: ${PRESENT}\nurl: ${USERS_SERVICE_URL}\n', { PRESENT: 'x' }),
    )
    expect(error.code).toBe('GW_ERR_CONFIG')
    expect(error.message).toBe('line 3: environment variable USERS_SERVICE_URL is not set and has no default')
    expect(error.extensions?.issues).toEqual([
      { path: 'line 3', message: 'environment variable USERS_SERVICE_URL is not set and has no default' },
    ])
    expect(thrown(() => substituteEnv('x ${A}', {}, { line: 12 })).message).toMatch(/^line 12: .*\bA\b/)
  })

  it('rejects malformed references', () => {
    expect(thrown(() => substituteEnv('a ${1X} b', {})).message).toBe(
      "line 1: invalid variable reference '${1X}'",
    )
    expect(thrown(() => substituteEnv('a ${X', {})).message).toMatch(/unterminated '\$\{'/)
  })

  it('says whether the text was one whole reference', () => {
    expect(expandEnv('${PORT:-3000}', {})).toMatchObject({ value: '3000', whole: true, variables: ['PORT'] })
    expect(expandEnv(':${PORT:-3000}', {}).whole).toBe(false)
    expect(expandEnv('${A:-1}${B:-2}', {}).whole).toBe(false)
  })
})

describe('env substitution in config files', () => {
  const yaml = [
    'server:',
    '  port: ${PORT:-3000}',
    'upstreams:',
    '  users:',
    '    url: ${USERS_SERVICE_URL:-http://localhost:3001}',
    '    retries: "${USERS_RETRIES:-2}"',
    'policies:',
    '  - policy: rate-limit',
    '    options:',
    '      limit: ${RATE_LIMIT_MAX_REQUESTS:-100}',
    '      enabled: ${RATE_LIMIT_ENABLED:-true}',
    '      key: "${RATE_KEY:-ip}"',
    '# ${NOT_SUBSTITUTED_IN_COMMENTS}',
    'routes:',
    '  - path: /api/users/*',
    '    upstream: users',
    '    policies:',
    '      - policy: require-header',
    '        options: { header: "${TENANT_HEADER:-x-tenant}" }',
  ].join('\n')

  it('types whole references by the schema: numbers and booleans become numbers and booleans', () => {
    const { config } = parseConfig(yaml, { registry, env: {} })
    expect(config.server?.port).toBe(3000)
    expect(config.upstreams?.users?.url).toBe('http://localhost:3001')
    expect(config.upstreams?.users?.retries).toBe(2)
    expect(config.policies?.[0]?.options).toEqual({ limit: 100, enabled: true, key: 'ip' })
    expect(config.routes[0]?.policies?.[0]?.options).toEqual({ header: 'x-tenant' })
  })

  it('uses environment values over defaults, still typed', () => {
    const env = {
      PORT: '8080',
      RATE_LIMIT_MAX_REQUESTS: '25',
      RATE_LIMIT_ENABLED: 'false',
      USERS_RETRIES: '0',
    }
    const { config } = parseConfig(yaml, { registry, env })
    expect(config.server?.port).toBe(8080)
    expect(config.upstreams?.users?.retries).toBe(0)
    expect(config.policies?.[0]?.options).toEqual({ limit: 25, enabled: false, key: 'ip' })
  })

  it('keeps strings that look like numbers when the schema wants a string', () => {
    const { config } = parseConfig(yaml, { registry, env: { TENANT_HEADER: '12345' } })
    expect(config.routes[0]?.policies?.[0]?.options).toEqual({ header: '12345' })
  })

  it('does not retype text around a reference, and reports a non-numeric value at its path', () => {
    const text = 'routes: []\npolicies:\n  - policy: rate-limit\n    options:\n      limit: ${LIMIT}0\n'
    const issues = [{ path: 'policies[0].options.limit', message: 'expected number, received string' }]
    expect(thrown(() => parseConfig(text, { registry, env: { LIMIT: '1' } })).extensions?.issues).toEqual(
      issues,
    )
    const whole = text.replace('${LIMIT}0', '${LIMIT}')
    expect(thrown(() => parseConfig(whole, { registry, env: { LIMIT: 'many' } })).extensions?.issues).toEqual(
      issues,
    )
    expect(parseConfig(whole, { registry, env: { LIMIT: '10' } }).config.policies?.[0]?.options).toEqual({
      limit: 10,
    })
  })

  it('reports every unset variable with its path and line, and nothing else at those paths', () => {
    const text =
      'upstreams:\n  users:\n    url: ${USERS_SERVICE_URL}\nroutes:\n  - path: /a\n    upstream: ${UPSTREAM}\n'
    const error = thrown(() => parseConfig(text, { registry, env: {}, source: 'gw.yaml' }))
    expect(error.message).toBe(
      [
        'invalid configuration in gw.yaml:',
        '  - upstreams.users.url: environment variable USERS_SERVICE_URL is not set and has no default (line 3)',
        '  - routes[0].upstream: environment variable UPSTREAM is not set and has no default (line 6)',
      ].join('\n'),
    )
  })

  it('leaves keys and escaped references alone', () => {
    const text = 'upstreams:\n  ${NAME}:\n    url: http://localhost:1/$${literal}\nroutes: []\n'
    const error = thrown(() => parseConfig(text, { registry, env: { NAME: 'users' } }))
    expect(error.extensions?.issues).toEqual([
      { path: 'upstreams["${NAME}"]', message: 'upstream names are letters, digits, _ . and -' },
    ])
    const ok = parseConfig(text.replace('${NAME}', 'users'), { registry, env: {} })
    expect(ok.config.upstreams?.users?.url).toBe('http://localhost:1/${literal}')
  })
})
