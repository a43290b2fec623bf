import { coreErrors, definePolicy, type Exchange, readBody } from '@gw/core'
import { Ajv, type ValidateFunction } from 'ajv'
import { securityErrors } from '../errors.js'
import { compileMediaTypes, type ValidationIssue } from '../request-validation/index.js'
import { openapiValidationSchema } from './schema.js'

export { type OpenapiValidationOptions, openapiValidationSchema } from './schema.js'

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const
const DOC_ID = 'gw-openapi-document.json'
const isJson = compileMediaTypes(['application/json', 'application/*+json'])

interface Parameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required?: boolean
  schema?: Record<string, unknown>
}

interface CompiledParameter {
  name: string
  in: 'path' | 'query' | 'header'
  required: boolean
  array: boolean
  validate: ValidateFunction | undefined
}

interface CompiledOperation {
  parameters: CompiledParameter[]
  body: { required: boolean; validate: ValidateFunction | undefined; anyContent: boolean } | undefined
}

interface CompiledPath {
  regex: RegExp
  names: string[]
  operations: Map<string, CompiledOperation>
  allow: string
}

type Json = Record<string, unknown>

function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs)
  if (value === null || typeof value !== 'object') return value
  const out: Json = {}
  for (const [k, v] of Object.entries(value as Json))
    out[k] = k === '$ref' && typeof v === 'string' && v.startsWith('#/') ? `${DOC_ID}${v}` : rewriteRefs(v)
  return out
}

function resolve<T>(doc: Json, value: unknown): T {
  let current = value as Json
  for (let depth = 0; depth < 10 && typeof current?.$ref === 'string'; depth++) {
    const ref = current.$ref as string
    if (!ref.startsWith('#/'))
      throw coreErrors.config.create(`openapi-validation: only local $refs are supported (${ref})`)
    current = ref
      .slice(2)
      .split('/')
      .reduce<unknown>(
        (node, key) => (node as Json | undefined)?.[key.replaceAll('~1', '/').replaceAll('~0', '~')],
        doc,
      ) as Json
    if (current === undefined) throw coreErrors.config.create(`openapi-validation: unresolved $ref ${ref}`)
  }
  return current as T
}

function compileDocument(doc: Json): CompiledPath[] {
  const ajv = new Ajv({ allErrors: true, strict: false, coerceTypes: 'array' })
  ajv.addSchema({ $id: DOC_ID, components: rewriteRefs(doc.components ?? {}) } as Json)
  const compile = (schema: unknown): ValidateFunction | undefined => {
    if (schema === undefined) return undefined
    try {
      return ajv.compile(rewriteRefs(schema) as Json)
    } catch (error) {
      throw coreErrors.config.create(`openapi-validation: invalid schema: ${(error as Error).message}`, {
        cause: error,
      })
    }
  }
  const out: CompiledPath[] = []
  for (const [template, rawItem] of Object.entries((doc.paths ?? {}) as Json)) {
    const item = resolve<Json>(doc, rawItem)
    const names: string[] = []
    const source = template
      .split('/')
      .map((segment) =>
        segment.replace(/\{([^}]+)\}|[^{}]+/g, (m, name: string | undefined) => {
          if (name === undefined) return m.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
          names.push(name)
          return '([^/]+)'
        }),
      )
      .join('/')
    const operations = new Map<string, CompiledOperation>()
    const shared = ((item.parameters ?? []) as unknown[]).map((p) => resolve<Parameter>(doc, p))
    for (const method of METHODS) {
      const op = item[method] as Json | undefined
      if (op === undefined) continue
      const own = ((op.parameters ?? []) as unknown[]).map((p) => resolve<Parameter>(doc, p))
      const merged = new Map<string, Parameter>()
      for (const p of [...shared, ...own]) merged.set(`${p.in}:${p.name}`, p)
      const parameters: CompiledParameter[] = []
      for (const p of merged.values()) {
        if (p.in === 'cookie') continue
        parameters.push({
          name: p.in === 'header' ? p.name.toLowerCase() : p.name,
          in: p.in,
          required: p.in === 'path' || p.required === true,
          array: (resolve<Json>(doc, p.schema ?? {}) as Json).type === 'array',
          validate: compile(p.schema),
        })
      }
      let body: CompiledOperation['body']
      if (op.requestBody !== undefined) {
        const rb = resolve<Json>(doc, op.requestBody)
        const content = (rb.content ?? {}) as Record<string, Json>
        const jsonType = Object.keys(content).find((t) => isJson(t))
        body = {
          required: rb.required === true,
          validate: jsonType === undefined ? undefined : compile(content[jsonType]?.schema),
          anyContent: jsonType === undefined,
        }
      }
      operations.set(method.toUpperCase(), { parameters, body })
    }
    out.push({
      regex: new RegExp(`^${source}/?$`),
      names,
      operations,
      allow: [...operations.keys()].join(', '),
    })
  }
  return out
}

