import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import type { GwResponse, MaybePromise } from '@gw/core'
import { normaliseHeader, varyNames } from '../semantics/entry.js'
import { parseHttpDate } from '../semantics/http-date.js'
import type { CacheEntry } from '../store/types.js'

/** The body of entries without one. */
export const EMPTY: Buffer = Buffer.alloc(0)
const noop = (): void => {}

/**
 * Whether a store call answered asynchronously.
 *
 * @example
 * ```ts
 * const found = store.get(key)
 * return isPromise(found) ? found.then(use) : use(found)
 * ```
 */
export function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

/**
 * Frees a response body the cache will not send, without ever raising an unhandled stream error.
 *
 * @example
 * ```ts
 * releaseBody(res) // an upstream 304 the cache answers for itself
 * ```
 */
export function releaseBody(res: GwResponse): void {
  const body = res.body
  if (!(body instanceof Readable) || body.destroyed) return
  body.on('error', noop)
  body.destroy()
}

/**
 * Stored entries always carry a Content-Length (chunked upstream bodies included), except 204s.
 *
 * @example
 * ```ts
 * withLength(headers, 200, body) // headers['content-length'] === String(body.length)
 * ```
 */
export function withLength(headers: Record<string, string | string[]>, status: number, body: Buffer): void {
  if (status !== 204 && headers['content-length'] === undefined)
    headers['content-length'] = String(body.length)
}

/**
 * Whether the request carries any precondition (RFC 9110 §13.1).
 *
 * @example
 * ```ts
 * hasConditional({ 'if-none-match': '"v1"' }) // true
 * ```
 */
export function hasConditional(headers: IncomingHttpHeaders): boolean {
  return (
    headers['if-none-match'] !== undefined ||
    headers['if-modified-since'] !== undefined ||
    headers['if-match'] !== undefined ||
    headers['if-unmodified-since'] !== undefined ||
    headers['if-range'] !== undefined
  )
}

/**
 * The request's values of the fields a response varies on, as stored beside the entry.
 *
 * @example
 * ```ts
 * varyPairs('Accept-Encoding', { 'accept-encoding': 'gzip' }) // [['accept-encoding', 'gzip']]
 * ```
 */
export function varyPairs(
  vary: string | string[] | number | undefined,
  headers: IncomingHttpHeaders,
): [string, string | null][] {
  if (vary === undefined) return []
  return varyNames(vary).map((field) => [field, normaliseHeader(headers, field)])
}

/**
 * RFC 9110 §13.1.2 / §13.1.3 evaluated against a stored 200: If-None-Match (weak comparison) wins over
 * If-Modified-Since.
 *
 * @example
 * ```ts
 * notModified({ 'if-none-match': 'W/"v1"' }, { etag: '"v1"' }) // true
 * ```
 */
export function notModified(
  request: IncomingHttpHeaders,
  stored: Record<string, string | string[]>,
): boolean {
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

/**
 * Whether a 304 answers for this stored response (RFC 9111 §4.3.4).
 *
 * @example
 * ```ts
 * sameValidator(entry, { status: 304, headers: { etag: entry.headers.etag! }, body: null }) // true
 * ```
 */
export function sameValidator(entry: CacheEntry, res: GwResponse): boolean {
  const etag = res.headers.etag
  if (etag !== undefined)
    return String(etag).replace(/^W\//, '') === String(entry.headers.etag ?? '').replace(/^W\//, '')
  const lastModified = res.headers['last-modified']
  if (lastModified !== undefined) return String(lastModified) === String(entry.headers['last-modified'] ?? '')
  return entry.headers.etag === undefined && entry.headers['last-modified'] === undefined
}
