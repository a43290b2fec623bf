import { coreErrors, definePolicy, type Exchange, readBody } from '@gw/core'
import { Ajv, type ErrorObject } from 'ajv'
import { securityErrors } from '../errors.js'
import { type RequestValidationOptions, requestValidationSchema } from './schema.js'

export { type RequestValidationOptions, requestValidationSchema } from './schema.js'

/** One failing location of a JSON body, as listed in the 400 problem document's `errors` member. */
export interface ValidationIssue {
  /** JSON Pointer (RFC 6901) of the failing value; `` is the whole body. */
  path: string
  message: string
}

/**
 * Compiles a media-type allow-list (`application/json`, `text/*`, `application/*+json`, `*\/*`) into a matcher
 * of a request's `Content-Type` (parameters and case ignored).
 *
 * @example
 * ```ts
 * const allowed = compileMediaTypes(['application/json', 'application/*+json'])
 * allowed('application/problem+json; charset=utf-8') // true
 * ```
 */
export function compileMediaTypes(patterns: readonly string[]): (contentType: string | undefined) => boolean {
  const exact = new Set<string>()
  const anySubtype = new Set<string>()
  const suffixes: Array<[string, string]> = []
  let any = false
  for (const pattern of patterns) {
    const [type, subtype] = pattern.toLowerCase().split('/') as [string, string]
    if (type === '*' && subtype === '*') any = true
    else if (subtype === '*') anySubtype.add(type)
    else if (subtype.startsWith('*+')) suffixes.push([type, subtype.slice(1)])
    else exact.add(`${type}/${subtype}`)
  }
  return (contentType) => {
    if (contentType === undefined) return false
    const mediaType = essence(contentType)
    if (mediaType === '' || !mediaType.includes('/')) return false
    if (any || exact.has(mediaType)) return true
    const slash = mediaType.indexOf('/')
    const type = mediaType.slice(0, slash)
    if (anySubtype.has(type)) return true
    for (const [t, suffix] of suffixes) if (t === type && mediaType.endsWith(suffix)) return true
    return false
  }
}

