import { createManualClock, createRecordingLogger, createTestPipeline } from '@gw/core/testing'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { type EchoBody, principalEcho } from '../../test/helpers/principal-echo.js'
import { apiKey, hashApiKey } from '../api-key/index.js'
import { jwt } from '../jwt/index.js'
import { anyOf } from './index.js'

const SECRET = 'a-very-long-test-secret-of-at-least-32-bytes!'
const NOW = Date.UTC(2026, 0, 1)
const KEY = 'gw_partner-key'
const jwtEntry = jwt({ algorithms: ['HS256'], secret: SECRET })
const keyEntry = apiKey({ consumers: [{ id: 'partner', keys: [hashApiKey(KEY)] }] })
const token = () =>
  new SignJWT({ sub: 'user-1', exp: NOW / 1000 + 60 })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(new TextEncoder().encode(SECRET))

async function pipeline(options: Parameters<typeof anyOf>[0]) {
  return createTestPipeline([anyOf(options)], { clock: createManualClock(NOW), upstream: principalEcho })
}

describe('any-of', () => {
  it('accepts either a JWT or an API key', async () => {
    const p = await pipeline({ policies: [jwtEntry, keyEntry] })
    const viaJwt = await p.run({ headers: { authorization: `Bearer ${await token()}` } })
    expect(viaJwt.json<EchoBody>().principal).toMatchObject({ subject: 'user-1', method: 'jwt' })
    const viaKey = await p.run({ headers: { 'x-api-key': KEY } })
    expect(viaKey.json<EchoBody>().principal).toMatchObject({ subject: 'partner', method: 'api-key' })
  })

  it('lists every challenge when no credential was sent', async () => {
    const res = await (await pipeline({ policies: [jwtEntry, keyEntry] })).run()
    expect(res.status).toBe(401)
    expect(res.headers['www-authenticate']).toBe('Bearer realm="gw", ApiKey realm="gw"')
  })

  it('reports the real failure rather than a missing alternative', async () => {
    const p = await pipeline({ policies: [jwtEntry, keyEntry] })
    const badJwt = await p.run({ headers: { authorization: 'Bearer a.b.c' } })
    expect([badJwt.status, badJwt.json<{ code: string }>().code]).toEqual([401, 'GW_ERR_AUTH_INVALID_TOKEN'])
    const badKey = await p.run({ headers: { 'x-api-key': 'wrong' } })
    expect(badKey.json<{ code: string }>().code).toBe('GW_ERR_AUTH_INVALID_API_KEY')
  })

  it('falls through an invalid credential to a valid one', async () => {
    const p = await pipeline({ policies: [jwtEntry, keyEntry] })
    const res = await p.run({ headers: { authorization: 'Bearer a.b.c', 'x-api-key': KEY } })
    expect(res.json<EchoBody>().principal?.subject).toBe('partner')
  })

  it('builds alternatives from config-file entries', async () => {
    const p = await pipeline({
      policies: [
        { policy: 'jwt', options: { algorithms: ['HS256'], secret: SECRET } },
        { policy: 'api-key', options: { consumers: [{ id: 'partner', keys: [hashApiKey(KEY)] }] } },
      ],
    })
    expect((await p.run({ headers: { 'x-api-key': KEY } })).status).toBe(200)
  })

  it('validates the options of config-file entries and needs two alternatives', async () => {
    await expect(
      createTestPipeline([anyOf({ policies: [{ policy: 'jwt', options: {} }, keyEntry] })]),
    ).rejects.toThrow("invalid options for policy 'jwt'")
    expect(() => anyOf({ policies: [jwtEntry] })).toThrow('at least two')
  })

  it('logs the alternative that failed, not the ones whose credential was absent', async () => {
    const log = createRecordingLogger()
    const p = await createTestPipeline([anyOf({ policies: [jwtEntry, keyEntry] })], {
      clock: createManualClock(NOW),
      log,
    })
    await p.run({ headers: { 'x-api-key': KEY } })
    await p.run({ headers: { 'x-api-key': 'wrong' } })
    await p.run()
    const events = log.entries
      .filter((e) => String(e.fields.event).startsWith('auth.'))
      .map((e) => [e.fields.event, e.fields.policy, e.fields.reason ?? e.fields.subject])
    expect(events).toEqual([
      ['auth.success', 'api-key', 'partner'],
      ['auth.failure', 'api-key', 'unknown-key'],
      ['auth.failure', 'any-of', 'missing'],
    ])
  })
})
