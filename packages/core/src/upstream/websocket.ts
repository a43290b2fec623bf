import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { request as httpsRequest } from 'node:https'
import type { Socket } from 'node:net'
import type { ConnectionOptions } from 'node:tls'
import { coreErrors } from '../errors.js'
import type { Exchange } from '../exchange/exchange.js'
import type { GwResponse, ResponseHeaders } from '../policy/types.js'
import { createStateKey, type StateKey } from '../state.js'
import { prepareResponseHeaders, type UpstreamRequestHeaders } from './headers.js'
import { mapUpstreamError } from './map-error.js'

/** The upstream side of an accepted upgrade: its socket and any bytes it sent after the 101 head. */
export interface UpgradeTunnel {
  readonly socket: Socket
  readonly head: Buffer
}

/**
 * Where the upgrade terminal leaves the upstream socket of a `101 Switching Protocols` answer; the server's
 * upgrade handler takes it from there (after the `onResponse` policies ran) and splices the two sockets.
 *
 * @example
 * ```ts
 * const tunnel = ex.get(upgradeTunnelKey) // set only once the upstream accepted the upgrade
 * ```
 */
export const upgradeTunnelKey: StateKey<UpgradeTunnel> = createStateKey<UpgradeTunnel>('gw.upgrade-tunnel')

/** Where and how to open an upgrade request upstream. */
export interface UpgradeTarget {
  /** `http://host:port` of the target. */
  readonly origin: string
  /** Path (with query) to request. */
  readonly path: string
  /** Headers to send (hop-by-hop already removed); `Connection` / `Upgrade` are added. */
  readonly headers: UpstreamRequestHeaders
  /** Time allowed for the upstream to answer the handshake. */
  readonly timeout: number
  /** Upstream name, for error messages. */
  readonly upstream: string
  /** TLS options of an `https://` target (CA, SNI name, client certificate). */
  readonly tls?: ConnectionOptions | undefined
}

/**
 * Sends the client's upgrade request (e.g. `Upgrade: websocket`) to a target on a fresh connection. A `101`
 * answer resolves with the (cleaned) 101 head and leaves the upstream socket under {@link upgradeTunnelKey}; any
 * other answer is returned as a normal response (body streamed); failures reject with the mapped
 * `GatewayError` (502 / 504), client aborts with 499.
 *
 * @example
 * ```ts
 * const res = await openUpgrade(ex, { origin, path: ex.upstreamPath, headers, timeout: 30_000, upstream: 'chat' }, '1.1 gw')
 * if (res.status === 101) ex.get(upgradeTunnelKey) // the upstream socket
 * ```
 */
export function openUpgrade(ex: Exchange, target: UpgradeTarget, via: string): Promise<GwResponse> {
  const url = new URL(target.origin)
  const headers = target.headers
  headers.connection = 'Upgrade'
  headers.upgrade = String(ex.request.headers.upgrade ?? 'websocket')
  const https = url.protocol === 'https:'
  const send = https ? httpsRequest : httpRequest
  return new Promise<GwResponse>((resolve, reject) => {
    let settled = false
    const req = send({
      ...(https ? target.tls : undefined),
      host: url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port === '' ? undefined : Number(url.port),
      method: ex.request.method,
      path: target.path,
      headers,
      agent: false,
      signal: ex.signal,
    })
    const timer =
      target.timeout > 0
        ? setTimeout(() => {
            req.destroy(
              coreErrors.upstreamTimeout.create(
                `Upstream '${target.upstream}' did not answer the upgrade in time`,
              ),
            )
          }, target.timeout)
        : undefined
    req.once('upgrade', (res, socket: Socket, head: Buffer) => {
      clearTimeout(timer)
      settled = true
      socket.setNoDelay(true)
      ex.set(upgradeTunnelKey, { socket, head })
      const out = prepareResponseHeaders(res.headers as IncomingHttpHeaders, via) as ResponseHeaders
      out.connection = 'Upgrade'
      out.upgrade = String(res.headers.upgrade ?? headers.upgrade)
      resolve({ status: 101, headers: out, body: null })
    })
    req.once('response', (res) => {
      clearTimeout(timer)
      settled = true
      const out = prepareResponseHeaders(res.headers as IncomingHttpHeaders, via) as ResponseHeaders
      resolve({ status: res.statusCode ?? 502, headers: out, body: res })
    })
    req.once('error', (error) => {
      clearTimeout(timer)
      if (settled) return
      settled = true
      if (ex.aborted) reject(coreErrors.clientAborted.create(undefined, { cause: error }))
      else reject(mapUpstreamError(error, target.upstream).error)
    })
    req.end()
  })
}
