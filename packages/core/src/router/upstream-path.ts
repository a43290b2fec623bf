import type { z } from 'zod'
import type { rewriteSchema } from './schema.js'

/** Computes the path and query sent upstream from the request target. Built once per route. */
export type UpstreamPathMapper = (url: string) => string

/**
 * Builds a route's path mapper from `stripPrefix` and `rewrite` (regex compiled once). With neither, the
 * target is forwarded as received.
 *
 * @example
 * ```ts
 * const map = createUpstreamPathMapper('/api', undefined)
 * map('/api/users/7?x=1') // '/users/7?x=1'
 * ```
 */
export function createUpstreamPathMapper(
  stripPrefix: string | undefined,
  rewrite: z.output<typeof rewriteSchema> | undefined,
): UpstreamPathMapper | undefined {
  if (stripPrefix === undefined && rewrite === undefined) return undefined
  const prefix = stripPrefix?.endsWith('/') ? stripPrefix.slice(0, -1) : stripPrefix
  const regex = rewrite ? new RegExp(rewrite.pattern) : undefined
  const replacement = rewrite?.replacement ?? ''
  return (url) => {
    const q = url.indexOf('?')
    let path = q === -1 ? url : url.slice(0, q)
    if (
      prefix &&
      path.startsWith(prefix) &&
      (path.length === prefix.length || path.charCodeAt(prefix.length) === 47)
    ) {
      path = path.slice(prefix.length) || '/'
    }
    if (regex) path = path.replace(regex, replacement)
    if (path.charCodeAt(0) !== 47) path = '/' + path
    return q === -1 ? path : path + url.slice(q)
  }
}
