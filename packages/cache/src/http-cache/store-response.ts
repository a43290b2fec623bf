import type { Exchange, GwResponse, MaybePromise, Verdict } from '@gw/core'
import { deltaSeconds, parseCacheControl } from '../semantics/cache-control.js'
import { buildEntry, computeFreshness, notStorable, parseAge, storedHeaders } from '../semantics/entry.js'
import type { CacheEntry } from '../store/types.js'
import { captureBody } from './capture.js'
import { BYPASS, type CacheContext, type RequestState, stateKey } from './context.js'
import { EMPTY, isPromise, releaseBody, sameValidator, varyPairs, withLength } from './http.js'
import { refreshed } from './revalidate.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE'])
const NOT_ANSWERED = Symbol('not answered')

/**
 * The response side of the cache (`onResponse`): invalidates on successful unsafe methods, answers a
 * revalidation (304 update, or the stored response for stale-if-error), and stores what may be stored, copying
 * a streamed body on its way to the client up to `maxEntrySize`.
 *
 * @example
 * ```ts
 * return { onResponse: (ex, res) => storeResponse(ctx, ex, res) }
 * ```
 */
export function storeResponse(ctx: CacheContext, ex: Exchange, res: GwResponse): MaybePromise<Verdict> {
  const method = ex.request.method
  if (method !== 'GET' && method !== 'HEAD') {
    if (!SAFE_METHODS.has(method) && res.status >= 200 && res.status < 400) return invalidate(ctx, ex, res)
    return
  }
  const st = ex.get(stateKey)
  if (st === undefined) return
  const name = ctx.name
  if (st === BYPASS) {
    ctx.record('bypass')
    ctx.status(res, `${name}; fwd=bypass`)
    return
  }
  const entry = st.entry
  if (entry !== undefined) {
    const answered = answerRevalidation(ctx, ex, st, entry, res)
    if (answered !== NOT_ANSWERED) return answered
  }
  ctx.record(entry !== undefined && res.status === 304 ? 'revalidated' : 'miss')
  const directives = parseCacheControl(res.headers['cache-control'])
  const reason =
    method === 'HEAD'
      ? 'method'
      : notStorable(res.status, st.directives, directives, res.headers, st.authenticated, st.canStorePrivate)
  const forward = `${name}; fwd=${st.fwd}${st.collapsed ? '; collapsed' : ''}; fwd-status=${res.status}`
  if (reason !== undefined) {
    ctx.status(res, forward + `; detail=${reason}`)
    ctx.release(st)
    if (entry !== undefined && res.status < 500 && res.status !== 304 && reason !== 'request-no-store') {
      const done = ctx.delete(st.key)
      if (isPromise(done)) return done.then(() => undefined)
    }
    return
  }
  const declared = res.headers['content-length']
  if (declared !== undefined && Number(declared) > ctx.config.maxEntrySize) {
    ctx.status(res, forward + '; detail=too-large')
    ctx.release(st)
    return
  }
  const now = ex.now()
  const headers = storedHeaders(res.headers, now, ctx.settings)
  const ageValue = parseAge(res.headers.age)
  const freshness = computeFreshness(res.status, headers, st.requestTime, now, ctx.settings, ageValue)
  if (freshness.expiresAt <= now) {
    ctx.status(res, forward + '; detail=no-freshness')
    ctx.release(st)
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
    tagHeaders: ctx.config.tagHeaders,
    ageValue,
  }
  const body = res.body
  const known = body === null || typeof body === 'string' || body instanceof Uint8Array
  ctx.status(
    res,
    `${forward}${known || declared !== undefined ? '; stored' : ''}; ttl=${Math.floor((freshness.lifetime - freshness.initialAge) / 1000)}`,
  )
  if (known) {
    init.body = body === null ? EMPTY : Buffer.from(body)
    withLength(init.headers, init.status, init.body)
    const done = ctx.set(buildEntry(init, ctx.settings, freshness))
    if (isPromise(done)) {
      return done.then(() => {
        ctx.release(st)
        return undefined
      })
    }
    ctx.release(st)
    return
  }
  res.body = captureBody(body, ctx.config.maxEntrySize, (captured) => {
    if (captured === undefined) {
      ctx.release(st)
      return
    }
    init.body = captured
    withLength(init.headers, init.status, captured)
    const done = ctx.set(buildEntry(init, ctx.settings, freshness))
    if (isPromise(done)) done.then(() => ctx.release(st))
    else ctx.release(st)
  })
  return
}

/**
 * The upstream's answer to a request that validated `entry`: a 304 updates it (and, when the cache added the
 * validators, is answered from it); a 5xx within a stale-if-error window is replaced by it. `NOT_ANSWERED`:
 * store or pass the response as usual.
 */
function answerRevalidation(
  ctx: CacheContext,
  ex: Exchange,
  st: RequestState,
  entry: CacheEntry,
  res: GwResponse,
): MaybePromise<Verdict> | typeof NOT_ANSWERED {
  const name = ctx.name
  if (res.status === 304) {
    if (st.conditional) {
      const updated = refreshed(ctx, entry, res, st.requestTime, ex.now())
      releaseBody(res)
      const member = `${name}; fwd=${st.fwd}; fwd-status=304; stored; ttl=${Math.floor((updated.lifetime - updated.initialAge) / 1000)}`
      const verdict = ctx.serve(ex, updated, updated.initialAge, member, false, 'revalidated')
      const done = ctx.set(updated)
      return isPromise(done) ? done.then(() => verdict) : verdict
    }
    if (sameValidator(entry, res)) {
      const updated = refreshed(ctx, entry, res, st.requestTime, ex.now())
      ctx.record('revalidated')
      ctx.status(res, `${name}; fwd=${st.fwd}; fwd-status=304`)
      const done = ctx.set(updated)
      return isPromise(done) ? done.then(() => undefined) : undefined
    }
  }
  if (res.status >= 500 && res.status <= 504 && !entry.noCache && !entry.mustRevalidate) {
    const age = entry.initialAge + Math.max(0, ex.now() - entry.responseTime)
    const requestWindow = deltaSeconds(st.directives, 'stale-if-error') ?? -1
    const window = Math.max(entry.staleIfError, requestWindow * 1000)
    if (window > 0 && age - entry.lifetime <= window) {
      releaseBody(res)
      return ctx.serve(
        ex,
        entry,
        age,
        `${ctx.hitMember(entry, age, 'stale-if-error')}; fwd-status=${res.status}`,
        !st.conditional,
      )
    }
  }
  return NOT_ANSWERED
}

/** Invalidates the request URI and same-host Location / Content-Location after a successful unsafe method. */
function invalidate(ctx: CacheContext, ex: Exchange, res: GwResponse): MaybePromise<Verdict> {
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
    const done = ctx.delete(key)
    if (isPromise(done)) pending.push(done)
  }
  if (pending.length > 0) return Promise.all(pending).then(() => undefined)
}
