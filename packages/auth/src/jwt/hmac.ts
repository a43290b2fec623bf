import { isUtf8 } from 'node:buffer'
import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto'
import type { JWTPayload } from 'jose'

/** What an HMAC-signed JWT is checked against; the same meaning as jose's `jwtVerify` options. */
export interface HmacVerifyOptions {
  /** Allowed algorithms (only HS256, HS384 and HS512 can ever verify). */
  algorithms: readonly string[]
  issuer?: string | readonly string[] | undefined
  audience?: string | readonly string[] | undefined
  requiredClaims?: readonly string[] | undefined
  /** Seconds of leeway for `exp`, `nbf` and `iat`. */
  clockTolerance: number
  /** Seconds; tokens whose `iat` is older are expired. */
  maxTokenAge?: number | undefined
  /** Required `typ` header (compared as jose does: case-insensitive, `application/` optional). */
  typ?: string | undefined
}

/** A verified token, or the reason it was refused (the same reasons as the jose path of the jwt policy). */
export type HmacResult =
  | { payload: JWTPayload; reason?: undefined }
  | { payload?: undefined; reason: HmacFailure }

/** Why an HMAC token was refused. */
export type HmacFailure =
  | 'malformed'
  | 'unsupported'
  | 'alg-not-allowed'
  | 'bad-signature'
  | 'expired'
  | `claim-${string}`

const HASHES: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' }

/**
 * Builds a synchronous verifier for compact JWS tokens signed with HMAC (HS256/384/512), with node:crypto and
 * no promise, for the uncached path of the `jwt` policy, which hands it only tokens of three non-empty
 * base64url segments (its `JWS_COMPACT` check). It keeps every check jose's `jwtVerify` makes for
 * such tokens, in the same order: strict base64url and UTF-8, JSON object header and claims, `crit` (only
 * `b64` is understood; `b64: false` is refused), `alg` on the allow-list, a timing-safe signature compare, then
 * `typ`, required claims, `iss`, `aud`, and `iat` / `nbf` / `exp` / `maxTokenAge` with the clock tolerance.
 * `test/hmac-parity.test.ts` checks it against jose on valid and crafted tokens.
 *
 * @example
 * ```ts
 * const verify = createHmacVerifier(createSecretKey(Buffer.from(secret)), { algorithms: ['HS256'], clockTolerance: 0 })
 * const result = verify(token, Date.now())
 * if (result.reason === undefined) console.log(result.payload.sub)
 * ```
 */
export function createHmacVerifier(
  key: KeyObject,
  options: HmacVerifyOptions,
): (token: string, nowMs: number) => HmacResult {
  const allowed = new Set(options.algorithms)
  const issuers = options.issuer === undefined ? undefined : [options.issuer].flat()
  const audiences = options.audience === undefined ? undefined : [options.audience].flat()
  const presence = [...(options.requiredClaims ?? [])]
  if (options.maxTokenAge !== undefined) presence.push('iat')
  if (audiences !== undefined) presence.push('aud')
  if (issuers !== undefined) presence.push('iss')
  const required = [...new Set(presence.reverse())]
  const typ = options.typ === undefined ? undefined : normalizeTyp(options.typ)
  const tolerance = options.clockTolerance
  const maxAge = options.maxTokenAge

  /** Parsed headers by their encoded segment: tokens of one issuer share a few, so most tokens skip this. */
  const headers = new Map<string, Header | HmacFailure>()
  const headerOf = (segment: string): Header | HmacFailure => {
    let known = headers.get(segment)
    if (known === undefined) {
      known = parseHeader(segment, allowed)
      if (segment.length > MAX_CACHED_HEADER_LENGTH) return known
      if (headers.size >= MAX_CACHED_HEADERS) headers.clear()
      headers.set(segment, known)
    }
    return known
  }

  return (token, nowMs) => {
    const first = token.indexOf('.')
    const second = token.indexOf('.', first + 1)
    if (first <= 0 || second <= first + 1 || token.indexOf('.', second + 1) >= 0) return fail('malformed')
    const header = headerOf(token.slice(0, first))
    if (typeof header === 'string') return fail(header)
    const signature = decodeSegment(token.slice(second + 1))
    if (signature === undefined) return fail('malformed')
    const expected = createHmac(header.hash, key).update(token.slice(0, second)).digest()
    if (signature.length !== expected.length || !timingSafeEqual(signature, expected))
      return fail('bad-signature')
    if (!header.b64) return fail('malformed')
    const claims = decodeJson(token.slice(first + 1, second))
    if (claims === undefined) return fail('malformed')

    if (typ !== undefined && (header.typ === undefined || normalizeTyp(header.typ) !== typ))
      return fail('claim-typ')
    for (const claim of required) if (!Object.hasOwn(claims, claim)) return fail(`claim-${claim}`)
    if (issuers !== undefined && !issuers.includes(claims.iss as string)) return fail('claim-iss')
    if (audiences !== undefined && !audienceMatches(claims.aud, audiences)) return fail('claim-aud')
    const now = Math.floor(nowMs / 1000)
    const iat = claims.iat
    if ((iat !== undefined || maxAge !== undefined) && typeof iat !== 'number') return fail('claim-iat')
    const nbf = claims.nbf
    if (nbf !== undefined) {
      if (typeof nbf !== 'number') return fail('claim-nbf')
      if (nbf > now + tolerance) return fail('claim-nbf')
    }
    const exp = claims.exp
    if (exp !== undefined) {
      if (typeof exp !== 'number') return fail('claim-exp')
      if (exp <= now - tolerance) return fail('expired')
    }
    if (maxAge !== undefined) {
      const age = now - (iat as number)
      if (age - tolerance > maxAge) return fail('expired')
      if (age < -tolerance) return fail('claim-iat')
    }
    return { payload: claims as JWTPayload }
  }
}

