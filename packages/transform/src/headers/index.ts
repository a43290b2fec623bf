import { definePolicy, type Exchange, type z } from '@gw/core'
import { compileTemplate, type TemplateFn } from '../template/index.js'
import { headersSchema } from './schema.js'

type HeaderBag = Record<string, string | string[] | number | undefined>
type Op = readonly [name: string, render: TemplateFn]

const INVALID_VALUE = /[^\t\x20-\x7e\x80-\xff]/

/**
 * A compiled list of header edits, applied in place to a plain lowercase header object.
 *
 * @example
 * ```ts
 * const edit: HeaderEditor = compileHeaderEdits(headersSchema.parse({ remove: ['server'] }))
 * ```
 */
export type HeaderEditor = (headers: HeaderBag, ex: Exchange) => void

/**
 * Compiles header options (remove, rename, set, append, add; applied in that order) into one editor
 * function. Values are templates compiled here, once; a value whose template has a missing reference, or
 * that renders characters not allowed in a header field (CR, LF, NUL, ...), is skipped.
 *
 * @example
 * ```ts
 * const edit = compileHeaderEdits(headersSchema.parse({ set: { 'x-user': '${principal.sub}' } }))
 * edit(ex.request.headers, ex)
 * ```
 */
export function compileHeaderEdits(options: z.output<typeof headersSchema>): HeaderEditor {
  const remove = options.remove
  const rename = Object.entries(options.rename)
  const compile = (map: Record<string, string>): Op[] =>
    Object.entries(map).map(([name, value]) => [name, compileTemplate(value)] as const)
  const set = compile(options.set)
  const append = compile(options.append)
  const add = compile(options.add)
  return (headers, ex) => {
    for (const name of remove) delete headers[name]
    for (const [from, to] of rename) {
      const value = headers[from]
      if (value === undefined) continue
      delete headers[from]
      headers[to] = value
    }
    for (const [name, render] of set) {
      const value = render(ex)
      if (value !== undefined && !INVALID_VALUE.test(value)) headers[name] = value
    }
    for (const [name, render] of append) {
      const value = render(ex)
      if (value === undefined || INVALID_VALUE.test(value)) continue
      const current = headers[name]
      if (current === undefined || current === '') headers[name] = value
      else if (Array.isArray(current)) headers[name] = [...current, value]
      else if (name === 'set-cookie') headers[name] = [String(current), value]
      else headers[name] = `${current}, ${value}`
    }
    for (const [name, render] of add) {
      if (headers[name] !== undefined) continue
      const value = render(ex)
      if (value !== undefined && !INVALID_VALUE.test(value)) headers[name] = value
    }
  }
}

/**
 * Edits the request headers sent upstream: remove, rename, set, append, add (in that order). Values are
 * templates over the request and state (`${request.id}`, `${principal.sub}`, `${route.params.id}`,
 * `${env.VAR}`), compiled once at start-up.
 *
 * @example
 * ```ts
 * requestHeaders({
 *   set: { 'x-user-id': '${principal.sub}', 'x-request-id': '${request.id}' },
 *   remove: ['cookie'],
 * })
 * ```
 */
export const requestHeaders = definePolicy({
  name: 'request-headers',
  stage: 'transform',
  description:
    'Adds, sets, appends, removes and renames request headers sent upstream; values are templates.',
  schema: headersSchema,
  create(options) {
    const edit = compileHeaderEdits(options)
    return {
      onRequest(ex) {
        edit(ex.request.headers, ex)
      },
    }
  },
})

/**
 * Edits the response headers sent to the client (upstream responses, local replies and errors alike):
 * remove, rename, set, append, add (in that order), with templated values.
 *
 * @example
 * ```ts
 * responseHeaders({ set: { 'x-served-by': 'gw-${env.HOSTNAME:-local}' }, remove: ['server', 'x-powered-by'] })
 * ```
 */
export const responseHeaders = definePolicy({
  name: 'response-headers',
  stage: 'transform',
  description: 'Adds, sets, appends, removes and renames response headers; values are templates.',
  schema: headersSchema,
  create(options) {
    const edit = compileHeaderEdits(options)
    return {
      onResponse(ex, res) {
        edit(res.headers, ex)
      },
    }
  },
})

export { type HeadersOptions, headersSchema } from './schema.js'
