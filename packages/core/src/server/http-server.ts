import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerOptions,
  type ServerResponse,
} from 'node:http'
import type { Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { finished } from 'node:stream'
import { coreErrors, type GatewayError, renderProblem } from '../errors.js'
import type { Logger } from '../logger.js'
import type { ServerConfig } from './schema.js'

/**
 * Creates the node:http server with gw's limits and a `clientError` handler that answers malformed requests
 * with problem+json (400, 408, 431) instead of node's bare replies.
 *
 * @example
 * ```ts
 * const server = createHttpServer(serverConfig, handler, log)
 * ```
 */
export function createHttpServer(
  config: ServerConfig,
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  log: Logger,
): Server {
  const server = createServer(httpServerOptions(config), handler)
  if (config.maxConnections > 0) server.maxConnections = config.maxConnections
  server.maxRequestsPerSocket = config.maxRequestsPerSocket
  answerProtocolErrors(server, log)
  return server
}

/**
 * Makes an HTTP/1.x server (node:http, node:https, or node:http2 with `allowHTTP1`) answer what never reaches
 * the request handler: malformed requests ({@link onClientError}) and `CONNECT` ({@link onConnectRequest}).
 *
 * @example
 * ```ts
 * answerProtocolErrors(https.createServer(options, handler), log)
 * ```
 */
export function answerProtocolErrors(server: NodeJS.EventEmitter, log: Logger): void {
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) =>
    onClientError(error, socket, log),
  )
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => onConnectRequest(socket, log))
}

/**
 * The node:http server options gw derives from its server config (shared by the HTTP and HTTPS listeners).
 *
 * @example
 * ```ts
 * https.createServer({ ...httpServerOptions(config), cert, key }, handler)
 * ```
 */
export function httpServerOptions(config: ServerConfig): ServerOptions {
  return {
    headersTimeout: config.headersTimeout,
    requestTimeout: config.requestTimeout,
    connectionsCheckingInterval: checkingInterval(config),
    keepAliveTimeout: config.keepAliveTimeout,
    maxHeaderSize: config.maxHeaderSize,
    // The request handler rejects a missing Host itself, with problem+json (node's own reply is a bare 400).
    requireHostHeader: false,
    joinDuplicateHeaders: false,
    noDelay: true,
  }
}

/**
 * How often node checks connections against the headers and request timeouts. Node's default (30 s) lets a
 * slowloris client hold a connection up to 30 s past `headersTimeout`; a quarter of the shorter timeout,
 * between 50 ms and 1 s, bounds that overshoot.
 */
function checkingInterval(config: ServerConfig): number {
  const timeouts = [config.headersTimeout, config.requestTimeout].filter((t) => t > 0)
  if (timeouts.length === 0) return 30_000
  return Math.min(1000, Math.max(50, Math.floor(Math.min(...timeouts) / 4)))
}

/**
 * Answers a malformed HTTP/1.x request on its socket with a problem+json 400, 408 or 431 and closes it; resets
 * and sockets that are no longer writable are just destroyed. When the bad bytes follow a complete request whose
 * response is still being written (pipelining), that response finishes first and the connection closes after
 * it, so no error reply is spliced into or answered for the wrong request. Never throws.
 *
 * @example
 * ```ts
 * server.on('clientError', (error, socket) => onClientError(error, socket, log))
 * ```
 */
export function onClientError(error: Error & { code?: string }, socket: Socket, log: Logger): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  const inflight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage
  if (inflight != null && !inflight.writableEnded && (inflight.req.complete || inflight.headersSent)) {
    inflight.shouldKeepAlive = false
    finished(inflight, () => socket.end())
    return
  }
  const gwError = classifyClientError(error)
  log.debug({ code: error.code, status: gwError.status }, 'rejected malformed request')
  endWithProblem(socket, gwError)
}

/**
 * Answers an HTTP/1.1 `CONNECT` request (node hands those to the `connect` event, never to the request
 * handler) with a problem+json 501 and closes the connection: gw is a reverse proxy and opens no tunnels.
 *
 * @example
 * ```ts
 * server.on('connect', (_req, socket) => onConnectRequest(socket, log))
 * ```
 */
export function onConnectRequest(socket: Duplex, log: Logger): void {
  log.debug('rejected CONNECT request')
  if (!socket.writable) {
    socket.destroy()
    return
  }
  endWithProblem(socket, coreErrors.connectNotSupported.create('CONNECT tunnels are not supported'))
  socket.on('error', () => socket.destroy())
  socket.resume()
  setTimeout(() => socket.destroy(), CONNECT_LINGER_MS).unref()
}

/** How long a rejected CONNECT socket may linger (reading and discarding) before it is destroyed. */
const CONNECT_LINGER_MS = 2000

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  501: 'Not Implemented',
}

function endWithProblem(socket: Duplex, error: GatewayError): void {
  const { status, headers, body } = renderProblem(error)
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? 'Bad Request'}\r\n`
  for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`
  socket.end(`${head}connection: close\r\n\r\n${body}`)
}

function classifyClientError(error: Error & { code?: string }): GatewayError {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return coreErrors.headersTooLarge.create('Request headers exceed the configured limit')
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return coreErrors.requestTimeout.create('Request was not received in time')
    default:
      return coreErrors.badRequest.create('Malformed HTTP request')
  }
}
