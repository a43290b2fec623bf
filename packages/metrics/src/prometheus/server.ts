import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AdminHandler, GwResponse, Logger, RouteHandler } from '@gw/core'
import { noopLogger } from '@gw/core'
import { metricsErrors } from '../errors.js'
import type { Exposition } from './exposition.js'
import type { PrometheusTelemetry } from './telemetry.js'

/** Renders a scrape for an `Accept` header. */
export type ExpositionSource = (accept: string | undefined) => Promise<Exposition>

/** Where and how {@link startMetricsServer} listens. */
export interface MetricsServerOptions {
  /** Port (PROMETHEUS_PORT); 0 picks a free one. Default 9090. */
  port?: number
  /** Bind address. Default `0.0.0.0`. */
  host?: string
  /** Scrape path. Default `/metrics`. */
  path?: string
  log?: Logger
}

/** A running metrics listener. */
export interface MetricsServer {
  readonly server: Server
  /** `http://host:port` of the listener (wildcard binds shown as 127.0.0.1). */
  readonly url: string
  readonly address: AddressInfo
  close(): Promise<void>
}

/**
 * Serves a scrape: runs the registry's collectors and renders in the negotiated format. Failures become a
 * coded 500 without internals.
 */
async function scrape(
  render: ExpositionSource,
  accept: string | undefined,
  log: Logger,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  try {
    const { contentType, body } = await render(accept)
    return {
      status: 200,
      headers: { 'content-type': contentType, 'cache-control': 'no-store', vary: 'Accept' },
      body,
    }
  } catch (error) {
    const err = metricsErrors.scrapeFailed.create(undefined, { cause: error })
    log.error({ err: error, code: err.code }, 'metrics collection failed')
    return {
      status: 500,
      headers: { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' },
      body: `${err.code}: metrics collection failed\n`,
    }
  }
}

/**
 * Starts a dedicated HTTP listener exposing `/metrics` (Prometheus text or OpenMetrics by `Accept`), apart from
 * the gateway's public port. Rejects with `GW_ERR_METRICS_LISTEN` when the port cannot be bound.
 *
 * @example
 * ```ts
 * const telemetry = createPrometheusTelemetry()
 * const server = await startMetricsServer(telemetry, { port: Number(process.env.PROMETHEUS_PORT ?? 9090) })
 * // later: await server.close()
 * ```
 */
export function startMetricsServer(
  telemetry: PrometheusTelemetry,
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
  return serveMetrics((accept) => telemetry.render(accept), options)
}

/**
 * Starts a metrics listener for any {@link ExpositionSource} (used by {@link startMetricsServer} and the
 * cluster primary's server).
 *
 * @example
 * ```ts
 * await serveMetrics(async () => ({ contentType: PROMETHEUS_TEXT_TYPE, body: await registry.metrics() }), { port: 9090 })
 * ```
 */
export async function serveMetrics(
  render: ExpositionSource,
  options: MetricsServerOptions = {},
): Promise<MetricsServer> {
  const path = options.path ?? '/metrics'
  const log = options.log ?? noopLogger
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const q = req.url?.indexOf('?') ?? -1
    const target = q === -1 ? req.url : req.url?.slice(0, q)
    if (target !== path) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        .end('method not allowed\n')
      return
    }
    scrape(render, req.headers.accept, log).then(({ status, headers, body }) => {
      res.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) })
      res.end(req.method === 'HEAD' ? undefined : body)
    })
  })
  server.keepAliveTimeout = 65_000
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        metricsErrors.listenFailed.create(
          `cannot listen on ${options.host ?? '0.0.0.0'}:${options.port ?? 9090}: ${(error as Error).message}`,
          { cause: error },
        ),
      ),
    )
    server.listen(options.port ?? 9090, options.host ?? '0.0.0.0', () =>
      resolve(server.address() as AddressInfo),
    )
  })
  const shownHost = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address
  const url = `http://${address.family === 'IPv6' && shownHost !== '127.0.0.1' ? `[${shownHost}]` : shownHost}:${address.port}`
  log.info({ url: url + path }, 'metrics listener started')
  return {
    server,
    url,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

/**
 * A route handler exposing the metrics on the gateway's own port, for deployments that scrape one port.
 * Protect the route (ip rules, auth) if the gateway is public.
 *
 * @example
 * ```ts
 * createGateway({
 *   telemetry,
 *   routes: [{ id: 'metrics', path: '/metrics', methods: ['GET', 'HEAD'], handler: metricsHandler(telemetry) }],
 * })
 * ```
 */
export function metricsHandler(telemetry: PrometheusTelemetry): RouteHandler {
  return async (ex): Promise<GwResponse> => {
    return scrape((accept) => telemetry.render(accept), ex.request.headers.accept, ex.log)
  }
}

/**
 * An admin-listener handler serving the scrape (Prometheus text or OpenMetrics by `Accept`), for
 * `setup.admin?.mount('GET', '/metrics', adminMetricsHandler(telemetry))`; the `metrics` policy mounts it with
 * `exposition: 'admin'`.
 *
 * @example
 * ```ts
 * gateway.admin?.mount('GET', '/metrics', adminMetricsHandler(telemetry))
 * ```
 */
export function adminMetricsHandler(telemetry: PrometheusTelemetry): AdminHandler {
  return (req) => scrape((accept) => telemetry.render(accept), req.headers.accept, req.log)
}
