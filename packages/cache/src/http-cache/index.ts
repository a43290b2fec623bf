import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import {
  createStateKey,
  definePolicy,
  type Exchange,
  type GwResponse,
  type Logger,
  type MaybePromise,
  type PolicyHandlers,
  principalKey,
  type ResponseHeaders,
  type SetupContext,
  type Verdict,
} from '@gw/core'
import { cacheErrors } from '../errors.js'
import { registerCacheStore } from '../purge/registry.js'
import { type Directives, deltaSeconds, parseCacheControl } from '../semantics/cache-control.js'
import {
  buildEntry,
  computeFreshness,
  type FreshnessSettings,
  mergeHeaders,
  normaliseHeader,
  notStorable,
  parseAge,
  storedHeaders,
  varyNames,
} from '../semantics/entry.js'
import { parseHttpDate } from '../semantics/http-date.js'
import { MemoryCacheStore } from '../store/memory.js'
import { TieredCacheStore } from '../store/tiered.js'
import type { CacheEntry, CacheStore } from '../store/types.js'
import { appendCacheStatus } from './cache-status.js'
import { captureBody } from './capture.js'
import { type CacheOptions, cacheSchema } from './schema.js'

type Outcome = 'hit' | 'stale' | 'revalidated' | 'miss' | 'bypass'
type ForwardReason = 'uri-miss' | 'vary-miss' | 'miss' | 'request' | 'stale'

interface Flight {
  readonly promise: Promise<void>
  readonly resolve: () => void
}

