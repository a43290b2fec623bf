import { Readable } from 'node:stream'
import type { Exchange } from '../exchange/exchange.js'
import type { GwResponse } from '../policy/types.js'
import { WeightedRoundRobinBalancer } from './balancers/weighted-round-robin.js'
import { hasRequestBody } from './body.js'
import { deriveExchange } from './directory.js'
import type { Upstream } from './types.js'

/** One branch of a traffic split. */
export interface SplitBranch {
  readonly upstream: Upstream
  readonly weight: number
}

interface Branch {
  readonly url: string
  readonly weight: number
  readonly inflight: number
  readonly upstream: Upstream
  decayedEwma(): number
}

/**
 * Builds a chooser that spreads requests over upstreams by weight with smooth weighted round-robin: exact
 * shares, no clustering (a 95/5 canary gets one request in twenty, evenly spaced). Zero weights are dropped.
 *
 * @example
 * ```ts
 * const choose = createSplit([{ upstream: stable, weight: 95 }, { upstream: canary, weight: 5 }])
 * const upstream = choose() // stable 19 times out of 20
 * ```
 */
export function createSplit(branches: readonly SplitBranch[]): () => Upstream {
  const wrr = new WeightedRoundRobinBalancer<Branch>()
  const list = branches
    .filter((b) => b.weight > 0)
    .map((b) => ({
      url: b.upstream.name,
      weight: b.weight,
      inflight: 0,
      upstream: b.upstream,
      decayedEwma: () => 0,
    }))
  if (list.length === 0) throw new Error('a traffic split needs at least one branch with a positive weight')
  wrr.update(list)
  return () => wrr.pick(undefined, undefined)!.upstream
}

/**
 * Sends a copy of the request to a shadow upstream, fire-and-forget: it returns at once, the shadow's answer is
 * read and discarded, its failures are logged at debug and never reach the client. A request whose body is
 * being streamed (not buffered by a policy) is not mirrored, since teeing the stream would couple the client's
 * upload to the shadow's speed. Returns whether a copy was sent.
 *
 * @example
 * ```ts
 * mirrorRequest(ex, shadow)
 * return primary.forward(ex)
 * ```
 */
export function mirrorRequest(ex: Exchange, shadow: Upstream): boolean {
  const request = ex.request
  if (ex.bufferedBody === undefined && hasRequestBody(request.headers, request.body)) return false
  const copy = deriveExchange(ex, { method: request.method, body: ex.bufferedBody })
  shadow.forward(copy).then(discard, (error: unknown) => {
    ex.log.debug({ upstream: shadow.name, err: error }, 'mirrored request failed (ignored)')
  })
  return true
}

function discard(res: GwResponse): void {
  const body = res.body
  if (body instanceof Readable) {
    body.on('error', () => {})
    body.resume()
  }
}
