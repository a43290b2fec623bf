import { createHash } from 'node:crypto'
import { createManualClock, createRecordingLogger, createTestPipeline } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { type EchoBody, principalEcho } from '../../test/helpers/principal-echo.js'
import { apiKey, generateApiKey, hashApiKey } from './index.js'

const NOW = Date.UTC(2026, 0, 1)
const billingKey = 'gw_billing-key-0001'
const billingNext = 'gw_billing-key-0002'
const reportsKey = 'gw_reports-key-0001'

const consumers = [
  {
    id: 'billing',
    plan: 'pro',
    scopes: ['orders:read', 'orders:write'],
    keys: [hashApiKey(billingKey), { sha256: hashApiKey(billingNext), id: '2026-q1' }],
  },
  {
    id: 'reports',
    keys: [{ sha256: hashApiKey(reportsKey), expiresAt: '2026-01-01T00:10:00Z' }],
  },
]

async function pipeline(options: Parameters<typeof apiKey>[0], settings: Parameters<typeof apiKey>[1] = {}) {
  const clock = createManualClock(NOW)
  const log = createRecordingLogger()
  const p = await createTestPipeline([apiKey(options, settings)], { clock, log, upstream: principalEcho })
  return { clock, log, run: p.run }
}

describe('hashApiKey / generateApiKey', () => {
  it('hashes with SHA-256 as lowercase hex', () => {
    expect(hashApiKey('abc')).toBe(createHash('sha256').update('abc').digest('hex'))
  })

  it('generates distinct 256-bit keys with their hash', () => {
    const a = generateApiKey()
    const b = generateApiKey()
    expect(a.key).toMatch(/^gw_[A-Za-z0-9_-]{43}$/)
    expect(a.key).not.toBe(b.key)
    expect(a.sha256).toBe(hashApiKey(a.key))
  })
})

describe('api-key', () => {
  it('maps a valid key to its consumer principal', async () => {
    const p = await pipeline({ consumers, consumerHeader: 'x-consumer-id' })
    const res = await p.run({ headers: { 'x-api-key': billingKey, 'x-consumer-id': 'spoofed' } })
    expect(res.status).toBe(200)
    const body = res.json<EchoBody>()
    expect(body.principal).toEqual({
      subject: 'billing',
      consumer: 'billing',
      scopes: ['orders:read', 'orders:write'],
      claims: { plan: 'pro' },
      method: 'api-key',
    })
    expect(body.headers['x-consumer-id']).toBe('billing')
  })

  it('accepts every active key of a consumer (rotation) and logs the key label, never the key', async () => {
    const p = await pipeline({ consumers })
    expect((await p.run({ headers: { 'x-api-key': billingNext } })).status).toBe(200)
    const success = p.log.entries.find((e) => e.fields.event === 'auth.success')
    expect(success?.fields).toMatchObject({ subject: 'billing', detail: '2026-q1' })
    expect(p.log.dump()).not.toContain(billingNext)
  })

  it('refuses unknown keys with 401 and an ApiKey challenge, without leaking the key to logs', async () => {
    const p = await pipeline({ consumers, realm: 'partners' })
    const res = await p.run({ headers: { 'x-api-key': 'gw_guess' } })
    expect(res.status).toBe(401)
    expect(res.json()).toMatchObject({ code: 'GW_ERR_AUTH_INVALID_API_KEY' })
    expect(res.headers['www-authenticate']).toBe('ApiKey realm="partners"')
    expect(res.upstreamCalls).toBe(0)
    expect(p.log.dump()).not.toContain('gw_guess')
  })

  it('refuses a missing key with GW_ERR_AUTH_MISSING', async () => {
    const res = await (await pipeline({ consumers })).run()
    expect([res.status, res.json<{ code: string }>().code]).toEqual([401, 'GW_ERR_AUTH_MISSING'])
  })

  it('refuses a key after its expiresAt', async () => {
    const p = await pipeline({ consumers })
    expect((await p.run({ headers: { 'x-api-key': reportsKey } })).status).toBe(200)
    p.clock.advance(10 * 60_000)
    const res = await p.run({ headers: { 'x-api-key': reportsKey } })
    expect(res.status).toBe(401)
    expect(p.log.entries.at(-1)?.fields.reason).toBe('expired-key')
  })

  it('uses a configured header name, case-insensitively', async () => {
    const p = await pipeline({ consumers, header: 'X-Partner-Key' })
    expect((await p.run({ headers: { 'X-Partner-Key': billingKey } })).status).toBe(200)
    expect((await p.run({ headers: { 'x-api-key': billingKey } })).status).toBe(401)
  })

  it('reads a query parameter and strips it before forwarding when asked', async () => {
    const p = await pipeline({ consumers, query: 'api_key', stripCredential: true })
    const res = await p.run({ url: `/orders?api_key=${billingKey}&page=2` })
    expect(res.status).toBe(200)
    expect(res.json<EchoBody>().upstreamPath).toBe('/orders?page=2')
  })

  it('refuses the same key sent twice, or in the header and the query, with 400', async () => {
    const p = await pipeline({ consumers, query: 'api_key' })
    const both = await p.run({ url: `/?api_key=${billingKey}`, headers: { 'x-api-key': billingKey } })
    expect([both.status, both.json<{ code: string }>().code]).toEqual([
      400,
      'GW_ERR_AUTH_DUPLICATE_CREDENTIALS',
    ])
    const joined = await p.run({ headers: { 'x-api-key': `${reportsKey}, ${billingKey}` } })
    expect(joined.status).toBe(400)
  })

  it('refuses oversized keys without hashing them', async () => {
    const p = await pipeline({ consumers, maxKeyLength: 16 })
    const res = await p.run({ headers: { 'x-api-key': billingKey } })
    expect(res.status).toBe(401)
    expect(p.log.entries.at(-1)?.fields.reason).toBe('malformed')
  })

  it('lets an invalid key through in report mode', async () => {
    const p = await pipeline({ consumers }, { mode: 'report' })
    const res = await p.run({ headers: { 'x-api-key': 'nope' } })
    expect(res.status).toBe(200)
    expect(res.json<EchoBody>().principal).toBeNull()
  })

  it.each([
    [{ consumers: [{ id: 'a', keys: ['plain-text-key'] }] }, 'SHA-256'],
    [{ consumers: [] }, 'configure consumers or a redis key store'],
    [{ consumers, header: null }, 'set a header or a query parameter'],
    [
      {
        consumers: [
          { id: 'a', keys: [hashApiKey('k')] },
          { id: 'b', keys: [hashApiKey('k')] },
        ],
      },
      "already configured for consumer 'a'",
    ],
  ])('rejects bad options %#', (options, message) => {
    expect(() => apiKey(options as Parameters<typeof apiKey>[0])).toThrow(message)
  })
})
