import type { Clock, Logger } from '@gw/core'
import {
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWK,
  type JWSHeaderParameters,
} from 'jose'
import type { AuthFetch } from '../shared/fetch.js'

/**
 * Options of {@link RemoteJwks}.
 *
 * @example
 * ```ts
 * const options: RemoteJwksOptions = { url, timeout: 5000, maxAge: 50_000, minAge: 5000, cooldown: 5000, clock: systemClock }
 * ```
 */
export interface RemoteJwksOptions {
  url: string
  /** Abort a fetch after this many ms. */
  timeout: number
  /** Longest time (ms) a fetched set is used before it is refetched; also the age when the response has no `Cache-Control: max-age`. */
  maxAge: number
  /** Shortest time (ms) a fetched set is used, whatever its `Cache-Control` says (`no-cache`, `max-age=0`). */
  minAge: number
  /** Minimum ms between the starts of two fetches (unknown `kid` refetches, retries after failures). */
  cooldown: number
  clock: Clock
  fetch?: AuthFetch
  log?: Logger
  /**
   * Called after a refresh with the key ids that left the set (`''` stands for keys without a `kid`), so that
   * results verified with those keys can be dropped at once.
   */
  onRemoved?: (kids: ReadonlySet<string>) => void
}

/**
 * Thrown when no key set could ever be loaded (the gateway answers 503).
 *
 * @example
 * ```ts
 * if (error instanceof JwksUnavailableError) // no key set could be loaded: answer 503
 * ```
 */
export class JwksUnavailableError extends Error {
  override readonly name = 'JwksUnavailableError'
}

type LocalSet = ReturnType<typeof createLocalJWKSet>

/**
 * A JSON Web Key Set fetched over HTTP(S). A set is used for its `Cache-Control: max-age` (minus `Age`),
 * clamped to [`minAge`, `maxAge`]; once stale, the next use starts a refresh in the background and keeps
 * verifying with the current set until the new one arrives. A token naming an unknown `kid` refetches at once,
 * at most once per `cooldown` (rotation without restarts, and no amplification by junk tokens). Fetches are
 * single-flight and bounded by `timeout`; when one fails, the last good set stays in use. After each refresh,
 * `onRemoved` hears which key ids left the set. Transport and clock are injected, so tests run without
 * network and with a manual clock.
 *
 * @example
 * ```ts
 * const jwks = new RemoteJwks({ url: 'https://idp/jwks', timeout: 5000, maxAge: 50_000, minAge: 5000, cooldown: 5000, clock: systemClock })
 * await jwtVerify(token, jwks.getKey, { algorithms: ['RS256'] })
 * ```
 */
export class RemoteJwks {
  readonly #options: RemoteJwksOptions
  readonly #fetch: AuthFetch
  #set: LocalSet | undefined
  #ids = new Set<string>()
  #expiresAt = Number.NEGATIVE_INFINITY
  #attemptedAt = Number.NEGATIVE_INFINITY
  #pending: Promise<boolean> | undefined
  /** Number of fetches started (for tests and operations). */
  fetches = 0
  /** Hears which key ids left the set after each refresh (set by the `jwt` policy to drop cached results). */
  onRemoved: RemoteJwksOptions['onRemoved']

  constructor(options: RemoteJwksOptions) {
    this.#options = options
    this.#fetch = options.fetch ?? (fetch as AuthFetch)
    this.onRemoved = options.onRemoved
  }

  /** Key resolver for `jwtVerify`. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    if (this.#set === undefined) await this.#refresh(this.#options.clock.now())
    else this.refreshIfStale()
    const set = this.#set
    if (set === undefined) throw new JwksUnavailableError('no JSON Web Key Set available')
    try {
      return await set(header, token)
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error
      if (!(await this.#refresh(this.#options.clock.now()))) throw error
      return this.#set!(header, token)
    }
  }

  /**
   * Starts a background refresh when the set is stale (and no fetch ran within the cooldown). Cheap enough
   * for every request: verified-token cache hits call it so that a removed key is noticed without waiting
   * for an uncached token.
   */
  refreshIfStale(): void {
    const now = this.#options.clock.now()
    if (now < this.#expiresAt || this.#pending !== undefined) return
    if (now - this.#attemptedAt < this.#options.cooldown) return
    this.#refresh(now).catch(() => {})
  }

  /** Fetches the set now unless a fetch ran within the cooldown; resolves true if a set was (re)loaded. */
  #refresh(now: number): Promise<boolean> {
    if (this.#pending !== undefined) return this.#pending
    if (now - this.#attemptedAt < this.#options.cooldown) return Promise.resolve(false)
    this.#attemptedAt = now
    this.#pending = this.#load().finally(() => {
      this.#pending = undefined
    })
    return this.#pending
  }

  async #load(): Promise<boolean> {
    this.fetches++
    const options = this.#options
    try {
      const res = await this.#fetch(options.url, {
        signal: AbortSignal.timeout(options.timeout),
        headers: { accept: 'application/jwk-set+json, application/json' },
      })
      if (!res.ok) throw new Error(`JWKS endpoint answered ${res.status}`)
      const body = await res.json()
      if (!isKeySet(body)) throw new Error('JWKS response is not a JSON Web Key Set')
      const now = options.clock.now()
      const fresh = freshnessOf(res.headers?.get('cache-control') ?? null, res.headers?.get('age') ?? null)
      const age = Math.min(options.maxAge, Math.max(options.minAge, fresh ?? options.maxAge))
      const ids = new Set(body.keys.map(keyId))
      const removed = new Set<string>()
      for (const id of this.#ids) if (!ids.has(id)) removed.add(id.startsWith(KIDLESS) ? '' : id)
      // A token without a kid may have been verified with any key of the set.
      if (removed.size > 0) removed.add('')
      this.#set = createLocalJWKSet(body)
      this.#ids = ids
      this.#expiresAt = now + age
      if (removed.size > 0) {
        options.log?.info({ url: options.url, removed: [...removed] }, 'JSON Web Key Set: keys removed')
        this.onRemoved?.(removed)
      }
      return true
    } catch (error) {
      options.log?.error({ err: error, url: options.url }, 'fetching the JSON Web Key Set failed')
      return false
    }
  }
}

/** Marks keys without a `kid`, identified by their public parameters instead. */
const KIDLESS = '\u0000'

function keyId(key: JWK): string {
  if (typeof key.kid === 'string') return key.kid
  return KIDLESS + JSON.stringify([key.kty, key.crv, key.x, key.y, key.n, key.e])
}

/**
 * Freshness lifetime in ms from `Cache-Control` (`max-age`, or 0 for `no-cache` / `no-store`) minus `Age`
 * (RFC 9111 §4.2); undefined when the response says nothing.
 */
export function freshnessOf(cacheControl: string | null, age: string | null): number | undefined {
  if (cacheControl === null) return undefined
  let seconds: number | undefined
  for (const part of cacheControl.toLowerCase().split(',')) {
    const directive = part.trim()
    if (directive === 'no-cache' || directive === 'no-store') return 0
    const match = /^max-age\s*=\s*"?(\d+)"?$/.exec(directive)
    if (match !== null) seconds = Number(match[1])
  }
  if (seconds === undefined) return undefined
  const aged = age !== null && /^\d+$/.test(age.trim()) ? Number(age.trim()) : 0
  return Math.max(0, seconds - aged) * 1000
}

function isKeySet(value: unknown): value is JSONWebKeySet {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { keys?: unknown }).keys) &&
    (value as { keys: unknown[] }).keys.every((k) => typeof k === 'object' && k !== null)
  )
}
