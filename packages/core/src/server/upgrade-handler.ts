import { randomUUID } from 'node:crypto'
import {
  type IncomingMessage,
  ServerResponse,
  STATUS_CODES,
  validateHeaderName,
  validateHeaderValue,
} from 'node:http'
import type { Socket } from 'node:net'
import { pipeline, Readable } from 'node:stream'
import { coreErrors, type GatewayError } from '../errors.js'
import { Exchange, GwRequest, type RouteInfo, UNMATCHED_ROUTE } from '../exchange/exchange.js'
import type { CompiledChain } from '../policy/chain.js'
import { buildOutcome, completeExchange, discardBody, errorResponse, runExchange } from '../policy/runner.js'
import type { GwResponse } from '../policy/types.js'
import { upgradeTunnelKey } from '../upstream/websocket.js'
import { type HandlerRuntime, protocolOf } from './request-handler.js'
import { acceptRequestId, hasDotSegment, validHost } from './request-meta.js'

/** Open upgraded connections (client sockets), closed when the gateway stops. */
export type UpgradedSockets = Set<Socket>

/**
 * Builds the node:http `upgrade` listener. `Upgrade: websocket` requests are routed like any request; the
 * gateway-level and route-level `onRequest` policies run on the upgrade request (a denial is answered with a
 * normal HTTP error response and the connection closed); the route's upstream then receives the handshake on a
 * fresh connection, and on `101` the two sockets are spliced with backpressure (`pipe`), each side's end or
 * error closing the other. `onResponse` runs over the 101 head, `onComplete` once when the tunnel closes.
 * Other upgrade protocols (`h2c`, ...) are served as plain HTTP requests by `httpHandler`.
 *
 * @example
 * ```ts
 * server.on('upgrade', createUpgradeHandler(runtime, handler, new Set()))
 * ```
 */
export function createUpgradeHandler(
  rt: HandlerRuntime,
  httpHandler: (req: IncomingMessage, res: ServerResponse) => void,
  sockets: UpgradedSockets,
): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  return function handleUpgrade(req, socket, head) {
    const protocol = req.headers.upgrade
    if (typeof protocol !== 'string' || protocol.toLowerCase() !== 'websocket') {
      serveAsHttp(req, socket, head, httpHandler)
      return
    }
    socket.setNoDelay(true)
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', noop)
    const url = req.url ?? '/'
    const method = req.method ?? 'GET'
    const host = validHost(req)
    const peer = req.socket.remoteAddress ?? ''
    const request = new GwRequest({
      method,
      url,
      headers: req.headers,
      body: req,
      ip: rt.addresses.clientIp(peer, req.headers['x-forwarded-for']),
      protocol: protocolOf(req, rt.addresses.isTrusted(peer)),
      host: host ?? '',
    })
    let early: GatewayError | undefined
    if (rt.state.draining) early = coreErrors.shuttingDown.create('The gateway is shutting down')
    else if (url.charCodeAt(0) !== 47)
      early = coreErrors.badRequest.create('Upgrade requests must be origin-form')
    else if (host === undefined)
      early = coreErrors.badHost.create('Missing, invalid or duplicate Host header')
    else if (method !== 'GET') early = coreErrors.badRequest.create('WebSocket upgrades use GET')
    else if (hasDotSegment(request.path))
      early = coreErrors.badRequest.create('Path must not contain dot-segments')
    const id = acceptRequestId(req.headers[rt.config.requestIdHeader]) ?? randomUUID()
    const pipeline = rt.pipeline
    let chain: CompiledChain = pipeline.bare
    let route: RouteInfo = UNMATCHED_ROUTE
    let upstreamPath = url
    if (early === undefined) {
      const match = pipeline.router.find(method, url, host)
      if (match === null) chain = pipeline.fallback
      else {
        const compiled = match.route.value
        chain = compiled.upgradeChain ?? compiled.chain
        route = {
          id: match.route.id,
          pattern: compiled.pattern,
          params: match.params,
          upstream: compiled.upstream,
        }
        if (compiled.mapPath !== undefined) upstreamPath = compiled.mapPath(url)
      }
    }
    const ex = new Exchange({ id, request, route, upstreamPath, clock: rt.clock, log: rt.log })
    const onEarlyClose = (): void => ex.abort()
    socket.once('close', onEarlyClose)
    const done = (response: GwResponse): void => {
      socket.off('close', onEarlyClose)
      respond(rt, ex, chain, socket, head, response)
    }
    if (early !== undefined) {
      done(errorResponse(ex, early, undefined))
      return
    }
    const result = runExchange(ex, chain)
    if (result instanceof Promise)
      result.then(done, (error: unknown) => done(errorResponse(ex, error, undefined)))
    else done(result)
  }
}

function respond(
  rt: HandlerRuntime,
  ex: Exchange,
  chain: CompiledChain,
  socket: Socket,
  clientHead: Buffer,
  response: GwResponse,
): void {
  const tunnel = ex.get(upgradeTunnelKey)
  response.headers[rt.config.requestIdHeader] = ex.id
  if (ex.aborted || socket.destroyed) {
    tunnel?.socket.destroy()
    discardBody(response)
    completeExchange(ex, chain, buildOutcome(ex, chain, response.status, true, 0))
    return
  }
  if (response.status !== 101 || tunnel === undefined) {
    tunnel?.socket.destroy()
    writeResponse(socket, response)
    socket.once('close', () =>
      completeExchange(ex, chain, buildOutcome(ex, chain, response.status, !socket.writableFinished, 0)),
    )
    return
  }
  const upstream = tunnel.socket
  upstream.on('error', noop)
  const written = socket.bytesWritten
  socket.write(serializeHead(101, response.headers, false))
  if (tunnel.head.length > 0) socket.write(tunnel.head)
  if (clientHead.length > 0) upstream.write(clientHead)
  socket.pipe(upstream)
  upstream.pipe(socket)
  let closed = 0
  const onClose = (): void => {
    socket.destroy()
    upstream.destroy()
    if (++closed === 2)
      completeExchange(ex, chain, buildOutcome(ex, chain, 101, false, socket.bytesWritten - written))
  }
  socket.once('close', onClose)
  upstream.once('close', onClose)
  ex.log.debug({ route: ex.route.id }, 'websocket tunnel open')
}

function serveAsHttp(
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  httpHandler: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  if (head.length > 0) socket.unshift(head)
  const res = new ServerResponse(req)
  res.shouldKeepAlive = false
  res.assignSocket(socket)
  res.once('finish', () => {
    res.detachSocket(socket)
    socket.end()
  })
  httpHandler(req, res)
}

function serializeHead(status: number, headers: GwResponse['headers'], close: boolean): string {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    if (close && (name === 'connection' || name === 'transfer-encoding' || name === 'keep-alive')) continue
    const values = Array.isArray(value) ? value : [String(value)]
    for (const v of values) {
      try {
        validateHeaderName(name)
        validateHeaderValue(name, v)
      } catch {
        continue
      }
      head += `${name}: ${v}\r\n`
    }
  }
  if (close) head += 'connection: close\r\n'
  return head + '\r\n'
}

function writeResponse(socket: Socket, response: GwResponse): void {
  const body = response.body
  const head = serializeHead(response.status, response.headers, true)
  if (body === null || body === undefined) socket.end(head)
  else if (typeof body === 'string' || body instanceof Uint8Array) {
    socket.write(head)
    socket.end(body)
  } else if (body instanceof Readable) {
    socket.write(head)
    pipeline(body, socket, noop)
  } else socket.end(head)
}

const noop = (): void => {}