interface RequestState {
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

const BYPASS = Symbol('bypass')
const stateKey = createStateKey<RequestState | typeof BYPASS>('cache.request')
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
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
 * An RFC 9111 shared HTTP cache for GET/HEAD: freshness (s-maxage, max-age, Expires, heuristics), Age,
 * Vary, request directives, validation with If-None-Match / If-Modified-Since and 304 updates,
 * stale-while-revalidate / stale-if-error (RFC 5861), request coalescing, invalidation by unsafe methods and
 * a Cache-Status header (RFC 9211). Bodies stream to the client while being copied up to `maxEntrySize`.
 * Must come after authentication and authorization policies.
 *
 * @example
 * ```ts
 * createGateway({
 *   upstreams: { products: { url: 'http://127.0.0.1:3002' } },
 *   routes: [{ path: '/api/products/*', upstream: 'products', policies: [cache({ defaultTtl: 60 })] }],
 * })
 * ```
 */
export const cache = definePolicy({
  name: 'cache',
  stage: 'cache',
  description: 'RFC 9111 shared HTTP cache with memory, Redis or tiered stores.',
  schema: cacheSchema,
  mustFollow: ['authn', 'authz'],
  state: (config) => (config.perPrincipal ? { requires: [principalKey] } : {}),
  async create(config, setup) {
    const { store, owned } = await createStore(config, setup)
    const unregister = registerCacheStore(config.name, store)
    return createHandlers(config, setup, store, async () => {
      unregister()
      if (owned) await store.close?.()
    })
  },
})

async function createStore(
  config: CacheOptions,
  setup: SetupContext,
): Promise<{ store: CacheStore; owned: boolean }> {
  if (typeof config.store !== 'string') return { store: config.store, owned: false }
  const memory = (): MemoryCacheStore =>
    new MemoryCacheStore({
      maxBytes: config.memory.maxBytes,
      maxEntries: config.memory.maxEntries,
      clock: setup.clock,
    })
  if (config.store === 'memory') return { store: memory(), owned: true }
  const { RedisCacheStore } = await import('../redis/store.js')
  const redis = new RedisCacheStore(setup.need('redis'), {
    prefix: config.redis.prefix,
    timeout: config.redis.timeout,
    clock: setup.clock,
    log: setup.log,
  })
  if (config.store === 'redis') return { store: redis, owned: true }
  return {
    store: new TieredCacheStore(memory(), redis, { l1Ttl: config.redis.l1Ttl, clock: setup.clock }),
    owned: true,
  }
}

function createHandlers(
  config: CacheOptions,
  setup: SetupContext,
  store: CacheStore,
  close: () => Promise<void>,
): PolicyHandlers {
  const log: Logger = setup.log
  const settings: FreshnessSettings = {
    defaultTtl: config.defaultTtl === undefined ? undefined : config.defaultTtl * 1000,
    maxHeuristic: config.maxHeuristicTtl * 1000,
    keepStale: config.keepStale * 1000,
    storeSetCookie: config.storeSetCookie,
  }
  const name = config.name
  const statusOn = config.cacheStatus
  const maxEntrySize = config.maxEntrySize
  const keyHeaders = config.keyHeaders
  const perPrincipal = config.perPrincipal
  const bypassPaths = config.bypass.paths
  const bypassHeaders = config.bypass.headers
  const upstreams = setup.has('upstreams') ? setup.need('upstreams') : undefined
  const flights = new Map<string, Flight>()
  const telemetry = setup.telemetry
  const route = setup.routeId ?? ''
  const labels: Record<Outcome, Record<string, string>> = {
    hit: { cache: name, route, result: 'hit' },
    stale: { cache: name, route, result: 'stale' },
    revalidated: { cache: name, route, result: 'revalidated' },
    miss: { cache: name, route, result: 'miss' },
    bypass: { cache: name, route, result: 'bypass' },
  }
  const record = (outcome: Outcome): void => {
    if (telemetry.enabled) telemetry.count('cache_requests', 1, labels[outcome])
  }
  const refreshing = new Set<string>()

  const onError = (what: string) => (error: unknown) => {
    log.warn({ err: error }, `cache store ${what} failed`)
    if (telemetry.enabled) telemetry.count('cache_store_errors', 1, { cache: name, route, operation: what })
  }

  const safeSet = (entry: CacheEntry): MaybePromise<void> => {
    try {
      const done = store.set(entry)
      return isPromise(done) ? done.catch(onError('write')) : done
    } catch (error) {
      onError('write')(error)
    }
  }

  const safeGet = (key: string): MaybePromise<readonly CacheEntry[]> => {
    try {
      const found = store.get(key)
      return isPromise(found)
        ? found.catch((error: unknown) => {
            onError('read')(error)
            return []
          })
        : found
    } catch (error) {
      onError('read')(error)
      return []
    }
  }

  const safeDelete = (key: string): MaybePromise<unknown> => {
    try {
      const done = store.delete(key)
      return isPromise(done) ? done.catch(onError('delete')) : done
    } catch (error) {
      onError('delete')(error)
    }
  }

  const status = (res: GwResponse, member: string): void => {
    if (statusOn) res.headers['cache-status'] = appendCacheStatus(res.headers['cache-status'], member)
  }

  const release = (st: RequestState): void => {
    const flight = st.leader
    if (flight === undefined) return
    st.leader = undefined
    const flightKey = st.key + '\n' + st.parts
    if (flights.get(flightKey) === flight) flights.delete(flightKey)
    flight.resolve()
  }

  const select = (entries: readonly CacheEntry[], st: RequestState, headers: IncomingHttpHeaders) => {
    let best: CacheEntry | undefined
    for (const entry of entries) {
      if (entry.parts !== st.parts) continue
      if (st.authenticated && !entry.authorizedReuse) continue
      let matches = true
      for (const [field, value] of entry.vary) {
        if (normaliseHeader(headers, field) !== value) {
          matches = false
          break
        }
      }
      if (matches && (best === undefined || entry.responseTime > best.responseTime)) best = entry
    }
    return best
  }

  const serve = (
    ex: Exchange,
    entry: CacheEntry,
    age: number,
    member: string,
    conditionals = true,
    outcome: Outcome = age < entry.lifetime ? 'hit' : 'stale',
  ): Verdict => {
    record(outcome)
    const headers: ResponseHeaders = {}
    const stored = entry.headers
    for (const field in stored) headers[field] = stored[field]!
    headers.age = String(Math.floor(age / 1000))
    if (statusOn) headers['cache-status'] = appendCacheStatus(stored['cache-status'], member)
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

  const hitMember = (entry: CacheEntry, age: number, detail?: string): string =>
    `${name}; hit; ttl=${Math.floor((entry.lifetime - age) / 1000)}${detail ? `; detail=${detail}` : ''}`

  const miss = (ex: Exchange, st: RequestState, mayWait: boolean): MaybePromise<Verdict> => {
    if (!config.coalesce || ex.request.method !== 'GET' || !isPlain(ex.request.headers, st)) return
    const flightKey = st.key + '\n' + st.parts
    const flight = flights.get(flightKey)
    if (flight === undefined) {
      let resolve!: () => void
      const promise = new Promise<void>((r) => {
        resolve = r
      })
      st.leader = { promise, resolve }
      flights.set(flightKey, st.leader)
      return
    }
    if (!mayWait) return
    st.collapsed = true
    return waitFor(flight.promise, config.coalesceTimeout).then(() => {
      const again = safeGet(st.key)
      return isPromise(again) ? again.then((e) => lookup(ex, st, e, false)) : lookup(ex, st, again, false)
    })
  }

  const lookup = (
    ex: Exchange,
    st: RequestState,
    entries: readonly CacheEntry[],
    mayWait: boolean,
  ): MaybePromise<Verdict> => {
    const headers = ex.request.headers
    const directives = st.directives
    const entry = select(entries, st, headers)
    const onlyIfCached = directives['only-if-cached'] !== undefined
    if (entry === undefined) {
      if (onlyIfCached) throw cacheErrors.onlyIfCached.create()
      st.fwd = entries.some((e) => e.parts === st.parts) ? 'vary-miss' : 'uri-miss'
      return miss(ex, st, mayWait)
    }
    const now = ex.now()
    const age = entry.initialAge + Math.max(0, now - entry.responseTime)
    const remaining = entry.lifetime - age
    const requestNoCache =
      directives['no-cache'] !== undefined ||
      (headers['cache-control'] === undefined &&
        /(^|[\s,])no-cache($|[\s,])/i.test(String(headers.pragma ?? '')))
    const maxAge = deltaSeconds(directives, 'max-age')
    const minFresh = deltaSeconds(directives, 'min-fresh')
    const maxStaleArg = directives['max-stale']
    const constraintsOk =
      (maxAge === undefined || age <= Math.max(0, maxAge) * 1000) &&
      (minFresh === undefined || remaining >= Math.max(0, minFresh) * 1000)
    if (!requestNoCache && !entry.noCache && constraintsOk) {
      if (remaining > 0)
        return serve(ex, entry, age, hitMember(entry, age, st.collapsed ? 'collapsed' : undefined))
      if (!entry.mustRevalidate && maxStaleArg !== undefined) {
        const maxStale =
          maxStaleArg === true ? Number.POSITIVE_INFINITY : deltaSeconds(directives, 'max-stale')!
        if (maxStale >= 0 && -remaining <= maxStale * 1000)
          return serve(ex, entry, age, hitMember(entry, age, 'max-stale'))
      }
      if (
        -remaining <= entry.staleWhileRevalidate &&
        maxAge === undefined &&
        minFresh === undefined &&
        !onlyIfCached &&
        refreshInBackground(ex, st, entry)
      )
        return serve(ex, entry, age, hitMember(entry, age, 'stale-while-revalidate'))
    }
    if (onlyIfCached) throw cacheErrors.onlyIfCached.create()
    st.entry = entry
    st.fwd = requestNoCache ? 'request' : 'stale'
    if (!hasConditional(headers)) {
      const etag = entry.headers.etag
      const lastModified = entry.headers['last-modified']
      if (etag !== undefined) headers['if-none-match'] = Array.isArray(etag) ? etag.join(', ') : etag
      if (lastModified !== undefined && !Array.isArray(lastModified))
        headers['if-modified-since'] = lastModified
      st.conditional = etag !== undefined || lastModified !== undefined
    }
    return
  }

  const refreshInBackground = (ex: Exchange, st: RequestState, entry: CacheEntry): boolean => {
    const upstreamName = ex.route.upstream
    if (upstreams === undefined || upstreamName === undefined || !upstreams.has(upstreamName)) return false
    const refreshKey = entry.key + '\n' + entry.variant
    if (refreshing.has(refreshKey)) return true
    refreshing.add(refreshKey)
    const sent: IncomingHttpHeaders = { ...ex.request.headers }
    delete sent['if-none-match']
    delete sent['if-modified-since']
    delete sent['if-match']
    delete sent['if-unmodified-since']
    delete sent['if-range']
    delete sent['cache-control']
    delete sent.pragma
    delete sent['content-length']
    delete sent['transfer-encoding']
    const etag = entry.headers.etag
    const lastModified = entry.headers['last-modified']
    if (typeof etag === 'string') sent['if-none-match'] = etag
    if (typeof lastModified === 'string') sent['if-modified-since'] = lastModified
    const requestTime = setup.clock.now()
    const refresh = async (): Promise<void> => {
      const res = await upstreams.forward(ex, { headers: sent })
      const responseTime = setup.clock.now()
      if (res.status === 304) {
        releaseBody(res)
        await safeSet(refreshed(entry, res, requestTime, responseTime))
        return
      }
      const reqHeaders = ex.request.headers
      const directives = parseCacheControl(res.headers['cache-control'])
      const reason = notStorable(
        res.status,
        {},
        directives,
        res.headers,
        st.authenticated,
        st.canStorePrivate,
      )
      if (reason !== undefined || res.status >= 500) {
        releaseBody(res)
        if (res.status < 500) await safeDelete(entry.key)
        return
      }
      const body = await readLimited(res.body, maxEntrySize)
      if (body === undefined) return
      const vary = varyPairs(res.headers.vary, reqHeaders)
      const headers = storedHeaders(res.headers, responseTime, settings)
      withLength(headers, res.status, body)
      await safeSet(
        buildEntry(
          {
            key: entry.key,
            parts: entry.parts,
            vary,
            status: res.status,
            headers,
            body,
            requestTime,
            responseTime,
            tagHeaders: config.tagHeaders,
            ageValue: parseAge(res.headers.age),
          },
          settings,
        ),
      )
    }
    refresh()
      .catch((error: unknown) => log.warn({ err: error, key: entry.key }, 'background revalidation failed'))
      .finally(() => refreshing.delete(refreshKey))
    return true
  }

  const refreshed = (entry: CacheEntry, res: GwResponse, requestTime: number, responseTime: number) =>
    buildEntry(
      {
        key: entry.key,
        parts: entry.parts,
        vary: entry.vary,
        status: entry.status,
        headers: mergeHeaders(entry.headers, res.headers, responseTime, settings),
        body: entry.body,
        requestTime,
        responseTime,
        tagHeaders: config.tagHeaders,
        ageValue: parseAge(res.headers.age),
      },
      settings,
    )

  const invalidate = (ex: Exchange, res: GwResponse): MaybePromise<Verdict> => {
    const host = ex.request.host.toLowerCase()
    const keys = new Set<string>([host + ex.request.url])
    for (const field of ['location', 'content-location']) {
      const value = res.headers[field]
      if (typeof value !== 'string' || value === '') continue
      try {
        const target = new URL(value, `http://${host}${ex.request.url}`)
        if (target.host.toLowerCase() === host) keys.add(host + target.pathname + target.search)
      } catch {
        // an unparseable Location invalidates nothing
      }
    }
    const pending: Promise<unknown>[] = []
    for (const key of keys) {
      const done = safeDelete(key)
      if (isPromise(done)) pending.push(done)
    }
    if (pending.length > 0) return Promise.all(pending).then(() => undefined)
  }

  const store304 = (
    ex: Exchange,
    st: RequestState,
    entry: CacheEntry,
    res: GwResponse,
  ): MaybePromise<Verdict> => {
    const updated = refreshed(entry, res, st.requestTime, ex.now())
    releaseBody(res)
    const member = `${name}; fwd=${st.fwd}; fwd-status=304; stored; ttl=${Math.floor((updated.lifetime - updated.initialAge) / 1000)}`
    const verdict = serve(ex, updated, updated.initialAge, member, false, 'revalidated')
    const done = safeSet(updated)
    return isPromise(done) ? done.then(() => verdict) : verdict
  }

  const onResponse = (ex: Exchange, res: GwResponse): MaybePromise<Verdict> => {
    const method = ex.request.method
    if (method !== 'GET' && method !== 'HEAD') {
      if (!SAFE_METHODS.has(method) && res.status >= 200 && res.status < 400) return invalidate(ex, res)
      return
    }
    const st = ex.get(stateKey)
    if (st === undefined) return
    if (st === BYPASS) {
      record('bypass')
      status(res, `${name}; fwd=bypass`)
      return
    }
    const entry = st.entry
    if (entry !== undefined) {
      if (res.status === 304) {
        if (st.conditional) return store304(ex, st, entry, res)
        if (sameValidator(entry, res)) {
          const updated = refreshed(entry, res, st.requestTime, ex.now())
          record('revalidated')
          status(res, `${name}; fwd=${st.fwd}; fwd-status=304`)
          const done = safeSet(updated)
          return isPromise(done) ? done.then(() => undefined) : undefined
        }
      }
      if (res.status >= 500 && res.status <= 504 && !entry.noCache && !entry.mustRevalidate) {
        const now = ex.now()
        const age = entry.initialAge + Math.max(0, now - entry.responseTime)
        const requestWindow = deltaSeconds(st.directives, 'stale-if-error') ?? -1
        const window = Math.max(entry.staleIfError, requestWindow * 1000)
        if (window > 0 && age - entry.lifetime <= window) {
          releaseBody(res)
          return serve(
            ex,
            entry,
            age,
            `${hitMember(entry, age, 'stale-if-error')}; fwd-status=${res.status}`,
            !st.conditional,
          )
        }
      }
    }
    record(entry !== undefined && res.status === 304 ? 'revalidated' : 'miss')
    const directives = parseCacheControl(res.headers['cache-control'])
    const reason =
      method === 'HEAD'
        ? 'method'
        : notStorable(
            res.status,
            st.directives,
            directives,
            res.headers,
            st.authenticated,
            st.canStorePrivate,
          )
    const forward = `${name}; fwd=${st.fwd}${st.collapsed ? '; collapsed' : ''}; fwd-status=${res.status}`
    if (reason !== undefined) {
      status(res, forward + `; detail=${reason}`)
      release(st)
      if (entry !== undefined && res.status < 500 && res.status !== 304 && reason !== 'request-no-store') {
        const done = safeDelete(st.key)
        if (isPromise(done)) return done.then(() => undefined)
      }
      return
    }
    const declared = res.headers['content-length']
    if (declared !== undefined && Number(declared) > maxEntrySize) {
      status(res, forward + '; detail=too-large')
      release(st)
      return
    }
    const now = ex.now()
    const headers = storedHeaders(res.headers, now, settings)
    const ageValue = parseAge(res.headers.age)
    const freshness = computeFreshness(res.status, headers, st.requestTime, now, settings, ageValue)
    if (freshness.expiresAt <= now) {
      status(res, forward + '; detail=no-freshness')
      release(st)
      return
    }
    const init = {
      key: st.key,
      parts: st.parts,
      vary: varyPairs(res.headers.vary, ex.request.headers),
      status: res.status,
      headers,
      body: EMPTY,
      requestTime: st.requestTime,
      responseTime: now,
      tagHeaders: config.tagHeaders,
      ageValue,
    }
    const body = res.body
    const known = body === null || typeof body === 'string' || body instanceof Uint8Array
    status(
      res,
      `${forward}${known || declared !== undefined ? '; stored' : ''}; ttl=${Math.floor((freshness.lifetime - freshness.initialAge) / 1000)}`,
    )
    if (known) {
      init.body = body === null ? EMPTY : Buffer.from(body)
      withLength(init.headers, init.status, init.body)
      const done = safeSet(buildEntry(init, settings, freshness))
      if (isPromise(done)) {
        return done.then(() => {
          release(st)
          return undefined
        })
      }
      release(st)
      return
    }
    res.body = captureBody(body, maxEntrySize, (captured) => {
      if (captured === undefined) {
        release(st)
        return
      }
      init.body = captured
      withLength(init.headers, init.status, captured)
      const done = safeSet(buildEntry(init, settings, freshness))
      if (isPromise(done)) done.then(() => release(st))
      else release(st)
    })
    return
  }

  return {
    onRequest(ex) {
      const req = ex.request
      const method = req.method
      if (method !== 'GET' && method !== 'HEAD') return
      const headers = req.headers
      if (bypassed(req.path, headers, bypassPaths, bypassHeaders)) {
        ex.set(stateKey, BYPASS)
        return
      }
      const principal = ex.get(principalKey)
      let parts = ''
      for (const field of keyHeaders) parts += `${field}=${normaliseHeader(headers, field) ?? ''}\n`
      if (perPrincipal && principal !== undefined) parts += `principal=${principal.subject}`
      const personal = perPrincipal && principal !== undefined
      const st: RequestState = {
        key: req.host.toLowerCase() + req.url,
        parts,
        requestTime: ex.now(),
        directives: parseCacheControl(headers['cache-control']),
        authenticated: !personal && (headers.authorization !== undefined || principal !== undefined),
        canStorePrivate: personal,
        entry: undefined,
        conditional: false,
        fwd: 'uri-miss',
        leader: undefined,
        collapsed: false,
      }
      ex.set(stateKey, st)
      const found = safeGet(st.key)
      return isPromise(found)
        ? found.then((entries) => lookup(ex, st, entries, true))
        : lookup(ex, st, found, true)
    },
    onResponse,
    onComplete(ex) {
      const st = ex.get(stateKey)
      if (st !== undefined && st !== BYPASS) release(st)
    },
    close,
  }
}

const EMPTY: Buffer = Buffer.alloc(0)
const noop = (): void => {}

/** Frees a response body the cache will not send, without ever raising an unhandled stream error. */
function releaseBody(res: GwResponse): void {
  const body = res.body
  if (!(body instanceof Readable) || body.destroyed) return
  body.on('error', noop)
  body.destroy()
}

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

/** Stored entries always carry a Content-Length (chunked upstream bodies included), except 204s. */
function withLength(headers: Record<string, string | string[]>, status: number, body: Buffer): void {
  if (status !== 204 && headers['content-length'] === undefined)
    headers['content-length'] = String(body.length)
}

function bypassed(
  path: string,
  headers: IncomingHttpHeaders,
  paths: readonly string[],
  names: readonly string[],
): boolean {
  for (const prefix of paths) if (path.startsWith(prefix)) return true
  for (const field of names) if (headers[field] !== undefined) return true
  return false
}

function hasConditional(headers: IncomingHttpHeaders): boolean {
  return (
    headers['if-none-match'] !== undefined ||
    headers['if-modified-since'] !== undefined ||
    headers['if-match'] !== undefined ||
    headers['if-unmodified-since'] !== undefined ||
    headers['if-range'] !== undefined
  )
}

function isPlain(headers: IncomingHttpHeaders, st: RequestState): boolean {
  return (
    headers['cache-control'] === undefined &&
    headers.pragma === undefined &&
    !hasConditional(headers) &&
    !st.authenticated
  )
}

function varyPairs(
  vary: string | string[] | number | undefined,
  headers: IncomingHttpHeaders,
): [string, string | null][] {
  if (vary === undefined) return []
  return varyNames(vary).map((field) => [field, normaliseHeader(headers, field)])
}

/** RFC 9110 §13.1.2 / §13.1.3 evaluated against a stored 200: If-None-Match (weak comparison) wins over If-Modified-Since. */
function notModified(request: IncomingHttpHeaders, stored: Record<string, string | string[]>): boolean {
  const inm = request['if-none-match']
  if (inm !== undefined) {
    const etag = stored.etag
    if (typeof etag !== 'string') return false
    const list = inm.split(',').map((t) => t.trim())
    if (list.includes('*')) return true
    const opaque = etag.replace(/^W\//, '')
    return list.some((t) => t.replace(/^W\//, '') === opaque)
  }
  const ims = request['if-modified-since']
  if (ims === undefined) return false
  const since = parseHttpDate(ims)
  const lastModified = parseHttpDate(stored['last-modified']) ?? parseHttpDate(stored.date)
  return since !== undefined && lastModified !== undefined && lastModified <= since
}

/** Whether a 304 answers for this stored response (RFC 9111 §4.3.4). */
function sameValidator(entry: CacheEntry, res: GwResponse): boolean {
  const etag = res.headers.etag
  if (etag !== undefined)
    return String(etag).replace(/^W\//, '') === String(entry.headers.etag ?? '').replace(/^W\//, '')
  const lastModified = res.headers['last-modified']
  if (lastModified !== undefined) return String(lastModified) === String(entry.headers['last-modified'] ?? '')
  return entry.headers.etag === undefined && entry.headers['last-modified'] === undefined
}

function waitFor(promise: Promise<void>, timeout: number): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeout)
    promise.then(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

async function readLimited(body: GwResponse['body'], limit: number): Promise<Buffer | undefined> {
  if (body === null) return EMPTY
  if (typeof body === 'string' || body instanceof Uint8Array) {
    const buf = Buffer.from(body)
    return buf.length > limit ? undefined : buf
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > limit) {
      body.destroy()
      return undefined
    }
    chunks.push(buf)
  }
  return Buffer.concat(chunks, size)
}
