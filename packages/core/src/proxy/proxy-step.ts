import type { RouteConfig } from '../gateway-types.js'
import type { Terminal } from '../policy/chain.js'
import { createSplit, mirrorRequest } from '../upstream/traffic.js'
import type { Upstream } from '../upstream/types.js'

/**
 * The proxy step: where a request leaves the gateway. Built once per route at start-up, it is the terminal
 * of the route's chain, run by the policy runner after every `onRequest` continued: a local `handler`, else
 * the route's upstream (`upstream.forward`, which resolves at the response head with a body that streams
 * straight into the client response unless a policy reads it), or a weighted `split` over several upstreams;
 * with `mirror`, a share of requests is also copied, fire-and-forget, to a shadow upstream.
 *
 * @example
 * ```ts
 * const terminal = createProxyStep({ path: '/*', upstream: 'users' }, new Map([['users', users]]))
 * const res = await terminal(ex)
 * ```
 */
export function createProxyStep(
  route: RouteConfig,
  upstreams: Map<string, Upstream>,
  random: () => number = Math.random,
): Terminal {
  if (route.handler !== undefined) return route.handler
  const options = route.retryNonIdempotent === true ? { retryNonIdempotent: true } : undefined
  let proxy: Terminal
  if (route.split !== undefined) {
    const choose = createSplit(
      route.split.map((b) => ({ upstream: upstreams.get(b.upstream)!, weight: b.weight })),
    )
    proxy = (ex) => {
      const upstream = choose()
      if (ex.route.upstream !== upstream.name) ex.route = { ...ex.route, upstream: upstream.name }
      return upstream.forward(ex, options)
    }
  } else {
    const upstream = upstreams.get(route.upstream!)!
    proxy = options === undefined ? (ex) => upstream.forward(ex) : (ex) => upstream.forward(ex, options)
  }
  const mirror = route.mirror
  if (mirror === undefined) return proxy
  const shadow = upstreams.get(mirror.upstream)!
  const share = (mirror.percent ?? 100) / 100
  return (ex) => {
    if (share >= 1 || random() < share) mirrorRequest(ex, shadow)
    return proxy(ex)
  }
}
