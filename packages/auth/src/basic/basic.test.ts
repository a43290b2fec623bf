import { createManualClock, createRecordingLogger, createTestPipeline } from '@gw/core/testing'
import { beforeAll, describe, expect, it } from 'vitest'
import { type EchoBody, principalEcho } from '../../test/helpers/principal-echo.js'
import { basic, hashPassword, parseScryptHash, verifyPassword } from './index.js'

const b64 = (s: string) => Buffer.from(s).toString('base64')
let users: { username: string; passwordHash: string; scopes?: string[] }[]

beforeAll(async () => {
  users = [
    {
      username: 'ops',
      passwordHash: await hashPassword('correct horse', { log2Cost: 14 }),
      scopes: ['admin'],
    },
    { username: 'jörg', passwordHash: await hashPassword('pässwörd', { log2Cost: 14 }) },
  ]
})

async function pipeline(extra: Record<string, unknown> = {}) {
  const log = createRecordingLogger()
  const p = await createTestPipeline([basic({ users, ...extra } as Parameters<typeof basic>[0])], {
    clock: createManualClock(),
    log,
    upstream: principalEcho,
  })
  return { log, run: p.run }
}

describe('password hashing', () => {
  it('produces salted PHC scrypt hashes that verify only the right password', async () => {
    const a = await hashPassword('pw', { log2Cost: 14 })
    const b = await hashPassword('pw', { log2Cost: 14 })
    expect(a).toMatch(/^\$scrypt\$ln=14,r=8,p=1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/)
    expect(a).not.toBe(b)
    expect(await verifyPassword('pw', parseScryptHash(a)!)).toBe(true)
    expect(await verifyPassword('pw ', parseScryptHash(a)!)).toBe(false)
  })

  it('refuses weak or malformed hashes', () => {
    expect(parseScryptHash('$scrypt$ln=10,r=8,p=1$c2FsdHNhbHRzYWx0c2FsdA==$aGFzaA==')).toBeUndefined()
    expect(parseScryptHash('plaintext')).toBeUndefined()
  })
})

describe('basic', () => {
  it('authenticates a configured user (UTF-8) and sets the principal', async () => {
    const p = await pipeline()
    const res = await p.run({ headers: { authorization: `Basic ${b64('ops:correct horse')}` } })
    expect(res.status).toBe(200)
    expect(res.json<EchoBody>().principal).toMatchObject({
      subject: 'ops',
      scopes: ['admin'],
      method: 'basic',
    })
    const utf8 = await p.run({ headers: { authorization: `Basic ${b64('jörg:pässwörd')}` } })
    expect(utf8.status).toBe(200)
  })

  it('answers 401 with a Basic challenge for a wrong password or unknown user, never logging the password', async () => {
    const p = await pipeline({ realm: 'tools' })
    for (const pair of ['ops:wrong', 'nobody:correct horse']) {
      const res = await p.run({ headers: { authorization: `Basic ${b64(pair)}` } })
      expect(res.status).toBe(401)
      expect(res.headers['www-authenticate']).toBe('Basic realm="tools", charset="UTF-8"')
      expect(res.json()).toMatchObject({ code: 'GW_ERR_AUTH_INVALID_CREDENTIALS' })
    }
    expect(
      p.log.entries.filter((e) => e.fields.event === 'auth.failure').map((e) => e.fields.reason),
    ).toEqual(['bad-password', 'unknown-user'])
    expect(p.log.dump()).not.toContain('correct horse')
    expect(p.log.dump()).not.toContain(b64('ops:wrong'))
  })

  it('answers 401 for a missing or malformed credential', async () => {
    const p = await pipeline()
    const missing = await p.run()
    expect([missing.status, missing.json<{ code: string }>().code]).toEqual([401, 'GW_ERR_AUTH_MISSING'])
    expect((await p.run({ headers: { authorization: `Basic ${b64('no-colon')}` } })).status).toBe(401)
    expect((await p.run({ headers: { authorization: 'Bearer abc' } })).status).toBe(401)
  })

  it('serves a reused credential from the cache and strips it when asked', async () => {
    const p = await pipeline({ stripCredential: true })
    const header = { authorization: `Basic ${b64('ops:correct horse')}` }
    const first = await p.run({ headers: header })
    const second = await p.run({ headers: header })
    expect([first.status, second.status]).toEqual([200, 200])
    expect(second.json<EchoBody>().headers.authorization).toBeUndefined()
  })

  it('rejects duplicate usernames and plaintext passwords in the config', () => {
    expect(() => basic({ users: [users[0]!, users[0]!] })).toThrow('duplicate username')
    expect(() => basic({ users: [{ username: 'a', passwordHash: 'secret' }] })).toThrow('scrypt PHC hash')
    expect(() => basic({ users: [{ username: 'a:b', passwordHash: users[0]!.passwordHash }] })).toThrow(
      'cannot contain',
    )
  })
})
