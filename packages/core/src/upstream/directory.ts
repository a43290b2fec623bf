import { Readable } from 'node:stream'
import { coreErrors } from '../errors.js'
import { Exchange, GwRequest } from '../exchange/exchange.js'
import type { GwResponse, SubrequestInit, UpstreamDirectory } from '../policy/types.js'
import type { Upstream } from './types.js'

const NO_BODY: readonly Buffer[] = []

/**
 * Builds the exchange of a request the gateway sends on its own behalf (a mirror copy, a cache refresh, an
 * aggregation call) from the client's: same id, route, client ip, protocol, host and logger; method, headers,
 * upstream path and body from `init`. It has its own empty body stream and is never aborted by the client.
 *
 * @example
 * ```ts
 * const copy = deriveExchange(ex, { method: 'GET', headers: { ...ex.request.headers } })
 * await shadow.forward(copy)
 * ```
 */
export function deriveExchange(ex: Exchange, init: SubrequestInit = {}): Exchange {
  const request = ex.request
  const derived = new Exchange({
    id: ex.id,
    request: new GwRequest({
      method: init.method ?? 'GET',
      url: request.url,
      headers: init.headers ?? { ...request.headers },
      body: Readable.from(NO_BODY),
      ip: request.ip,
      protocol: request.protocol,
      host: request.host,
    }),
    route: ex.route,
    upstreamPath: init.path ?? ex.upstreamPath,
    clock: { now: () => ex.now() },
    log: ex.log,
  })
  if (init.body !== undefined) derived.bufferedBody = init.body
  return derived
}

/**
 * The `upstreams` resource: resolves names with `resolve` at call time (the gateway passes a lookup into the
 * configuration serving now) and forwards derived requests through the upstream's own `forward`.
 *
 * @example
 * ```ts
 * const upstreams = createUpstreamDirectory((name) => current.upstreams.get(name))
 * const res = await upstreams.forward(ex, { upstream: 'users', path: '/users/1' })
 * ```
 */
export function createUpstreamDirectory(resolve: (name: string) => Upstream | undefined): UpstreamDirectory {
  return {
    has: (name) => resolve(name) !== undefined,
    forward(ex: Exchange, init: SubrequestInit = {}): Promise<GwResponse> {
      const name = init.upstream ?? ex.route.upstream
      const upstream = name === undefined ? undefined : resolve(name)
      if (upstream === undefined) {
        return Promise.reject(
          coreErrors.noUpstream.create(
            name === undefined ? 'The route has no upstream' : `No upstream named '${name}'`,
          ),
        )
      }
      const derived = deriveExchange(ex, init)
      if (derived.route.upstream !== name) derived.route = { ...derived.route, upstream: name }
      return upstream.forward(derived)
    },
  }
}
