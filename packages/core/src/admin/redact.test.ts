import { describe, expect, it } from 'vitest'
import { isSecretName, REDACTED, redactConfig } from './redact.js'

describe('redactConfig', () => {
  it('recognises secret names whatever their case and separators, and leaves look-alikes alone', () => {
    for (const name of [
      'apiKey',
      'API_KEY',
      'x-api-key',
      'jwtSecret',
      'password',
      'Authorization',
      'cookie',
      'key',
      'pfx',
      'passphrase',
      'clientCredentials',
      'accessToken',
      'privateKey',
    ])
      expect(isSecretName(name), name).toBe(true)
    for (const name of [
      'keyBy',
      'keyHeader',
      'port',
      'header',
      'cert',
      'ca',
      'ratePerSecond',
      'tokenFrom',
      'secretEncoding',
      'maxTokenLength',
      'keyFn',
    ])
      expect(isSecretName(name), name).toBe(false)
  })

  it('redacts nested secrets, keeps empty values visible, and makes functions, buffers, entries and cycles JSON-safe', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' }
    cyclic.self = cyclic
    const out = redactConfig({
      server: { port: 8080, tls: { cert: '/c.pem', key: '/k.pem', passphrase: 'p' } },
      headers: { authorization: 'Bearer x', accept: 'json' },
      list: [{ token: 'abc' }, { token: '' }],
      cors: { credentials: true, maxTokenLength: 4096, stripCredential: false },
      balancer: { key: { header: 'x-user' } },
      handler: () => 1,
      blob: Buffer.from('x'),
      policies: [{ definition: { name: 'jwt' }, options: { secret: 's', audience: 'a' }, mode: 'report' }],
      upstream: { forward: () => undefined },
      cyclic,
      missing: undefined,
    })
    expect(out).toEqual({
      server: { port: 8080, tls: { cert: '/c.pem', key: REDACTED, passphrase: REDACTED } },
      headers: { authorization: REDACTED, accept: 'json' },
      list: [{ token: REDACTED }, { token: '' }],
      cors: { credentials: true, maxTokenLength: 4096, stripCredential: false },
      balancer: { key: { header: 'x-user' } },
      handler: '[function]',
      blob: '[binary]',
      policies: [{ policy: 'jwt', mode: 'report', options: { secret: REDACTED, audience: 'a' } }],
      upstream: '[custom upstream]',
      cyclic: { name: 'loop', self: '[circular]' },
    })
    expect(JSON.stringify(out)).not.toMatch(/Bearer x|abc|"s"|k\.pem/)
  })
})
