import {
  createStateKey,
  type Exchange,
  type GwResponse,
  type Logger,
  type MaybePromise,
  type ResponseHeaders,
  type SetupContext,
  type Telemetry,
  type UpstreamDirectory,
  type Verdict,
} from '@gw/core'
import type { Directives } from '../semantics/cache-control.js'
import type { FreshnessSettings } from '../semantics/entry.js'
import type { CacheEntry, CacheStore } from '../store/types.js'
import { appendCacheStatus } from './cache-status.js'
import { isPromise, notModified } from './http.js'
import type { CacheOptions } from './schema.js'

/** How a request was answered (the `result` label of the cache request counter). */
export type Outcome = 'hit' | 'stale' | 'revalidated' | 'miss' | 'bypass'
/** Why the request was forwarded (the Cache-Status `fwd` parameter). */
export type ForwardReason = 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale'

/** The first request of a coalesced miss; followers wait for `promise`. */
export interface Flight {
  readonly promise: Promise<void>
  readonly resolve: () => void
}

/** What the cache remembers about one GET/HEAD between `onRequest` and `onResponse`. */
export interface RequestState {
  readonly key: string
  readonly parts: string
  readonly requestTime: number
  readonly directives: Directives
  readonly authenticated: boolean
  readonly canStorePrivate: boolean
  /** The stored response being validated, or kept for stale-if-error. */
  entry: CacheEntry | undefined
  /** True when the cache added its own validators to the forwarded request. */
  conditional: boolean
  fwd: ForwardReason
  leader: Flight | undefined
  collapsed: boolean
}

/** Marks a request the cache was told to skip (bypass paths or headers). */
export const BYPASS = Symbol('bypass')
/** Where {@link RequestState} lives on the exchange. */
export const stateKey = createStateKey<RequestState | typeof BYPASS>('cache.request')

const NOT_MODIFIED_HEADERS = [
  'cache-control',
  'content-location',
  'date',
  'etag',
  'expires',
  'vary',
  'last-modified',
  'age',
  'cache-status',
]

/**
 * Everything one `cache` instance shares between its lookup, store and revalidate steps: the options in the
 * form the steps read, the store behind error-tolerant calls, the coalescing and refresh bookkeeping, and the
 * replies built from a stored entry. Built once in `create()`.
 *
 * @example
 * ```ts
 * const ctx = new CacheContext(config, setup, store)
 * ctx.serve(ex, entry, age, ctx.hitMember(entry, age))
 * ```
 */
export class CacheContext {
  readonly config: CacheOptions
  readonly store: CacheStore
  readonly log: Logger
  readonly clock: SetupContext['clock']
  readonly settings: FreshnessSettings
  readonly name: string
  /** The `upstreams` resource, when present: background refresh needs it. */
  readonly upstreams: UpstreamDirectory | undefined
  /** Coalesced misses in flight, by key and secondary key. */
  readonly flights = new Map<string, Flight>()
  /** Entries being refreshed in the background, by key and variant. */
  readonly refreshing = new Set<string>()
  readonly #telemetry: Telemetry
  readonly #labels: Record<Outcome, Record<string, string>>
  readonly #route: string

