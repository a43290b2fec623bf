import { createHmac, createSecretKey } from 'node:crypto'
import { jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { failureReason } from './failure.js'
import { createHmacVerifier, type HmacVerifyOptions } from './hmac.js'

// The synchronous HMAC path must give jose's verdict on every token: the same acceptance, the same claims and
// the same failure reason. Tokens are built by hand so that malformed ones can be crafted.

const SECRET = Buffer.from('0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef')
const key = createSecretKey(SECRET)
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0, 500)
const now = Math.floor(NOW / 1000)

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const hashOf: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

/** Signs raw header and payload segments with the secret (with `alg`'s hash, HS256 for anything else). */
function token(header: unknown, payload: unknown, options: { rawHeader?: string; rawPayload?: string } = {}) {
  const h = options.rawHeader ?? b64(header)
  const p = options.rawPayload ?? b64(payload)
  const alg = (header as { alg?: unknown } | null)?.alg
  const hash = hashOf[typeof alg === 'string' ? alg : ''] ?? 'sha256'
  return `${h}.${p}.${createHmac(hash, SECRET).update(`${h}.${p}`).digest('base64url')}`
}

const claims = (extra: Record<string, unknown> = {}) => ({
  sub: 'u1',
  iat: now - 10,
  exp: now + 600,
  ...extra,
})
const hs = (extra: Record<string, unknown> = {}) => ({ alg: 'HS256', typ: 'JWT', ...extra })
const valid = token(hs(), claims())

