import type { IncomingHttpHeaders } from 'node:http'
import type { Exchange, GwResponse, UpstreamDirectory } from '@gw/core'
import { parseCacheControl } from '../semantics/cache-control.js'
import { buildEntry, mergeHeaders, notStorable, parseAge, storedHeaders } from '../semantics/entry.js'
import type { CacheEntry } from '../store/types.js'
import type { CacheContext, RequestState } from './context.js'
import { EMPTY, releaseBody, varyPairs, withLength } from './http.js'

/** Request fields the refresh never copies from the client: its own validators replace them. */
const NOT_COPIED = [
  'if-none-match',
  'if-modified-since',
  'if-match',
  'if-unmodified-since',
  'if-range',
  'cache-control',
  'pragma',
  'content-length',
  'transfer-encoding',
]

/**
 * The entry a 304 revalidates: stored body and status, headers merged with the 304's (RFC 9111 §4.3.4),
 * freshness recomputed from the new response time.
 *
 * @example
 * ```ts
 * await ctx.set(refreshed(ctx, entry, res, requestTime, ctx.clock.now()))
 * ```
 */
export function refreshed(
  ctx: CacheContext,
  entry: CacheEntry,
  res: GwResponse,
  requestTime: number,
  responseTime: number,
): CacheEntry {
  return buildEntry(
    {
      key: entry.key,
      parts: entry.parts,
      vary: entry.vary,
      status: entry.status,
      headers: mergeHeaders(entry.headers, res.headers, responseTime, ctx.settings),
      body: entry.body,
      requestTime,
      responseTime,
      tagHeaders: ctx.config.tagHeaders,
      ageValue: parseAge(res.headers.age),
    },
    ctx.settings,
  )
}

/**
 * Starts one background refresh of a stale-while-revalidate entry through core's `upstreams` resource (a
 * conditional GET with the entry's validators and the client's other headers). Returns false when it cannot
 * (no resource, no single upstream on the route): the caller then revalidates in the foreground. A refresh
 * already running for the entry counts as started.
 *
 * @example
 * ```ts
 * if (refreshInBackground(ctx, ex, st, entry)) return ctx.serve(ex, entry, age, member)
 * ```
 */
export function refreshInBackground(
  ctx: CacheContext,
  ex: Exchange,
  st: RequestState,
  entry: CacheEntry,
): boolean {
  const upstreams = ctx.upstreams
  const upstreamName = ex.route.upstream
  if (upstreams === undefined || upstreamName === undefined || !upstreams.has(upstreamName)) return false
  const refreshKey = entry.key + '\n' + entry.variant
  if (ctx.refreshing.has(refreshKey)) return true
  ctx.refreshing.add(refreshKey)
  const headers: IncomingHttpHeaders = { ...ex.request.headers }
  for (const field of NOT_COPIED) delete headers[field]
  const etag = entry.headers.etag
  const lastModified = entry.headers['last-modified']
  if (typeof etag === 'string') headers['if-none-match'] = etag
  if (typeof lastModified === 'string') headers['if-modified-since'] = lastModified
  refresh(ctx, upstreams, ex, headers, st, entry)
    .catch((error: unknown) => ctx.log.warn({ err: error, key: entry.key }, 'background revalidation failed'))
    .finally(() => ctx.refreshing.delete(refreshKey))
  return true
}

async function refresh(
  ctx: CacheContext,
  upstreams: UpstreamDirectory,
  ex: Exchange,
  headers: IncomingHttpHeaders,
  st: RequestState,
  entry: CacheEntry,
): Promise<void> {
  const requestTime = ctx.clock.now()
  const clientHeaders = ex.request.headers
  const res = await upstreams.forward(ex, { headers })
  const responseTime = ctx.clock.now()
  if (res.status === 304) {
    releaseBody(res)
    await ctx.set(refreshed(ctx, entry, res, requestTime, responseTime))
    return
  }
  const directives = parseCacheControl(res.headers['cache-control'])
  const reason = notStorable(res.status, {}, directives, res.headers, st.authenticated, st.canStorePrivate)
  if (reason !== undefined || res.status >= 500) {
    releaseBody(res)
    if (res.status < 500) await ctx.delete(entry.key)
    return
  }
  const body = await readLimited(res.body, ctx.config.maxEntrySize)
  if (body === undefined) return
  const stored = storedHeaders(res.headers, responseTime, ctx.settings)
  withLength(stored, res.status, body)
  await ctx.set(
    buildEntry(
      {
        key: entry.key,
        parts: entry.parts,
        vary: varyPairs(res.headers.vary, clientHeaders),
        status: res.status,
        headers: stored,
        body,
        requestTime,
        responseTime,
        tagHeaders: ctx.config.tagHeaders,
        ageValue: parseAge(res.headers.age),
      },
      ctx.settings,
    ),
  )
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
