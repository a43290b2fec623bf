import type { Exchange } from '../exchange/exchange.js'
import type { GwResponse } from '../policy/types.js'

/**
 * A named service gw forwards to. The proxy terminal calls `forward` once per request; it resolves with the
 * upstream response (body streamed) or rejects with a `GatewayError` (502, 503, 504).
 *
 * @example
 * ```ts
 * const users = createUpstream('users', { url: 'http://127.0.0.1:3001' }, { log, via: 'gw' })
 * const res = await users.forward(ex)
 * ```
 */
export interface Upstream {
  readonly name: string
  forward(ex: Exchange): Promise<GwResponse>
  /** Closes the pools, letting in-flight requests finish. */
  close(): Promise<void>
}
