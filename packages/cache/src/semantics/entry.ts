import type { IncomingHttpHeaders } from 'node:http'
import type { CacheEntry, StoredHeaders } from '../store/types.js'
import { type Directives, deltaSeconds, parseCacheControl, qualifiedFields } from './cache-control.js'
import { formatHttpDate, parseHttpDate } from './http-date.js'

/**
 * Status codes a cache may give heuristic freshness (RFC 9110 §15.1).
 *
 * @example
 * ```ts
 * HEURISTICALLY_CACHEABLE.has(404) // true
 * ```
 */
export const HEURISTICALLY_CACHEABLE: ReadonlySet<number> = new Set([
  200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501,
])

/**
 * Status codes whose caching requirements this cache implements (for `must-understand`, RFC 9111 §5.2.2.3).
 *
 * @example
 * ```ts
 * UNDERSTOOD_STATUSES.has(200) // true
 * ```
 */
export const UNDERSTOOD_STATUSES: ReadonlySet<number> = new Set([
  200, 203, 204, 300, 301, 302, 303, 307, 308, 404, 405, 410, 414, 451, 501,
])

/**
 * Operator settings that shape freshness and storage.
 *
 * @example
 * ```ts
 * const settings: FreshnessSettings = { defaultTtl: undefined, maxHeuristic: 86_400_000, keepStale: 3_600_000, storeSetCookie: false }
 * ```
 */
export interface FreshnessSettings {
  /** Freshness lifetime (ms) for storable responses without explicit expiration; replaces the heuristic. */
  defaultTtl: number | undefined
  /** Upper bound (ms) of the Last-Modified heuristic (10% of the time since modification). */
  maxHeuristic: number
  /** How long (ms) a stale entry with validators is kept for conditional revalidation. */
  keepStale: number
  /** Store `Set-Cookie` with the response (off: the first client gets it, hits never do). */
  storeSetCookie: boolean
}

/**
 * Why a response is not stored, or undefined when it may be.
 *
 * @example
 * ```ts
 * const reason: NotStorableReason = 'no-store'
 * ```
 */
export type NotStorableReason =
  | 'status'
  | 'no-store'
  | 'request-no-store'
  | 'private'
  | 'authorization'
  | 'vary-star'
  | 'must-understand'
  | 'no-freshness'

const HOP_AND_LOCAL = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
  'age',
])

/**
 * RFC 9111 §3 (shared cache): whether a response to a GET may be stored. `authenticated` is true for requests
 * with Authorization (or a principal) unless the cache is keyed per principal (`perPrincipal`), which also
 * lifts the `private` rule: each user then has a private cache of their own.
 *
 * @example
 * ```ts
 * notStorable(200, parseCacheControl(''), parseCacheControl('private'), {}, false, false) // 'private'
 * ```
 */
export function notStorable(
  status: number,
  req: Directives,
  res: Directives,
  headers: Readonly<Record<string, string | string[] | number | undefined>>,
  authenticated: boolean,
  perPrincipal: boolean,
): NotStorableReason | undefined {
  const vary = headers.vary
  if (status < 200 || status === 206 || status === 304) return 'status'
  if (req['no-store'] !== undefined) return 'request-no-store'
  if (res['must-understand'] !== undefined) {
    if (!UNDERSTOOD_STATUSES.has(status)) return 'must-understand'
  } else if (res['no-store'] !== undefined) return 'no-store'
  if (res.private === true && !perPrincipal) return 'private'
  if (
    authenticated &&
    res.public === undefined &&
    res['s-maxage'] === undefined &&
    res['must-revalidate'] === undefined
  )
    return 'authorization'
  if (vary !== undefined && varyNames(vary).includes('*')) return 'vary-star'
  if (
    !HEURISTICALLY_CACHEABLE.has(status) &&
    res.public === undefined &&
    res['max-age'] === undefined &&
    res['s-maxage'] === undefined &&
    headers.expires === undefined &&
    !(perPrincipal && res.private !== undefined)
  )
    return 'no-freshness'
  return undefined
}

/**
 * The header names a `Vary` value lists (lowercase, deduplicated, sorted).
 *
 * @example
 * ```ts
 * varyNames('Accept-Encoding, accept-language') // ['accept-encoding', 'accept-language']
 * ```
 */
export function varyNames(vary: string | string[] | number): string[] {
  const text = Array.isArray(vary) ? vary.join(',') : String(vary)
  const names = new Set<string>()
  for (const part of text.split(',')) {
    const name = part.trim().toLowerCase()
    if (name !== '') names.add(name)
  }
  return [...names].sort()
}

