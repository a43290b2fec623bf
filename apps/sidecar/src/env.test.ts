import { describe, expect, it } from 'vitest'
import { parseApiKeyEntry, parseSidecarEnv, SIDECAR_ENV_VARS, SidecarEnvError } from './env.js'

const HASH = '02f38d7a222357e14d0feb05f60d4347de0d273adcff232073938570baa48a27'

function problems(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    parseSidecarEnv(env)
  } catch (error) {
    expect(error).toBeInstanceOf(SidecarEnvError)
    return [...(error as SidecarEnvError).problems]
  }
  throw new Error('expected the environment to be refused')
}

describe('parseSidecarEnv', () => {
  it('applies the documented defaults (AUTH=none given)', () => {
    const config = parseSidecarEnv({ AUTH: 'none' })
    expect(config).toMatchObject({
      serviceUrl: 'http://127.0.0.1:8080',
      serviceName: 'service',
      port: 8000,
      host: '0.0.0.0',
      logLevel: 'info',
      auth: { type: 'none' },
      rateLimit: { enabled: true, limit: 1000, windowMs: 60_000, key: 'ip' },
      retries: 2,
      retryBackoffMs: 25,
      connectTimeoutMs: 1000,
      upstreamTimeoutMs: 30_000,
      trustIncomingTrace: true,
      metrics: { enabled: true, port: 9090 },
    })
    expect(SIDECAR_ENV_VARS.PORT.default).toBe(String(config.port))
    expect(SIDECAR_ENV_VARS.SERVICE_URL.default).toBe(config.serviceUrl)
  })

  it('the documented defaults (SIDECAR_ENV_VARS, the README table) are the ones the schema applies', () => {
    const explicit = Object.fromEntries(
      Object.entries(SIDECAR_ENV_VARS)
        .filter(([name, v]) => !['unset', 'inferred'].includes(v.default) && name !== 'JWT_ALGORITHMS')
        .map(([name, v]) => [name, v.default]),
    )
    expect(Object.keys(explicit)).toHaveLength(19)
    expect(parseSidecarEnv({ ...explicit, AUTH: 'none' })).toEqual(parseSidecarEnv({ AUTH: 'none' }))
  })

  it('infers jwt from JWT_SECRET (HS256) and from JWKS_URL (RS256, ES256), with issuer and audience lists', () => {
    expect(parseSidecarEnv({ JWT_SECRET: 'x'.repeat(32) }).auth).toEqual({
      type: 'jwt',
      algorithms: ['HS256'],
      secret: 'x'.repeat(32),
    })
    expect(
      parseSidecarEnv({
        JWKS_URL: 'https://idp.example/jwks',
        JWT_ISSUER: 'https://idp.example',
        JWT_AUDIENCE: 'a, b',
      }).auth,
    ).toEqual({
      type: 'jwt',
      algorithms: ['RS256', 'ES256'],
      jwksUri: 'https://idp.example/jwks',
      issuer: ['https://idp.example'],
      audience: ['a', 'b'],
    })
  })

  it('groups API key hashes by consumer', () => {
    const upper = HASH.toUpperCase()
    expect(parseSidecarEnv({ API_KEY_HASHES: `${HASH}, billing:${upper}` }).auth).toEqual({
      type: 'api-key',
      header: 'x-api-key',
      consumers: [
        { id: 'default', keys: [HASH] },
        { id: 'billing', keys: [HASH] },
      ],
    })
    expect(parseApiKeyEntry('nope')).toBeUndefined()
    expect(parseApiKeyEntry(`:${HASH}`)).toBeUndefined()
  })

  it('refuses to start without any inbound authentication unless AUTH=none', () => {
    expect(problems({})).toEqual([{ variable: 'AUTH', message: expect.stringContaining('AUTH=none') }])
  })

  it('names each bad variable (cross-variable rules are checked once every variable is well-formed)', () => {
    const found = problems({
      AUTH: 'jwt',
      PORT: '70000',
      SERVICE_URL: 'ftp://x',
      RATE_LIMIT_ENABLED: 'yes',
      RETRIES: '-1',
      LOG_LEVEL: 'loud',
      TRUST_PROXY: '10.0.0.0/33',
    })
    expect(found.map((p) => p.variable).sort()).toEqual(
      ['LOG_LEVEL', 'PORT', 'RATE_LIMIT_ENABLED', 'RETRIES', 'SERVICE_URL', 'TRUST_PROXY'].sort(),
    )
    expect(found.find((p) => p.variable === 'RATE_LIMIT_ENABLED')?.message).toBe("must be 'true' or 'false'")
    expect(found.find((p) => p.variable === 'LOG_LEVEL')?.message).toMatch(/must be one of .*got 'loud'/)
  })

  it('refuses contradictory or unusable combinations', () => {
    expect(problems({ JWT_SECRET: 'short' })).toEqual([
      { variable: 'JWT_SECRET', message: 'must be at least 32 bytes (RFC 7518 §3.2)' },
    ])
    expect(
      problems({ JWT_SECRET: 'x'.repeat(32), JWKS_URL: 'https://idp/jwks' }).map((p) => p.variable),
    ).toEqual(['JWKS_URL'])
    expect(problems({ JWT_SECRET: 'x'.repeat(32), API_KEY_HASHES: HASH })[0]?.variable).toBe('AUTH')
    expect(problems({ JWT_SECRET: 'x'.repeat(32), JWT_ALGORITHMS: 'RS256' })[0]?.variable).toBe(
      'JWT_ALGORITHMS',
    )
    expect(problems({ AUTH: 'api-key' })[0]?.variable).toBe('API_KEY_HASHES')
    expect(problems({ API_KEY_HASHES: 'abc' })[0]).toMatchObject({ variable: 'API_KEY_HASHES' })
    expect(problems({ AUTH: 'none', RATE_LIMIT_KEY: 'principal' })[0]?.variable).toBe('RATE_LIMIT_KEY')
    expect(problems({ AUTH: 'none', PORT: '9000', PROMETHEUS_PORT: '9000' })[0]?.variable).toBe(
      'PROMETHEUS_PORT',
    )
  })

  it('treats blank variables as unset', () => {
    expect(parseSidecarEnv({ AUTH: 'none', PORT: ' ', JWT_SECRET: '' }).port).toBe(8000)
  })
})
