import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import type { Readable } from 'node:stream'
import type { Clock } from '../clock.js'
import { coreErrors, type GatewayError } from '../errors.js'
import { Exchange, GwRequest, type RouteInfo, UNMATCHED_ROUTE } from '../exchange/exchange.js'
import type { Logger } from '../logger.js'
import type { CompiledChain } from '../policy/chain.js'
import { type DirectBodyResponse, isDirectBody, kBytesSent, kSendBody } from '../policy/direct-body.js'
import {
  buildOutcome,
  completeExchange,
  discardBody,
  type ExchangeSink,
  errorResponse,
  runExchangeInto,
} from '../policy/runner.js'
import type { GwResponse } from '../policy/types.js'
import type { GatewayRouter } from '../router/router.js'
import type { UpstreamPathMapper } from '../router/upstream-path.js'
import type { ClientAddressResolver } from '../util/ip.js'
import { acceptRequestId, hasDotSegment, validHost } from './request-meta.js'
import type { ServerConfig } from './schema.js'

/** What the router stores per route. */
export interface CompiledRoute {
  readonly chain: CompiledChain
  /** The chain for `Upgrade: websocket` requests (same policies, upgrade terminal); absent: not upgradable. */
  readonly upgradeChain?: CompiledChain
  readonly pattern: string
  readonly upstream: string | undefined
  readonly mapPath: UpstreamPathMapper | undefined
}

/** Mutable lifecycle state shared by the handler and the gateway. */
export interface LifecycleState {
  ready: boolean
  draining: boolean
  inflight: number
  /** Called when `inflight` drops to zero while draining. */
  onIdle: (() => void) | undefined
}

/**
 * One compiled generation of routes and chains. A request pins the pipeline current at its start and counts
 * itself in `inflight` until it completes, so a reload can swap `HandlerRuntime.pipeline` at any moment and
 * close the old generation once its requests finished.
 */
export interface ActivePipeline {
  readonly router: GatewayRouter<CompiledRoute>
  readonly fallback: CompiledChain
  readonly bare: CompiledChain
  inflight: number
  /** Called when `inflight` drops to zero after the pipeline was replaced. */
  onIdle: (() => void) | undefined
}

/** Everything the request handler reads; built once at start-up (`pipeline` is swapped by reloads). */
export interface HandlerRuntime {
  readonly config: ServerConfig
  pipeline: ActivePipeline
  readonly addresses: ClientAddressResolver
  readonly clock: Clock
  readonly log: Logger
  readonly version: string
  readonly state: LifecycleState
}

/** The per-request state, one object hung on the response under one key. */
const kTx = Symbol('gw.tx')
/** Set on a socket whose current response closes it: pipelined requests already parsed behind it are not served. */
const kClosing = Symbol('gw.closing')

type ClosingSocket = Socket & { [kClosing]?: boolean }

interface StreamedBody extends Readable {
  [kTx]: Transaction
}

interface TrackedResponse extends ServerResponse {
  [kTx]: Transaction
}

function ignore(): void {}

/**
 * Everything one request needs after the handler returned, in one object: the exchange and its chain, the
 * pipeline generation it counts in, and what was sent (status, the socket's byte count at the head, or
 * counted body bytes on HTTP/2, where the socket is shared).
 */
class Transaction implements ExchangeSink {
  /** Status sent; 0 while nothing was sent. */
  status = 0
  /** The socket, kept: node detaches it from the response before 'close', and its byte count is still needed. */
  socket: Socket | null = null
  bytesBefore = 0
  counted = 0
  /** The streamed body being piped (a Readable), for abort clean-up. */
  body: StreamedBody | undefined = undefined
  /** The proxied response writing straight into the client response. */
  direct: DirectBodyResponse | undefined = undefined

  constructor(
    readonly ex: Exchange,
    readonly chain: CompiledChain,
    readonly rt: HandlerRuntime,
    readonly pipeline: ActivePipeline,
    readonly res: TrackedResponse,
    /** An HTTP/2 stream (compat API): no connection-level headers; body bytes are counted, not socket bytes. */
    readonly h2: boolean,
  ) {}

  /** The runner's final response. */
  send(response: GwResponse): void {
    sendResponse(this, response)
  }
}

/**
 * Builds the node:http request listener: health/readiness, request validation, routing, the policy pipeline
 * and response streaming, with `onComplete` once per exchange.
 *
 * @example
 * ```ts
 * http.createServer(createRequestHandler(runtime))
 * ```
 */