function issuesOf(validate: ValidateFunction, prefix: string): ValidationIssue[] {
  return (validate.errors ?? []).map((e) => {
    let path = prefix + e.instancePath
    if (e.keyword === 'required') path += `/${(e.params as { missingProperty: string }).missingProperty}`
    return { path, message: e.message ?? 'is invalid' }
  })
}

/**
 * Validates requests against an OpenAPI 3 document: the operation must exist (404, or 405 with `Allow`), path,
 * query and header parameters must satisfy their schemas (strings are coerced to the declared types), and JSON
 * request bodies their `application/json` schema. Failures are 400 problem+json with an `errors` list whose paths
 * start with `path/`, `query/`, `header/` or `body`. Everything is compiled with ajv at start-up.
 *
 * @example
 * ```ts
 * import spec from './openapi.json' with { type: 'json' }
 * routes: [{ path: '/api/*', upstream: 'api', policies: [openapiValidation({ document: spec, pathPrefix: '/api' })] }]
 * ```
 */
export const openapiValidation = definePolicy({
  name: 'openapi-validation',
  stage: 'guard',
  description: 'Validation of parameters and JSON bodies against an OpenAPI 3 document.',
  schema: openapiValidationSchema,
  create(options) {
    const paths = compileDocument(options.document)
    const prefix = options.pathPrefix
    const rejectUnknown = options.unknownOperations === 'reject'
    const limit = options.maxBodySize

    const fail = (reason: string, errors: ValidationIssue[]): never => {
      throw securityErrors.invalidRequest.create(
        `Request does not match the API description at ${errors.map((e) => e.path).join(', ')}`,
        { extensions: { errors }, decision: { rule: reason, reason } },
      )
    }

    const validateBody = async (ex: Exchange, validate: ValidateFunction): Promise<void> => {
      const raw = await readBody(ex, { limit, overflow: 'keep' })
      let value: unknown
      try {
        value = JSON.parse(raw.toString('utf8'))
      } catch (error) {
        throw securityErrors.badJson.create(`Request body is not valid JSON: ${(error as Error).message}`, {
          decision: { rule: 'body', reason: 'malformed-json' },
        })
      }
      if (!validate(value)) fail('body', issuesOf(validate, 'body'))
    }

    return {
      onRequest(ex) {
        const request = ex.request
        let path = request.path
        if (prefix !== '') {
          if (!path.startsWith(prefix)) return rejectUnknown ? unknown(ex, undefined) : undefined
          path = path.slice(prefix.length) || '/'
        }
        let match: RegExpExecArray | null = null
        let entry: CompiledPath | undefined
        for (const candidate of paths) {
          match = candidate.regex.exec(path)
          if (match !== null) {
            entry = candidate
            break
          }
        }
        if (entry === undefined || match === null) return rejectUnknown ? unknown(ex, undefined) : undefined
        const operation = entry.operations.get(
          request.method === 'HEAD' && !entry.operations.has('HEAD') ? 'GET' : request.method,
        )
        if (operation === undefined) return rejectUnknown ? unknown(ex, entry.allow) : undefined
        const errors: ValidationIssue[] = []
        for (const p of operation.parameters) {
          let value: unknown
          if (p.in === 'path') {
            const index = entry.names.indexOf(p.name)
            const raw = index === -1 ? undefined : match[index + 1]
            value = raw === undefined ? undefined : safeDecode(raw)
          } else if (p.in === 'query') {
            const all = request.query.getAll(p.name)
            value = all.length === 0 ? undefined : p.array ? all : all[0]
          } else {
            const raw = request.headers[p.name]
            value = p.array && typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw
          }
          if (value === undefined) {
            if (p.required) errors.push({ path: `${p.in}/${p.name}`, message: 'is required' })
            continue
          }
          if (p.validate !== undefined && !p.validate(value))
            errors.push(...issuesOf(p.validate, `${p.in}/${p.name}`))
        }
        if (errors.length > 0) fail('parameters', errors)
        const body = operation.body
        if (body === undefined) return
        const h = request.headers
        const hasBody =
          h['transfer-encoding'] !== undefined ||
          (h['content-length'] !== undefined && h['content-length'] !== '0')
        if (!hasBody) {
          if (body.required) fail('body', [{ path: 'body', message: 'is required' }])
          return
        }
        if (body.anyContent) return
        if (!isJson(h['content-type'])) {
          throw securityErrors.unsupportedMediaType.create('This operation accepts JSON bodies only', {
            decision: { rule: 'body', reason: 'unsupported-media-type' },
          })
        }
        if (body.validate !== undefined) return validateBody(ex, body.validate)
      },
    }

    function unknown(ex: Exchange, allow: string | undefined): never {
      const decision = { rule: 'operation', reason: 'unknown-operation' }
      if (allow !== undefined)
        throw coreErrors.methodNotAllowed.create(`${ex.request.method} is not described for this path`, {
          headers: { allow },
          decision,
        })
      throw securityErrors.unknownOperation.create(
        `${ex.request.method} ${ex.request.path} is not described by the API`,
        { decision },
      )
    }
  },
})

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