/**
 * A request header's value normalised for Vary matching (RFC 9111 §4.1): lists joined, whitespace around
 * commas removed; `null` when absent.
 *
 * @example
 * ```ts
 * normaliseHeader({ accept: 'text/html ,  application/json' }, 'accept') // 'text/html,application/json'
 * ```
 */
export function normaliseHeader(headers: IncomingHttpHeaders, name: string): string | null {
  const value = headers[name]
  if (value === undefined) return null
  const text = Array.isArray(value) ? value.join(',') : value
  return text.trim().replace(/[ \t]*,[ \t]*/g, ',')
}

/**
 * Freshness facts of a response, computed when it is stored or updated (RFC 9111 §4.2).
 *
 * @example
 * ```ts
 * const { lifetime, initialAge }: Freshness = computeFreshness(200, headers, sent, received, settings)
 * ```
 */
export interface Freshness {
  initialAge: number
  lifetime: number
  staleWhileRevalidate: number
  staleIfError: number
  noCache: boolean
  mustRevalidate: boolean
  authorizedReuse: boolean
  expiresAt: number
}

/**
 * Computes corrected_initial_age (§4.2.3), the freshness lifetime for a shared cache (§4.2.1: s-maxage, then
 * max-age, then Expires minus Date, then heuristics for heuristically cacheable statuses or `public`), the
 * RFC 5861 windows and the reuse flags. Invalid or conflicting values make the response stale, never fresher.
 *
 * @example
 * ```ts
 * const f = computeFreshness(200, { 'cache-control': 'max-age=60' }, now, now, settings, 0)
 * f.lifetime // 60000
 * ```
 */
export function computeFreshness(
  status: number,
  headers: StoredHeaders,
  requestTime: number,
  responseTime: number,
  settings: FreshnessSettings,
  ageValue = 0,
): Freshness {
  const cc = parseCacheControl(headers['cache-control'])
  const date = parseHttpDate(headers.date) ?? responseTime
  const apparentAge = Math.max(0, responseTime - date)
  const correctedAgeValue = ageValue * 1000 + Math.max(0, responseTime - requestTime)
  const initialAge = Math.max(apparentAge, correctedAgeValue)

  let lifetime: number
  const sMaxAge = deltaSeconds(cc, 's-maxage')
  const maxAge = deltaSeconds(cc, 'max-age')
  if (sMaxAge !== undefined) lifetime = Math.max(0, sMaxAge) * 1000
  else if (maxAge !== undefined) lifetime = Math.max(0, maxAge) * 1000
  else if (headers.expires !== undefined) {
    const expires = Array.isArray(headers.expires) ? headers.expires : [headers.expires]
    const at = expires.length === 1 ? parseHttpDate(expires[0]) : undefined
    lifetime = at === undefined ? 0 : Math.max(0, at - date)
  } else if (HEURISTICALLY_CACHEABLE.has(status) || cc.public !== undefined) {
    if (settings.defaultTtl !== undefined) lifetime = settings.defaultTtl
    else {
      const lastModified = parseHttpDate(headers['last-modified'])
      lifetime =
        lastModified !== undefined && lastModified < date
          ? Math.min(settings.maxHeuristic, Math.floor((date - lastModified) / 10_000) * 1000)
          : 0
    }
  } else lifetime = 0

  const swr = Math.max(0, deltaSeconds(cc, 'stale-while-revalidate') ?? 0) * 1000
  const sie = Math.max(0, deltaSeconds(cc, 'stale-if-error') ?? 0) * 1000
  const noCache = cc['no-cache'] !== undefined
  const mustRevalidate =
    cc['must-revalidate'] !== undefined || cc['proxy-revalidate'] !== undefined || sMaxAge !== undefined
  const hasValidators = headers.etag !== undefined || headers['last-modified'] !== undefined
  const horizon = Math.max(
    mustRevalidate || noCache ? 0 : Math.max(swr, sie),
    hasValidators ? settings.keepStale : 0,
  )
  return {
    initialAge,
    lifetime,
    staleWhileRevalidate: mustRevalidate || noCache ? 0 : swr,
    staleIfError: mustRevalidate || noCache ? 0 : sie,
    noCache,
    mustRevalidate,
    authorizedReuse: cc.public !== undefined || sMaxAge !== undefined || cc['must-revalidate'] !== undefined,
    expiresAt: responseTime - initialAge + lifetime + horizon,
  }
}

/**
 * Parses an `Age` value (delta-seconds; the first of several); invalid values count as 0.
 *
 * @example
 * ```ts
 * parseAge('30') // 30
 * ```
 */