const cases: [string, string][] = [
  ['valid HS256', valid],
  ['valid HS384', token(hs({ alg: 'HS384' }), claims())],
  ['valid HS512', token(hs({ alg: 'HS512' }), claims())],
  ['alg none', token({ alg: 'none' }, claims())],
  ['alg RS256', token({ alg: 'RS256' }, claims())],
  ['missing alg', token({ typ: 'JWT' }, claims())],
  ['empty alg', token({ alg: '' }, claims())],
  ['numeric alg', token({ alg: 256 }, claims())],
  ['tampered payload', `${valid.split('.')[0]}.${b64(claims({ sub: 'admin' }))}.${valid.split('.')[2]}`],
  ['truncated signature', valid.slice(0, -2)],
  ['signature 1 mod 4', `${valid.slice(0, valid.lastIndexOf('.') + 1)}AAAAA`],
  ['signature of another key', `${valid.slice(0, valid.lastIndexOf('.') + 1)}${'A'.repeat(43)}`],
  ['header not JSON', token(null, claims(), { rawHeader: b64('{"alg":"HS256"') })],
  ['header is an array', token(null, claims(), { rawHeader: b64(['HS256']) })],
  ['header 1 mod 4', token(null, claims(), { rawHeader: `${b64(hs())}A` })],
  [
    'header invalid UTF-8',
    token(null, claims(), { rawHeader: Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url') }),
  ],
  ['payload not JSON', token(hs(), null, { rawPayload: b64('{"sub":') })],
  ['payload is a number', token(hs(), null, { rawPayload: b64('42') })],
  ['payload is an array', token(hs(), null, { rawPayload: b64('[1]') })],
  [
    'payload invalid UTF-8',
    token(hs(), null, { rawPayload: Buffer.from([0x7b, 0xc3, 0x7d]).toString('base64url') }),
  ],
  ['payload 1 mod 4', token(hs(), null, { rawPayload: `${b64(claims())}A` })],
  ['crit b64 true', token(hs({ crit: ['b64'], b64: true }), claims())],
  ['crit b64 false', token(hs({ crit: ['b64'], b64: false }), claims())],
  ['b64 false without crit', token(hs({ b64: false }), claims())],
  ['crit b64 not boolean', token(hs({ crit: ['b64'], b64: 'no' }), claims())],
  ['crit b64 missing', token(hs({ crit: ['b64'] }), claims())],
  ['crit duplicate', token(hs({ crit: ['b64', 'b64'], b64: true }), claims())],
  ['crit unknown', token(hs({ crit: ['exp'], exp: 1 }), claims())],
  ['crit empty', token(hs({ crit: [] }), claims())],
  ['crit not a list', token(hs({ crit: 'b64', b64: true }), claims())],
  ['crit empty name', token(hs({ crit: [''] }), claims())],
  ['expired', token(hs(), claims({ exp: now - 1 }))],
  ['expires now', token(hs(), claims({ exp: now }))],
  ['expired within tolerance', token(hs(), claims({ exp: now - 20 }))],
  ['exp not a number', token(hs(), claims({ exp: String(now + 60) }))],
  ['nbf in the future', token(hs(), claims({ nbf: now + 60 }))],
  ['nbf within tolerance', token(hs(), claims({ nbf: now + 20 }))],
  ['nbf not a number', token(hs(), claims({ nbf: 'soon' }))],
  ['iat not a number', token(hs(), claims({ iat: 'today' }))],
  ['iat too old', token(hs(), claims({ iat: now - 7200 }))],
  ['iat in the future', token(hs(), claims({ iat: now + 600 }))],
  ['no iat', token(hs(), { sub: 'u1', exp: now + 600 })],
  ['no sub', token(hs(), { iat: now, exp: now + 600 })],
  ['no exp', token(hs(), { sub: 'u1', iat: now })],
  ['issuer match', token(hs(), claims({ iss: 'https://idp' }))],
  ['issuer mismatch', token(hs(), claims({ iss: 'https://evil' }))],
  ['audience in list', token(hs(), claims({ iss: 'https://idp', aud: ['x', 'api'] }))],
  ['audience mismatch', token(hs(), claims({ iss: 'https://idp', aud: 'other' }))],
  ['audience not a string', token(hs(), claims({ iss: 'https://idp', aud: 7 }))],
  ['typ at+jwt', token(hs({ typ: 'at+JWT' }), claims({ iss: 'https://idp', aud: 'api' }))],
  [
    'typ application/at+jwt',
    token(hs({ typ: 'application/at+jwt' }), claims({ iss: 'https://idp', aud: 'api' })),
  ],
  ['typ missing', token({ alg: 'HS256' }, claims({ iss: 'https://idp', aud: 'api' }))],
  [
    '__proto__ claim',
    token(hs(), null, { rawPayload: b64(`{"sub":"u1","exp":${now + 60},"__proto__":{"x":1}}`) }),
  ],
]

const optionSets: [string, HmacVerifyOptions][] = [
  [
    'defaults (HS256, exp + sub required)',
    { algorithms: ['HS256'], requiredClaims: ['exp', 'sub'], clockTolerance: 0 },
  ],
  [
    'issuer, audience, typ, maxTokenAge, 30 s tolerance, every HS algorithm',
    {
      algorithms: ['HS256', 'HS384', 'HS512'],
      issuer: ['https://idp', 'https://idp2'],
      audience: 'api',
      requiredClaims: ['sub'],
      clockTolerance: 30,
      maxTokenAge: 3600,
      typ: 'at+jwt',
    },
  ],
]

async function joseVerdict(jwt: string, options: HmacVerifyOptions) {
  try {
    const { payload } = await jwtVerify(jwt, key, {
      algorithms: [...options.algorithms],
      issuer: options.issuer === undefined ? undefined : [options.issuer].flat(),
      audience: options.audience === undefined ? undefined : [options.audience].flat(),
      requiredClaims: options.requiredClaims === undefined ? undefined : [...options.requiredClaims],
      clockTolerance: options.clockTolerance,
      maxTokenAge: options.maxTokenAge,
      typ: options.typ,
      currentDate: new Date(NOW),
    })
    return { payload }
  } catch (error) {
    return { reason: failureReason(error) }
  }
}

describe('HMAC fast path: the same verdict as jose', () => {
  for (const [label, options] of optionSets) {
    it(`on ${cases.length} valid and crafted tokens, with ${label}`, async () => {
      const verify = createHmacVerifier(key, options)
      const differences: string[] = []
      for (const [name, jwt] of cases) {
        const expected = await joseVerdict(jwt, options)
        const actual = verify(jwt, NOW)
        const same =
          actual.reason === expected.reason &&
          JSON.stringify(actual.payload ?? null) === JSON.stringify(expected.payload ?? null)
        if (!same)
          differences.push(`${name}: jose ${JSON.stringify(expected)} vs fast ${JSON.stringify(actual)}`)
      }
      expect(differences).toEqual([])
    })
  }

  it('accepts and refuses both ways in the table (the parity test cannot pass with everything refused)', async () => {
    const verify = createHmacVerifier(key, optionSets[0]![1])
    const outcomes = cases.map(([, jwt]) => verify(jwt, NOW).reason === undefined)
    expect(outcomes.filter(Boolean).length).toBeGreaterThanOrEqual(5)
    expect(outcomes.filter((ok) => !ok).length).toBeGreaterThanOrEqual(30)
  })

  it('never accepts a token signed with another secret', () => {
    const other = createHmacVerifier(createSecretKey(Buffer.alloc(64, 1)), optionSets[0]![1])
    expect(other(valid, NOW)).toEqual({ reason: 'bad-signature' })
  })
})
