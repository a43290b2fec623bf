import type { Clock, Logger } from '@gw/core'
import {
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
} from 'jose'
import type { AuthFetch } from '../shared/fetch.js'

/**
 * Options of {@link RemoteJwks}.
 *
 * @example
 * ```ts
 * const options: RemoteJwksOptions = { url, timeout: 5000, cacheMaxAge: 600_000, cooldown: 30_000, clock: systemClock }
 * ```
 */
export interface RemoteJwksOptions {
  url: string
  /** Abort a fetch after this many ms. */
  timeout: number
  /** Refetch the set when it is older than this (ms). */
  cacheMaxAge: number
  /** Minimum ms between two fetches (unknown `kid` refetches and retries after failures). */
  cooldown: number
  clock: Clock
  fetch?: AuthFetch
  log?: Logger
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
 * A JSON Web Key Set fetched over HTTP(S): cached for `cacheMaxAge`, refetched at most once per `cooldown`
 * when a token names an unknown `kid` (key rotation without restarts), fetches coalesced and bounded by a
 * timeout. When a refresh fails the last good set stays in use. Transport and clock are injected, so tests
 * run against a local server with a manual clock.
 *
 * @example
 * ```ts
 * const jwks = new RemoteJwks({ url: 'https://idp/jwks', timeout: 5000, cacheMaxAge: 600_000, cooldown: 30_000, clock: systemClock })
 * await jwtVerify(token, jwks.getKey, { algorithms: ['RS256'] })
 * ```
 */
export class RemoteJwks {
  readonly #options: RemoteJwksOptions
  readonly #fetch: AuthFetch
  #set: LocalSet | undefined
  #fetchedAt = Number.NEGATIVE_INFINITY
  #attemptedAt = Number.NEGATIVE_INFINITY
  #pending: Promise<void> | undefined
  /** Number of fetches started (for tests and operations). */
  fetches = 0

  constructor(options: RemoteJwksOptions) {
    this.#options = options
    this.#fetch = options.fetch ?? (fetch as AuthFetch)
  }

  /** Key resolver for `jwtVerify`. */
  readonly getKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    const now = this.#options.clock.now()
    if (this.#set === undefined || now - this.#fetchedAt >= this.#options.cacheMaxAge)
      await this.#refresh(now)
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

  /** Fetches the set now unless a fetch ran within the cooldown; resolves true if a new set was loaded. */
  async #refresh(now: number): Promise<boolean> {
    if (this.#pending) {
      await this.#pending
      return true
    }
    if (now - this.#attemptedAt < this.#options.cooldown) return false
    this.#attemptedAt = now
    const before = this.#set
    this.#pending = this.#load().finally(() => {
      this.#pending = undefined
    })
    await this.#pending
    return this.#set !== before
  }

  async #load(): Promise<void> {
    this.fetches++
    try {
      const res = await this.#fetch(this.#options.url, {
        signal: AbortSignal.timeout(this.#options.timeout),
        headers: { accept: 'application/jwk-set+json, application/json' },
      })
      if (!res.ok) throw new Error(`JWKS endpoint answered ${res.status}`)
      const body = await res.json()
      if (!isKeySet(body)) throw new Error('JWKS response is not a JSON Web Key Set')
      this.#set = createLocalJWKSet(body)
      this.#fetchedAt = this.#options.clock.now()
    } catch (error) {
      this.#options.log?.error({ err: error, url: this.#options.url }, 'fetching the JSON Web Key Set failed')
    }
  }
}

function isKeySet(value: unknown): value is JSONWebKeySet {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as { keys?: unknown }).keys) &&
    (value as { keys: unknown[] }).keys.every((k) => typeof k === 'object' && k !== null)
  )
}