export function createRequestHandler(
  rt: HandlerRuntime,
): (req: IncomingMessage, res: ServerResponse) => void {
  const { healthPath, readyPath } = rt.config
  return function handleRequest(req, res) {
    if ((req.socket as ClosingSocket)[kClosing] === true) return
    let url = req.url ?? '/'
    const method = req.method ?? 'GET'
    if (
      (method === 'GET' || method === 'HEAD') &&
      (matchesPath(url, healthPath) || matchesPath(url, readyPath))
    ) {
      answerProbe(rt, res, matchesPath(url, healthPath), req.httpVersionMajor === 2)
      return
    }
    rt.state.inflight++
    const pipeline = rt.pipeline
    pipeline.inflight++
    let host = validHost(req)
    let early: GatewayError | undefined
    if (url.charCodeAt(0) !== 47) {
      const absolute = splitAbsoluteForm(url)
      if (absolute === undefined)
        early = coreErrors.badRequest.create('Request target must be origin-form or absolute-form')
      else {
        url = absolute.path
        if (host !== undefined && !sameAuthority(host, absolute.authority))
          early = coreErrors.badHost.create('Host header does not match the absolute-form request target')
        host = absolute.authority
      }
    }
    if (host === undefined) early ??= coreErrors.badHost.create('Missing, invalid or duplicate Host header')
    const requestIdHeader = req.headers[rt.config.requestIdHeader]
    const id = acceptRequestId(requestIdHeader) ?? randomUUID()
    const peer = req.socket.remoteAddress ?? ''
    const trustedPeer = rt.addresses.isTrusted(peer)
    const request = new GwRequest({
      method,
      url,
      headers: req.headers,
      body: req,
      ip: rt.addresses.clientIp(peer, req.headers['x-forwarded-for']),
      protocol: protocolOf(req, trustedPeer),
      host: host ?? '',
    })
    if (early === undefined && hasDotSegment(request.path)) {
      early = coreErrors.badRequest.create('Path must not contain dot-segments')
    }

    let chain: CompiledChain
    let route: RouteInfo
    let upstreamPath = url
    const match = early === undefined ? pipeline.router.find(method, url, host) : null
    if (match !== null) {
      const compiled = match.route.value
      chain = compiled.chain
      route = {
        id: match.route.id,
        pattern: compiled.pattern,
        params: match.params,
        upstream: compiled.upstream,
      }
      if (compiled.mapPath !== undefined) upstreamPath = compiled.mapPath(url)
    } else {
      chain = early === undefined ? pipeline.fallback : pipeline.bare
      route = UNMATCHED_ROUTE
    }
    const ex = new Exchange({ id, request, route, upstreamPath, clock: rt.clock, log: rt.log })
    const tracked = res as TrackedResponse
    const tx = new Transaction(ex, chain, rt, pipeline, tracked, req.httpVersionMajor === 2)
    tracked[kTx] = tx
    // 'close' is emitted once: `on` spares the wrapper `once` allocates.
    res.on('close', onResponseClose)

    if (early !== undefined) {
      ex.closeConnection = true
      sendResponse(tx, errorResponse(ex, early, undefined))
      return
    }
    runExchangeInto(ex, chain, tx)
  }
}

function sendResponse(tx: Transaction, response: GwResponse): void {
  const { ex, res, rt } = tx
  if (ex.aborted || res.destroyed) {
    discardBody(response)
    finish(tx, response.status, true)
    return
  }
  const headers = response.headers
  headers[rt.config.requestIdHeader] = ex.id
  if (tx.h2) dropConnectionHeaders(headers)
  else if (rt.state.draining || ex.closeConnection) {
    headers.connection = 'close'
    ;(res.req.socket as ClosingSocket)[kClosing] = true
  }
  try {
    res.writeHead(response.status, headers)
  } catch (error) {
    discardBody(response)
    ex.log.warn({ err: error }, 'invalid response headers')
    const fallback = errorResponse(
      ex,
      coreErrors.upstreamProtocol.create('Invalid response headers', { cause: error }),
      undefined,
    )
    fallback.headers[rt.config.requestIdHeader] = ex.id
    res.writeHead(fallback.status, fallback.headers)
    markSent(tx, fallback.status)
    res.end(fallback.body as string)
    return
  }
  markSent(tx, response.status)
  if (isDirectBody(response) && response[kSendBody](res)) {
    tx.direct = response
    return
  }
  const body = response.body
  if (body === null || body === undefined) res.end()
  else if (typeof body === 'string' || body instanceof Uint8Array) {
    if (tx.h2) tx.counted = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength
    res.end(body)
  } else {
    const streamed = body as StreamedBody
    streamed[kTx] = tx
    tx.body = streamed
    streamed.once('error', onBodyError)
    if (tx.h2) streamed.on('data', countChunk)
    streamed.pipe(res)
  }
}

/**
 * `pipe` rather than `stream.pipeline`: on Node 20 pipeline allocates an AbortController and an error per call
 * (about 12 % of proxy CPU in profiles). Errors and client aborts are wired by hand instead: an upstream body
 * error destroys the client response; a client abort destroys the upstream body (see onResponseClose).
 */
