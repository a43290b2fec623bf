import {
  coreErrors,
  definePolicy,
  discardBody,
  type Exchange,
  GatewayError,
  type GwResponse,
  readBody,
} from '@gw/core'
import { transformErrors } from '../errors.js'
import { contentCodings, decodeBody, isJsonType, readLimited } from './body-io.js'
import { compileMapping, type JsonMapping } from './mapping.js'
import type { Json } from './pointer.js'
import { jsonBodySchema } from './schema.js'

const STALE_AFTER_CHANGE = [
  'content-encoding',
  'etag',
  'content-md5',
  'digest',
  'content-digest',
  'repr-digest',
]

/**
 * Maps JSON request and/or response bodies with JSON Pointer paths: unwrap, pick, omit, rename, set
 * (constants or templates), wrap. Only `application/json` and `+json` bodies are touched; they are buffered
 * up to `limit` bytes (request over it: 413; response over it: 502, never passed through unmapped) and
 * gzip/deflate/br bodies are decoded first. The result is sent uncompressed with a correct Content-Length.
 *
 * @example
 * ```ts
 * jsonBody({
 *   request: { set: { '/requestedBy': '${principal.sub}' }, omit: ['/internal'] },
 *   response: { unwrap: '/data', omit: ['/passwordHash'], rename: { '/user_name': '/userName' } },
 * })
 * ```
 */
export const jsonBody = definePolicy({
  name: 'json-body',
  stage: 'transform',
  description: 'Maps JSON request/response bodies (pick, omit, rename, set, wrap, unwrap) with a byte limit.',
  schema: jsonBodySchema,
  create({ limit, request, response }, setup) {
    if (setup.mode === 'report')
      throw coreErrors.config.create(
        'json-body has no report mode: a request body it started reading cannot be forwarded unmapped',
      )
    const mapRequest = request === undefined ? undefined : compileMapping(request)
    const mapResponse = response === undefined ? undefined : compileMapping(response)
    return {
      onRequest:
        mapRequest === undefined
          ? undefined
          : (ex) => {
              const headers = ex.request.headers
              if (!isJsonType(headers['content-type']) || !hasBody(ex)) return undefined
              return transformRequest(ex, mapRequest, limit)
            },
      onResponse:
        mapResponse === undefined
          ? undefined
          : (ex, res) => {
              if (!mappable(ex, res)) return undefined
              return transformResponse(ex, res, mapResponse, limit)
            },
    }
  },
})

function hasBody(ex: Exchange): boolean {
  if (ex.bufferedBody !== undefined) return ex.bufferedBody.length > 0
  const length = ex.request.headers['content-length']
  if (length !== undefined) return length !== '0'
  return ex.request.headers['transfer-encoding'] !== undefined
}

function mappable(ex: Exchange, res: GwResponse): boolean {
  const status = res.status
  return (
    status >= 200 &&
    status < 300 &&
    status !== 204 &&
    status !== 205 &&
    status !== 206 &&
    res.body !== null &&
    ex.request.method !== 'HEAD' &&
    isJsonType(res.headers['content-type'])
  )
}

/** The decision of every request-mapping denial. */
const REQUEST_RULE = { rule: 'request' }

/** Gives a denial thrown while reading the body (a 413 from core) the rule of json-body's own denials. */
function asRequestDenial(error: unknown): never {
  if (!(error instanceof GatewayError) || error.decision !== undefined) throw error
  throw new GatewayError(error.code, error.status, error.message, {
    expose: error.expose,
    headers: error.headers,
    extensions: error.extensions,
    cause: error.cause,
    decision: REQUEST_RULE,
  })
}

async function transformRequest(ex: Exchange, map: JsonMapping, limit: number): Promise<undefined> {
  const headers = ex.request.headers
  const raw = await readBody(ex, { limit }).catch(asRequestDenial)
  const codings = contentCodings(headers['content-encoding'])
  const decoded = codings.length === 0 ? raw : await decodeBody(raw, codings, limit)
  if (decoded === 'too-large')
    throw coreErrors.bodyTooLarge.create(`Decoded request body exceeds ${limit} bytes`, {
      extensions: { limit },
      decision: REQUEST_RULE,
    })
  if (decoded === 'unsupported-encoding')
    throw transformErrors.unsupportedEncoding.create(
      `Content-Encoding '${String(headers['content-encoding'])}' is not supported (gzip, deflate, br)`,
      { headers: { 'accept-encoding': 'gzip, deflate, br' }, decision: REQUEST_RULE },
    )
  if (decoded === 'corrupt')
    throw transformErrors.invalidJson.create('Request body could not be decoded', { decision: REQUEST_RULE })
  if (decoded.length === 0) return undefined
  const doc = parse(decoded)
  if (doc === undefined)
    throw transformErrors.invalidJson.create('Request body is not valid JSON', { decision: REQUEST_RULE })
  const body = Buffer.from(JSON.stringify(map(doc, ex)) ?? 'null')
  for (const name of STALE_AFTER_CHANGE) delete headers[name]
  headers['content-length'] = String(body.length)
  ex.bufferedBody = body
  return undefined
}

async function transformResponse(
  ex: Exchange,
  res: GwResponse,
  map: JsonMapping,
  limit: number,
): Promise<undefined> {
  const headers = res.headers
  const declared = headers['content-length']
  const codings = contentCodings(headers['content-encoding'])
  if (codings.length === 0 && declared !== undefined && Number(declared) > limit) {
    discardBody(res)
    throw tooLarge(limit)
  }
  const raw = await readLimited(res.body, limit)
  if (raw === 'too-large') throw tooLarge(limit)
  const decoded = codings.length === 0 ? raw : await decodeBody(raw, codings, limit)
  if (decoded === 'too-large') throw tooLarge(limit)
  if (decoded === 'unsupported-encoding' || decoded === 'corrupt')
    throw transformErrors.invalidResponse.create(
      `Upstream response with Content-Encoding '${String(headers['content-encoding'])}' could not be decoded`,
    )
  const doc = decoded.length === 0 ? undefined : parse(decoded)
  if (doc === undefined) throw transformErrors.invalidResponse.create('Upstream response is not valid JSON')
  const body = Buffer.from(JSON.stringify(map(doc, ex)) ?? 'null')
  for (const name of STALE_AFTER_CHANGE) delete headers[name]
  headers['content-length'] = body.length
  res.body = body
  return undefined
}

function tooLarge(limit: number) {
  return transformErrors.responseTooLarge.create(`Upstream JSON response exceeds ${limit} bytes`, {
    extensions: { limit },
  })
}

function parse(bytes: Buffer): Json | undefined {
  try {
    return JSON.parse(bytes.toString('utf8')) as Json
  } catch {
    return undefined
  }
}

export { compileMapping, type JsonMapping } from './mapping.js'
export { getAt, type Json, type Pointer, parsePointer, pick, removeAt, setAt } from './pointer.js'
export { type JsonBodyOptions, type JsonMappingOptions, jsonBodySchema, mappingSchema } from './schema.js'
