import type { IncomingHttpHeaders } from 'node:http'
import { type Exchange, type MaybePromise, principalKey, type Verdict } from '@gw/core'
import { cacheErrors } from '../errors.js'
import { deltaSeconds, parseCacheControl } from '../semantics/cache-control.js'
import { normaliseHeader } from '../semantics/entry.js'
import type { CacheEntry } from '../store/types.js'
import { BYPASS, type CacheContext, type RequestState, stateKey } from './context.js'
import { hasConditional, isPromise } from './http.js'
import { refreshInBackground } from './revalidate.js'

/**
 * The request side of the cache (`onRequest`): computes the key and secondary key, reads the store and
 * answers from it (fresh, max-stale, stale-while-revalidate), or lets the request through, as a conditional
 * request when it validates a stored entry, and as the leader or a follower of a coalesced miss.
 *
 * @example
 * ```ts
 * return { onRequest: (ex) => lookupRequest(ctx, ex) }
 * ```
 */
export function lookupRequest(ctx: CacheContext, ex: Exchange): MaybePromise<Verdict> {
  const req = ex.request
  const method = req.method
  if (method !== 'GET' && method !== 'HEAD') return
  const headers = req.headers
  const config = ctx.config
  if (bypassed(req.path, headers, config.bypass.paths, config.bypass.headers)) {
    ex.set(stateKey, BYPASS)
    return
  }
  const principal = ex.get(principalKey)
  let parts = ''
  for (const field of config.keyHeaders) parts += `${field}=${normaliseHeader(headers, field) ?? ''}\n`
  const personal = config.perPrincipal && principal !== undefined
  if (personal) parts += `principal=${principal.subject}`
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
  const found = ctx.get(st.key)
  return isPromise(found)
    ? found.then((entries) => lookup(ctx, ex, st, entries, true))
    : lookup(ctx, ex, st, found, true)
}

function lookup(
  ctx: CacheContext,
  ex: Exchange,
  st: RequestState,
  entries: readonly CacheEntry[],
  mayWait: boolean,
): MaybePromise<Verdict> {
  const headers = ex.request.headers
  const directives = st.directives
  const entry = select(entries, st, headers)
  const onlyIfCached = directives['only-if-cached'] !== undefined
  if (entry === undefined) {
    if (onlyIfCached) throw cacheErrors.onlyIfCached.create()
    st.fwd = entries.some((e) => e.parts === st.parts) ? 'vary-miss' : 'uri-miss'
    return miss(ctx, ex, st, mayWait)
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
      return ctx.serve(ex, entry, age, ctx.hitMember(entry, age, st.collapsed ? 'collapsed' : undefined))
    if (!entry.mustRevalidate && maxStaleArg !== undefined) {
      const maxStale =
        maxStaleArg === true ? Number.POSITIVE_INFINITY : deltaSeconds(directives, 'max-stale')!
      if (maxStale >= 0 && -remaining <= maxStale * 1000)
        return ctx.serve(ex, entry, age, ctx.hitMember(entry, age, 'max-stale'))
    }
    if (
      -remaining <= entry.staleWhileRevalidate &&
      maxAge === undefined &&
      minFresh === undefined &&
      !onlyIfCached &&
      refreshInBackground(ctx, ex, st, entry)
    )
      return ctx.serve(ex, entry, age, ctx.hitMember(entry, age, 'stale-while-revalidate'))
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

/** Newest stored variant for this secondary key whose Vary values match the request. */
function select(
  entries: readonly CacheEntry[],
  st: RequestState,
  headers: IncomingHttpHeaders,
): CacheEntry | undefined {
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

/**
 * A miss of a plain GET: the first request leads a flight and goes upstream; later ones wait for it (up to
 * `coalesceTimeout`) and look the key up once more, then go upstream themselves if still missing.
 */
function miss(ctx: CacheContext, ex: Exchange, st: RequestState, mayWait: boolean): MaybePromise<Verdict> {
  if (!ctx.config.coalesce || ex.request.method !== 'GET' || !isPlain(ex.request.headers, st)) return
  const flightKey = st.key + '\n' + st.parts
  const flight = ctx.flights.get(flightKey)
  if (flight === undefined) {
    let resolve!: () => void
    const promise = new Promise<void>((r) => {
      resolve = r
    })
    st.leader = { promise, resolve }
    ctx.flights.set(flightKey, st.leader)
    return
  }
  if (!mayWait) return
  st.collapsed = true
  return waitFor(flight.promise, ctx.config.coalesceTimeout).then(() => {
    const again = ctx.get(st.key)
    return isPromise(again)
      ? again.then((e) => lookup(ctx, ex, st, e, false))
      : lookup(ctx, ex, st, again, false)
  })
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

function isPlain(headers: IncomingHttpHeaders, st: RequestState): boolean {
  return (
    headers['cache-control'] === undefined &&
    headers.pragma === undefined &&
    !hasConditional(headers) &&
    !st.authenticated
  )
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