function onBodyError(this: StreamedBody, error: Error): void {
  const tx = this[kTx]
  if (!tx.ex.aborted)
    tx.ex.log.warn({ err: error, code: (error as { code?: string }).code }, 'response stream failed')
  tx.res.destroy(error)
}

function markSent(tx: Transaction, status: number): void {
  tx.status = status
  // Bytes sent only matter to onComplete handlers; without an entered policy there are none to tell.
  if (tx.h2 || tx.ex._entered === 0) return
  const socket = tx.res.socket
  tx.socket = socket
  tx.bytesBefore = socket?.bytesWritten ?? 0
}

function countChunk(this: StreamedBody, chunk: Buffer | string): void {
  this[kTx].counted += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
}

const H2_CONNECTION_HEADERS = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']

/** HTTP/2 forbids connection-specific response headers (node throws ERR_HTTP2_INVALID_CONNECTION_HEADERS). */
function dropConnectionHeaders(headers: GwResponse['headers']): void {
  for (const name of H2_CONNECTION_HEADERS) if (headers[name] !== undefined) delete headers[name]
}

function onResponseClose(this: TrackedResponse): void {
  const tx = this[kTx]
  const aborted = !this.writableFinished
  if (aborted) {
    tx.ex.abort()
    const body = tx.body
    if (body !== undefined && !body.destroyed) {
      body.unpipe(this)
      body.on('error', ignore)
      body.destroy()
    }
  }
  if (tx.status !== 0) finish(tx, tx.status, aborted)
}

function finish(tx: Transaction, status: number, aborted: boolean): void {
  const { ex, chain, rt, pipeline } = tx
  if (ex._completed) return
  // No policy entered (no policies, or the request was refused before the chain): no onComplete to run.
  if (ex._entered === 0) ex._completed = true
  else {
    const bytes =
      tx.socket !== null
        ? Math.max(0, tx.socket.bytesWritten - tx.bytesBefore)
        : tx.direct !== undefined
          ? tx.direct[kBytesSent]
          : tx.counted
    completeExchange(ex, chain, buildOutcome(ex, chain, status, aborted, bytes))
  }
  if (aborted)
    ex.log.info(
      { status: 499, route: ex.route.id },
      'client closed the connection before the response completed',
    )
  if (--pipeline.inflight === 0 && pipeline.onIdle !== undefined) pipeline.onIdle()
  rt.state.inflight--
  if (rt.state.inflight === 0 && rt.state.onIdle !== undefined) rt.state.onIdle()
}

function answerProbe(rt: HandlerRuntime, res: ServerResponse, health: boolean, h2: boolean): void {
  let status = 200
  let payload: Record<string, unknown>
  if (health)
    payload = { status: 'healthy', timestamp: new Date(rt.clock.now()).toISOString(), version: rt.version }
  else {
    const ready = rt.state.ready && !rt.state.draining
    status = ready ? 200 : 503
    payload = { status: ready ? 'ready' : rt.state.draining ? 'draining' : 'starting', ready }
  }
  const body = JSON.stringify(payload)
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...(rt.state.draining && !h2 ? { connection: 'close' } : {}),
  })
  res.end(body)
}

function matchesPath(url: string, path: string): boolean {
  return url === path || (url.startsWith(path) && url.charCodeAt(path.length) === 63)
}

/** The client protocol: TLS socket, or a trusted proxy's `X-Forwarded-Proto: https`. */
export function protocolOf(req: IncomingMessage, trustedPeer: boolean): 'http' | 'https' {
  if ((req.socket as { encrypted?: boolean }).encrypted) return 'https'
  if (trustedPeer) {
    const forwarded = req.headers['x-forwarded-proto']
    if (typeof forwarded === 'string' && forwarded.trim().toLowerCase() === 'https') return 'https'
  }
  return 'http'
}

/** Whether a Host header names the same authority as an absolute-form target (case-insensitive, default ports ignored). */
function sameAuthority(host: string, authority: string): boolean {
  const bare = (value: string): string => value.toLowerCase().replace(/:(?:80|443)$/, '')
  return bare(host) === bare(authority)
}
function splitAbsoluteForm(target: string): { authority: string; path: string } | undefined {
  const scheme = /^https?:\/\//i.exec(target)
  if (scheme === null) return undefined
  const rest = target.slice(scheme[0].length)
  let end = rest.length
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i)
    if (c === 47 || c === 63) {
      end = i
      break
    }
  }
  const authority = rest.slice(0, end)
  if (authority === '' || authority.includes('@')) return undefined
  const path = rest.slice(end)
  return { authority, path: path === '' ? '/' : path.charCodeAt(0) === 63 ? '/' + path : path }
}
