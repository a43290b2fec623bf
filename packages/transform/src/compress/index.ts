import { pipeline, type Transform } from 'node:stream'
import { constants, createBrotliCompress, createGzip } from 'node:zlib'
import { definePolicy, type GwResponse, type ResponseHeaders } from '@gw/core'
import { type Coding, type Negotiation, negotiate } from './negotiate.js'
import { compressSchema } from './schema.js'

const NO_TRANSFORM = /(?:^|,)\s*no-transform\s*(?:,|$)/i
const VARY_ACCEPT_ENCODING = /(?:^|,)\s*(?:accept-encoding|\*)\s*(?:,|$)/i
const NEGOTIATION_CACHE_SIZE = 512
const TYPE_CACHE_SIZE = 256
const IDENTITY: Negotiation = { coding: undefined, identityRefused: false }
const ignoreError = () => {}

/**
 * Compresses responses with brotli or gzip (node:zlib), negotiated from `Accept-Encoding` q-values
 * (RFC 9110 §12.5.3). Skips HEAD, 1xx/204/206/304, already-encoded bodies, `Cache-Control: no-transform`
 * (request or response), non-compressible types and bodies smaller than `threshold` (by Content-Length;
 * bodies of unknown length are compressed). Streams with backpressure, never buffering the body; sets
 * `Vary: Accept-Encoding` on every response it could compress, removes Content-Length and weakens strong
 * ETags when it compresses. List it before other body transforms so that it runs last on the way out.
 *
 * @example
 * ```ts
 * createGateway({ policies: [compress({ threshold: 1024, level: 6 })], upstreams, routes })
 * ```
 */
export const compress = definePolicy({
  name: 'compress',
  stage: 'transform',
  description: 'gzip/brotli response compression negotiated from Accept-Encoding, streaming.',
  schema: compressSchema,
  create(options, setup) {
    const { encodings, threshold, level, brotliQuality } = options
    const isCompressible = compileTypeMatcher(options.types)
    const negotiations = new Map<string, Negotiation>()
    const negotiateCached = (header: string | undefined): Negotiation => {
      if (header === undefined) return IDENTITY
      let found = negotiations.get(header)
      if (found === undefined) {
        found = negotiate(header, encodings)
        if (negotiations.size >= NEGOTIATION_CACHE_SIZE) negotiations.clear()
        negotiations.set(header, found)
      }
      return found
    }
    const telemetry = setup.telemetry
    const createStream = (coding: Coding, length: number | undefined): Transform => {
      if (coding === 'gzip') return createGzip({ level })
      const params: Record<number, number> = { [constants.BROTLI_PARAM_QUALITY]: brotliQuality }
      if (length !== undefined) {
        params[constants.BROTLI_PARAM_SIZE_HINT] = length
        // a window just large enough for the body: same output, less encoder set-up per response
        params[constants.BROTLI_PARAM_LGWIN] = Math.min(22, Math.max(10, Math.ceil(Math.log2(length + 16))))
      }
      return createBrotliCompress({ params })
    }
    return {
      onResponse(ex, res) {
        const status = res.status
        if (status < 200 || status === 204 || status === 206 || status === 304 || res.body === null) return
        const headers = res.headers
        const encoding = headers['content-encoding']
        if (encoding !== undefined && String(encoding).trim().toLowerCase() !== 'identity') return
        const cacheControl = headers['cache-control']
        if (cacheControl !== undefined && NO_TRANSFORM.test(String(cacheControl))) return
        const type = headers['content-type']
        const compressible = typeof type === 'string' && isCompressible(type)
        const length = bodyLength(res)
        const eligible = compressible && (length === undefined || length >= threshold)
        if (eligible) addVary(headers)
        const request = ex.request
        if (request.method === 'HEAD') return
        const requestCacheControl = request.headers['cache-control']
        if (requestCacheControl !== undefined && NO_TRANSFORM.test(requestCacheControl)) return
        const { coding, identityRefused } = negotiateCached(request.headers['accept-encoding'])
        if (coding === undefined || (!eligible && !identityRefused)) return
        if (!eligible) addVary(headers)
        const stream = createStream(coding, length)
        const body = res.body
        if (typeof body === 'string' || body instanceof Uint8Array) stream.end(body)
        else pipeline(body, stream, ignoreError)
        res.body = stream
        headers['content-encoding'] = coding
        delete headers['content-length']
        delete headers['content-md5']
        delete headers['accept-ranges']
        const etag = headers.etag
        if (typeof etag === 'string' && etag.startsWith('"')) headers.etag = `W/${etag}`
        if (telemetry.enabled) telemetry.count('transform_compressed', 1, { coding })
      },
    }
  },
})

function bodyLength(res: GwResponse): number | undefined {
  const body = res.body
  if (typeof body === 'string') return Buffer.byteLength(body)
  if (body instanceof Uint8Array) return body.byteLength
  const declared = res.headers['content-length']
  if (declared === undefined) return undefined
  const n = Number(declared)
  return Number.isFinite(n) ? n : undefined
}

function addVary(headers: ResponseHeaders): void {
  const vary = headers.vary
  if (vary === undefined || vary === '') headers.vary = 'Accept-Encoding'
  else {
    const current = Array.isArray(vary) ? vary.join(', ') : String(vary)
    if (!VARY_ACCEPT_ENCODING.test(current)) headers.vary = `${current}, Accept-Encoding`
  }
}

/**
 * Compiles media-type patterns (`text/*`, `application/json`, `application/*+json`, `*\/*+xml`) into a
 * matcher of Content-Type values, with a small cache. `text/event-stream` never matches.
 *
 * @example
 * ```ts
 * compileTypeMatcher(['text/*'])('text/html; charset=utf-8') // true
 * ```
 */
export function compileTypeMatcher(patterns: readonly string[]): (contentType: string) => boolean {
  const exact = new Set<string>()
  const prefixes: string[] = []
  const suffixes: [prefix: string, suffix: string][] = []
  for (const pattern of patterns) {
    const [type, subtype] = pattern.toLowerCase().split('/') as [string, string]
    if (subtype === '*') prefixes.push(`${type}/`)
    else if (subtype.startsWith('*+')) suffixes.push([type === '*' ? '' : `${type}/`, subtype.slice(1)])
    else exact.add(pattern.toLowerCase())
  }
  const cache = new Map<string, boolean>()
  const match = (mediaType: string): boolean => {
    if (mediaType === 'text/event-stream') return false
    if (exact.has(mediaType)) return true
    for (const prefix of prefixes) if (mediaType.startsWith(prefix)) return true
    for (const [prefix, suffix] of suffixes)
      if (mediaType.startsWith(prefix) && mediaType.endsWith(suffix) && mediaType.includes('/')) return true
    return false
  }
  return (contentType) => {
    let result = cache.get(contentType)
    if (result === undefined) {
      const semi = contentType.indexOf(';')
      result = match((semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase())
      if (cache.size >= TYPE_CACHE_SIZE) cache.clear()
      cache.set(contentType, result)
    }
    return result
  }
}

export { type Coding, type Negotiation, negotiate } from './negotiate.js'
export { type CompressOptions, compressSchema, DEFAULT_COMPRESSIBLE_TYPES } from './schema.js'