/** A protected header that passed every check before the signature. */
interface Header {
  readonly hash: string
  readonly b64: boolean
  readonly typ: string | undefined
}

const MAX_CACHED_HEADERS = 256
const MAX_CACHED_HEADER_LENGTH = 512

/** The header checks of jose, in its order: JSON object, `crit` (only `b64` understood), `alg` allowed. */
function parseHeader(segment: string, allowed: ReadonlySet<string>): Header | HmacFailure {
  const header = decodeJson(segment)
  if (header === undefined) return 'malformed'
  let b64: unknown = true
  const crit = header.crit
  if (crit !== undefined) {
    if (!Array.isArray(crit) || crit.length === 0 || crit.some((c) => typeof c !== 'string' || c === ''))
      return 'malformed'
    for (const name of crit) {
      if (name !== 'b64') return 'unsupported'
      if (header[name] === undefined) return 'malformed'
    }
    b64 = header.b64
    if (typeof b64 !== 'boolean') return 'malformed'
  }
  const alg = header.alg
  if (typeof alg !== 'string' || alg === '') return 'malformed'
  if (!allowed.has(alg)) return 'alg-not-allowed'
  const hash = HASHES[alg]
  if (hash === undefined) return 'unsupported'
  return { hash, b64: b64 as boolean, typ: typeof header.typ === 'string' ? header.typ : undefined }
}

const failures = new Map<HmacFailure, HmacResult>()

function fail(reason: HmacFailure): HmacResult {
  let result = failures.get(reason)
  if (result === undefined) {
    result = { reason }
    if (failures.size < 64) failures.set(reason, result)
  }
  return result
}

/** Base64url of a segment already known to hold only base64url characters; jose refuses a length of 1 mod 4. */
function decodeSegment(segment: string): Buffer | undefined {
  return segment.length % 4 === 1 ? undefined : Buffer.from(segment, 'base64url')
}

/** A JSON object from a segment: strict UTF-8 (a leading BOM is dropped, as TextDecoder does), or undefined. */
function decodeJson(segment: string): Record<string, unknown> | undefined {
  const bytes = decodeSegment(segment)
  if (bytes === undefined || !isUtf8(bytes)) return undefined
  const bom = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf
  let value: unknown
  try {
    value = JSON.parse(bytes.toString('utf8', bom ? 3 : 0))
  } catch {
    return undefined
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined
}

function normalizeTyp(value: string): string {
  const lower = value.toLowerCase()
  return value.includes('/') ? lower : `application/${lower}`
}

function audienceMatches(aud: unknown, accepted: readonly string[]): boolean {
  if (typeof aud === 'string') return accepted.includes(aud)
  if (Array.isArray(aud)) return accepted.some((a) => aud.includes(a))
  return false
}