function essence(contentType: string): string {
  const semi = contentType.indexOf(';')
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

const isJson = compileMediaTypes(['application/json', 'application/*+json'])

/**
 * Validates requests before they reach the upstream: URL length (414), header count and size (431), method
 * allow-list (405), body size (413: a declared `Content-Length` above the limit is refused without reading the
 * body; chunked bodies are cut off as soon as they exceed it), content-type allow-list (415), and JSON bodies
 * against a JSON Schema (400 problem+json with an `errors` list of JSON Pointers). After refusing a body it has
 * not read, the policy closes the connection once the 413 is sent, so the rest is never read. Malformed JSON is a 400,
 * never a 500. Checks that need no body stay synchronous.
 *
 * @example
 * ```ts
 * requestValidation({
 *   maxBodySize: '10mb',
 *   contentTypes: ['application/json'],
 *   jsonSchema: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
 * })
 * ```
 */
export const requestValidation = definePolicy({
  name: 'request-validation',
  stage: 'guard',
  description: 'Request format and size limits: URL, headers, method, body size, content type, JSON Schema.',
  schema: requestValidationSchema,
  create(options: RequestValidationOptions) {
    const { maxBodySize, maxUrlLength, maxHeaderCount, maxHeaderSize } = options
    const methods = options.methods === undefined ? undefined : new Set(options.methods)
    const allowHeader = options.methods?.join(', ')
    const contentTypeAllowed =
      options.contentTypes === undefined ? undefined : compileMediaTypes(options.contentTypes)
    let validate: ReturnType<Ajv['compile']> | undefined
    if (options.jsonSchema !== undefined) {
      const ajv = new Ajv({ allErrors: true, strict: false })
      try {
        validate = ajv.compile(options.jsonSchema)
      } catch (error) {
        throw coreErrors.config.create(
          `request-validation: invalid jsonSchema: ${(error as Error).message}`,
          { cause: error },
        )
      }
    }
    const schemaMethods = new Set(options.jsonSchemaMethods)
    const validateJson = async (ex: Exchange, check: NonNullable<typeof validate>): Promise<void> => {
      const body = await readBody(ex, { limit: maxBodySize, overflow: 'keep' })
      let value: unknown
      try {
        value = JSON.parse(body.toString('utf8'))
      } catch (error) {
        throw securityErrors.badJson.create(`Request body is not valid JSON: ${(error as Error).message}`, {
          decision: { rule: 'json-schema', reason: 'malformed-json' },
        })
      }
      if (!check(value)) {
        const errors = toIssues(check.errors ?? [])
        throw securityErrors.invalidBody.create(
          `Request body failed validation at ${errors.map((e) => e.path || '/').join(', ')}`,
          { extensions: { errors }, decision: { rule: 'json-schema', reason: 'schema-mismatch' } },
        )
      }
    }

    return {
      onRequest(ex) {
        const request = ex.request
        if (request.url.length > maxUrlLength) {
          throw securityErrors.uriTooLong.create(`Request target exceeds ${maxUrlLength} bytes`, {
            decision: { rule: 'url-length', reason: 'uri-too-long' },
          })
        }
        checkHeaders(ex, maxHeaderCount, maxHeaderSize)
        if (methods !== undefined && !methods.has(request.method)) {
          throw coreErrors.methodNotAllowed.create(`${request.method} is not allowed here`, {
            headers: { allow: allowHeader! },
            decision: { rule: 'method', reason: 'method-not-allowed' },
          })
        }
        const headers = request.headers
        const declared = headers['content-length']
        const chunked = headers['transfer-encoding'] !== undefined
        const hasBody = chunked || (declared !== undefined && declared !== '0')
        if (declared !== undefined && Number(declared) > maxBodySize) {
          ex.closeConnection = true
          throw coreErrors.bodyTooLarge.create(`Request body exceeds ${maxBodySize} bytes`, {
            extensions: { limit: maxBodySize },
            decision: { rule: 'body-size', reason: 'body-too-large' },
          })
        }
        const contentType = headers['content-type']
        if (hasBody && contentTypeAllowed !== undefined && !contentTypeAllowed(contentType)) {
          throw securityErrors.unsupportedMediaType.create(
            contentType === undefined
              ? 'Requests with a body need a Content-Type'
              : `Content-Type ${essence(contentType)} is not accepted here`,
            { decision: { rule: 'content-type', reason: 'unsupported-media-type' } },
          )
        }
        if (validate !== undefined) {
          if (hasBody) {
            if (!isJson(contentType)) {
              throw securityErrors.unsupportedMediaType.create('This endpoint accepts JSON bodies only', {
                decision: { rule: 'json-schema', reason: 'unsupported-media-type' },
              })
            }
            return validateJson(ex, validate)
          }
          if (schemaMethods.has(request.method)) {
            throw securityErrors.invalidBody.create('A JSON request body is required', {
              extensions: { errors: [{ path: '', message: 'body is required' }] },
              decision: { rule: 'json-schema', reason: 'missing-body' },
            })
          }
          return
        }
        if (chunked && declared === undefined)
          return readBody(ex, { limit: maxBodySize, overflow: 'keep' }).then(noop)
      },
    }
  },
})

function noop(): void {}

function toIssues(errors: ErrorObject[]): ValidationIssue[] {
  return errors.map((e) => {
    let path = e.instancePath
    let message = e.message ?? 'is invalid'
    if (e.keyword === 'required') {
      const missing = (e.params as { missingProperty: string }).missingProperty
      path = `${path}/${missing.replaceAll('~', '~0').replaceAll('/', '~1')}`
      message = 'is required'
    } else if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperty: string }).additionalProperty
      path = `${path}/${extra.replaceAll('~', '~0').replaceAll('/', '~1')}`
      message = 'is not allowed'
    }
    return { path, message }
  })
}

function checkHeaders(ex: Exchange, maxCount: number, maxSize: number): void {
  const raw = (ex.request.body as { rawHeaders?: string[] }).rawHeaders
  if (raw !== undefined) {
    if (raw.length / 2 > maxCount) {
      throw coreErrors.headersTooLarge.create(`More than ${maxCount} request header fields`, {
        decision: { rule: 'header-count', reason: 'too-many-headers' },
      })
    }
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.length + raw[i + 1]!.length > maxSize) {
        throw coreErrors.headersTooLarge.create(
          `Request header ${raw[i]!.toLowerCase()} exceeds ${maxSize} bytes`,
          { decision: { rule: 'header-size', reason: 'header-too-large' } },
        )
      }
    }
    return
  }
  const headers = ex.request.headers
  let count = 0
  for (const name in headers) {
    const value = headers[name]
    const values = Array.isArray(value) ? value : [value ?? '']
    for (const v of values) {
      count++
      if (name.length + v.length > maxSize) {
        throw coreErrors.headersTooLarge.create(`Request header ${name} exceeds ${maxSize} bytes`, {
          decision: { rule: 'header-size', reason: 'header-too-large' },
        })
      }
    }
  }
  if (count > maxCount) {
    throw coreErrors.headersTooLarge.create(`More than ${maxCount} request header fields`, {
      decision: { rule: 'header-count', reason: 'too-many-headers' },
    })
  }
}