  constructor(config: CacheOptions, setup: SetupContext, store: CacheStore) {
    this.config = config
    this.store = store
    this.log = setup.log
    this.clock = setup.clock
    this.name = config.name
    this.settings = {
      defaultTtl: config.defaultTtl === undefined ? undefined : config.defaultTtl * 1000,
      maxHeuristic: config.maxHeuristicTtl * 1000,
      keepStale: config.keepStale * 1000,
      storeSetCookie: config.storeSetCookie,
    }
    this.upstreams = setup.has('upstreams') ? setup.need('upstreams') : undefined
    this.#telemetry = setup.telemetry
    const route = setup.routeId ?? ''
    this.#route = route
    const labels = (result: Outcome) => ({ cache: config.name, route, result })
    this.#labels = {
      hit: labels('hit'),
      stale: labels('stale'),
      revalidated: labels('revalidated'),
      miss: labels('miss'),
      bypass: labels('bypass'),
    }
  }

  /** Counts one request by outcome. */
  record(outcome: Outcome): void {
    if (this.#telemetry.enabled) this.#telemetry.count('cache_requests', 1, this.#labels[outcome])
  }

  /** Reads a key's entries; a failing store counts as empty (logged and counted). */
  get(key: string): MaybePromise<readonly CacheEntry[]> {
    try {
      const found = this.store.get(key)
      return isPromise(found)
        ? found.catch((error: unknown) => {
            this.#storeFailed('read', error)
            return []
          })
        : found
    } catch (error) {
      this.#storeFailed('read', error)
      return []
    }
  }

  /** Writes an entry; a failing store is logged and counted, never thrown. */
  set(entry: CacheEntry): MaybePromise<void> {
    try {
      const done = this.store.set(entry)
      return isPromise(done) ? done.catch((error: unknown) => this.#storeFailed('write', error)) : done
    } catch (error) {
      this.#storeFailed('write', error)
    }
  }

  /** Deletes a key; a failing store is logged and counted, never thrown. */
  delete(key: string): MaybePromise<unknown> {
    try {
      const done = this.store.delete(key)
      return isPromise(done) ? done.catch((error: unknown) => this.#storeFailed('delete', error)) : done
    } catch (error) {
      this.#storeFailed('delete', error)
    }
  }

  /** Adds this cache's member to the response's Cache-Status (when enabled). */
  status(res: GwResponse, member: string): void {
    if (this.config.cacheStatus)
      res.headers['cache-status'] = appendCacheStatus(res.headers['cache-status'], member)
  }

  /** The Cache-Status member of a hit. */
  hitMember(entry: CacheEntry, age: number, detail?: string): string {
    return `${this.name}; hit; ttl=${Math.floor((entry.lifetime - age) / 1000)}${detail ? `; detail=${detail}` : ''}`
  }

  /**
   * Answers from a stored entry with Age and Cache-Status: a 304 when the client's conditionals match a stored
   * 200 (and `conditionals` is true), else the stored response (no body for HEAD).
   */
  serve(
    ex: Exchange,
    entry: CacheEntry,
    age: number,
    member: string,
    conditionals = true,
    outcome: Outcome = age < entry.lifetime ? 'hit' : 'stale',
  ): Verdict {
    this.record(outcome)
    const headers: ResponseHeaders = {}
    const stored = entry.headers
    for (const field in stored) headers[field] = stored[field]!
    headers.age = String(Math.floor(age / 1000))
    if (this.config.cacheStatus) headers['cache-status'] = appendCacheStatus(stored['cache-status'], member)
    if (conditionals && entry.status === 200 && notModified(ex.request.headers, stored)) {
      const short: ResponseHeaders = {}
      for (const field of NOT_MODIFIED_HEADERS) {
        const value = headers[field]
        if (value !== undefined) short[field] = value
      }
      return { respond: { status: 304, headers: short, body: null } }
    }
    return {
      respond: {
        status: entry.status,
        headers,
        body: ex.request.method === 'HEAD' ? null : entry.body,
      },
    }
  }

  /** Ends the request's coalescing flight, if it leads one: waiting followers look the key up again. */
  release(st: RequestState): void {
    const flight = st.leader
    if (flight === undefined) return
    st.leader = undefined
    const flightKey = st.key + '\n' + st.parts
    if (this.flights.get(flightKey) === flight) this.flights.delete(flightKey)
    flight.resolve()
  }

  #storeFailed(operation: 'read' | 'write' | 'delete', error: unknown): void {
    this.log.warn({ err: error }, `cache store ${operation} failed`)
    if (this.#telemetry.enabled)
      this.#telemetry.count('cache_store_errors', 1, { cache: this.name, route: this.#route, operation })
  }
}
