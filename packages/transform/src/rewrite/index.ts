import { definePolicy, type Exchange, type z } from '@gw/core'
import { compileTemplate, type TemplateFn } from '../template/index.js'
import { rewriteSchema } from './schema.js'

type PathEdit = (path: string, ex: Exchange) => string
type QueryEdit = (query: URLSearchParams, ex: Exchange) => void

/**
 * Rewrites what is sent upstream: the path by a regular expression with captures (`$1`, `$<name>`) and
 * `${...}` references, query parameters (remove, rename, set, add), and the method. Works on
 * `ex.upstreamPath`, i.e. after the route's `stripPrefix` / `rewrite`; everything is compiled at start-up.
 *
 * @example
 * ```ts
 * rewrite({
 *   path: { pattern: '^/v1/users/(?<id>[^/]+)$', replacement: '/users/$<id>/profile' },
 *   query: { set: { tenant: '${principal.claims.tenant}' }, remove: ['debug'] },
 *   method: 'POST',
 * })
 * ```
 */
export const rewrite = definePolicy({
  name: 'rewrite',
  stage: 'transform',
  description: 'Rewrites the upstream path (regex with captures), query parameters and method.',
  schema: rewriteSchema,
  create(options) {
    const editPath = options.path ? compilePathEdit(options.path) : undefined
    const editQuery = options.query ? compileQueryEdit(options.query) : undefined
    const method = options.method
    return {
      onRequest(ex) {
        if (method !== undefined) ex.request.method = method
        if (editPath === undefined && editQuery === undefined) return
        const target = ex.upstreamPath
        const q = target.indexOf('?')
        let path = q === -1 ? target : target.slice(0, q)
        let search = q === -1 ? '' : target.slice(q + 1)
        if (editPath !== undefined) path = editPath(path, ex)
        if (editQuery !== undefined) {
          const query = new URLSearchParams(search)
          editQuery(query, ex)
          search = query.toString()
        }
        ex.upstreamPath = search === '' ? path : `${path}?${search}`
      },
    }
  },
})

function compilePathEdit(options: NonNullable<z.output<typeof rewriteSchema>['path']>): PathEdit {
  const pattern = new RegExp(options.pattern)
  const render = compileTemplate(options.replacement, { encode: encodePathValue })
  return (path, ex) => {
    if (!pattern.test(path)) return path
    const replacement = render(ex)
    if (replacement === undefined) return path
    const next = path.replace(pattern, replacement)
    return next.charCodeAt(0) === 47 ? next : `/${next}`
  }
}

/** Percent-encodes a substituted value so it stays one path segment (`.` and `..` included). */
function encodePathValue(value: string): string {
  const encoded = encodeURIComponent(value)
  return encoded === '.' || encoded === '..' ? encoded.replaceAll('.', '%2E') : encoded
}

function compileQueryEdit(options: NonNullable<z.output<typeof rewriteSchema>['query']>): QueryEdit {
  const remove = options.remove
  const rename = Object.entries(options.rename)
  const compile = (map: Record<string, string>): [string, TemplateFn][] =>
    Object.entries(map).map(([name, value]) => [name, compileTemplate(value)])
  const set = compile(options.set)
  const add = compile(options.add)
  return (query, ex) => {
    for (const name of remove) query.delete(name)
    for (const [from, to] of rename) {
      const values = query.getAll(from)
      if (values.length === 0) continue
      query.delete(from)
      query.delete(to)
      for (const value of values) query.append(to, value)
    }
    for (const [name, render] of set) {
      const value = render(ex)
      if (value !== undefined) query.set(name, value)
    }
    for (const [name, render] of add) {
      if (query.has(name)) continue
      const value = render(ex)
      if (value !== undefined) query.set(name, value)
    }
  }
}

export { type RewriteOptions, rewriteSchema } from './schema.js'
