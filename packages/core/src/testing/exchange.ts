import type { IncomingHttpHeaders } from 'node:http'
import { Readable } from 'node:stream'
import type { Clock } from '../clock.js'
import { Exchange, GwRequest, type RouteInfo, UNMATCHED_ROUTE } from '../exchange/exchange.js'
import { type Logger, noopLogger } from '../logger.js'
import { createManualClock } from './clock.js'

/** A request described for tests. */
export interface TestRequest {
  method?: string
  /** Path and query, e.g. `/users/7?x=1`. Default `/`. */
  url?: string
  headers?: IncomingHttpHeaders
  /** Body bytes or text; a Readable is used as is. */
  body?: string | Buffer | Readable
  ip?: string
  protocol?: 'http' | 'https'
  id?: string
  route?: Partial<RouteInfo>
}

/** Options of {@link createTestExchange}. */
export interface TestExchangeOptions {
  clock?: Clock
  log?: Logger
}

/**
 * Builds an {@link Exchange} without sockets, for calling policy handlers directly in unit tests.
 *
 * @example
 * ```ts
 * const ex = createTestExchange({ method: 'GET', url: '/users/7', headers: { authorization: 'Bearer x' } })
 * expect(await handlers.onRequest!(ex)).toBeUndefined()
 * ```
 */
export function createTestExchange(request: TestRequest = {}, options: TestExchangeOptions = {}): Exchange {
  const url = request.url ?? '/'
  const headers: IncomingHttpHeaders = { host: 'gw.test', ...lowercase(request.headers ?? {}) }
  const body =
    request.body instanceof Readable
      ? request.body
      : Readable.from(request.body === undefined ? [] : [Buffer.from(request.body)])
  if (
    request.body !== undefined &&
    !(request.body instanceof Readable) &&
    headers['content-length'] === undefined
  ) {
    headers['content-length'] = String(Buffer.byteLength(request.body))
  }
  const gwRequest = new GwRequest({
    method: request.method ?? 'GET',
    url,
    headers,
    body,
    ip: request.ip ?? '127.0.0.1',
    protocol: request.protocol ?? 'http',
    host: headers.host ?? 'gw.test',
  })
  return new Exchange({
    id: request.id ?? 'test-request-id',
    request: gwRequest,
    route: { ...UNMATCHED_ROUTE, id: 'test', pattern: url.split('?')[0] ?? '/', ...request.route },
    upstreamPath: url,
    clock: options.clock ?? createManualClock(),
    log: options.log ?? noopLogger,
  })
}

function lowercase(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value
  return out
}