export function parseAge(value: string | string[] | number | undefined): number {
  if (value === undefined) return 0
  if (typeof value === 'number') return value >= 0 ? value : 0
  const first = (Array.isArray(value) ? value[0] : value)?.split(',')[0]?.trim() ?? ''
  return /^\d+$/.test(first) ? Math.min(Number(first), 2_147_483_648) : 0
}

/**
 * Copies response headers into the form that is stored: string values, hop-by-hop and `Age` removed, fields
 * named by qualified `private` / `no-cache` directives removed (RFC 9111 §5.2.2.4, §5.2.2.7), `Set-Cookie`
 * removed unless configured, and a `Date` added when the origin sent none (RFC 9110 §6.6.1).
 *
 * @example
 * ```ts
 * storedHeaders({ 'content-type': 'text/plain', 'content-length': 5 }, Date.now(), settings)
 * ```
 */
export function storedHeaders(
  headers: Record<string, string | string[] | number | undefined>,
  responseTime: number,
  settings: FreshnessSettings,
): StoredHeaders {
  const cc = parseCacheControl(headers['cache-control'])
  const drop = new Set([...qualifiedFields(cc, 'private'), ...qualifiedFields(cc, 'no-cache')])
  if (!settings.storeSetCookie) drop.add('set-cookie')
  const out: StoredHeaders = {}
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined || HOP_AND_LOCAL.has(name) || drop.has(name)) continue
    out[name] = typeof value === 'number' ? String(value) : value
  }
  if (out.date === undefined) out.date = formatHttpDate(responseTime)
  return out
}

/** Headers a 304 must not change in a stored response (RFC 9111 §3.2). */
const NOT_UPDATED = new Set(['content-length'])

/**
 * Merges the header fields of a 304 (or HEAD) response into a stored response (RFC 9111 §3.2 / §4.3.4).
 *
 * @example
 * ```ts
 * const headers = mergeHeaders(entry.headers, { etag: '"v2"', 'cache-control': 'max-age=60' }, now, settings)
 * ```
 */
export function mergeHeaders(
  stored: StoredHeaders,
  update: Record<string, string | string[] | number | undefined>,
  responseTime: number,
  settings: FreshnessSettings,
): StoredHeaders {
  const fresh = storedHeaders(update, responseTime, settings)
  if (update.date === undefined) delete fresh.date
  const out: StoredHeaders = { ...stored }
  for (const name in fresh) if (!NOT_UPDATED.has(name)) out[name] = fresh[name]!
  return out
}

/** What {@link buildEntry} needs. */
export interface EntryInit {
  key: string
  parts: string
  vary: [string, string | null][]
  status: number
  headers: StoredHeaders
  body: Buffer
  requestTime: number
  responseTime: number
  tagHeaders: readonly string[]
  /** The response's Age value in seconds (headers are stored without Age). */
  ageValue: number
}

/**
 * Builds a {@link CacheEntry} with its freshness facts and tags.
 *
 * @example
 * ```ts
 * const entry = buildEntry({ key, parts: '', vary: [], status: 200, headers, body, requestTime, responseTime, tagHeaders: ['surrogate-key'] }, settings)
 * ```
 */
export function buildEntry(
  init: EntryInit,
  settings: FreshnessSettings,
  freshness: Freshness = computeFreshness(
    init.status,
    init.headers,
    init.requestTime,
    init.responseTime,
    settings,
    init.ageValue,
  ),
): CacheEntry {
  return {
    key: init.key,
    variant: variantId(init.parts, init.vary),
    parts: init.parts,
    vary: init.vary,
    status: init.status,
    headers: init.headers,
    body: init.body,
    requestTime: init.requestTime,
    responseTime: init.responseTime,
    ...freshness,
    tags: readTags(init.headers, init.tagHeaders),
  }
}

/**
 * The variant id of a set of key parts and Vary values.
 *
 * @example
 * ```ts
 * variantId('', [['accept', 'text/html']]) // '\n["accept","text/html"]'
 * ```
 */
export function variantId(parts: string, vary: [string, string | null][]): string {
  return vary.length === 0 ? parts : `${parts}\n${JSON.stringify(vary.flat())}`
}

function readTags(headers: StoredHeaders, names: readonly string[]): string[] {
  const tags = new Set<string>()
  for (const name of names) {
    const value = headers[name]
    if (value === undefined) continue
    const text = Array.isArray(value) ? value.join(' ') : value
    for (const tag of text.split(/[\s,]+/)) if (tag !== '') tags.add(tag)
  }
  return [...tags]
}
