import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AdminInput } from './admin/schema.js'
import type { ReloadResult } from './admin/types.js'
import type { Clock } from './clock.js'
import type { Exchange } from './exchange/exchange.js'
import type { Logger } from './logger.js'
import type { AdminMounts } from './policy/admin.js'
import type { GwResponse, MaybePromise, PolicyEntry, Resources } from './policy/types.js'
import type { RouteBaseInput } from './router/schema.js'
import type { GatewayServer } from './server/listener.js'
import type { ServerConfig, ServerInput } from './server/schema.js'
import type { Telemetry } from './telemetry.js'
import type { AnyUpstreamInput, UpstreamConfig } from './upstream/schema.js'
import type { ManagedUpstream, Upstream } from './upstream/types.js'

/** A local handler: a route without an upstream answers with it. */
export type RouteHandler = (ex: Exchange) => MaybePromise<GwResponse>

/** A route in code: pattern, target, and its own policies (run after the gateway-level ones). */
export interface RouteConfig extends RouteBaseInput {
  /** Route-level policies, run after the gateway-level ones. */
  policies?: PolicyEntry[]
  /** Local handler, for routes without an upstream. */
  handler?: RouteHandler
}

/**
 * Everything `createGateway` needs. Config files produce the same object (see `@gw/core/config`).
 *
 * @example
 * ```ts
 * const options: GatewayOptions = {
 *   upstreams: { users: { url: 'http://127.0.0.1:3001' } },
 *   routes: [{ path: '/api/users/*', upstream: 'users', stripPrefix: '/api' }],
 * }
 * ```
 */
export interface GatewayOptions {
  server?: ServerInput
  /** Upstreams by name: config (gw builds undici pools) or ready {@link Upstream} objects. */
  upstreams?: Record<string, AnyUpstreamInput | UpstreamConfig | Upstream>
  /** Gateway-level policies, run first on every route (and on unmatched requests). */
  policies?: PolicyEntry[]
  routes: RouteConfig[]
  logger?: Logger
  clock?: Clock
  telemetry?: Telemetry
  /**
   * Shared resources policies ask for with `setup.need()`. `upstreams` is core's own (see
   * {@link Resources.upstreams}) and always provided.
   */
  resources?: Partial<Omit<Resources, 'upstreams'>>
  /** Version reported by `/health`. */
  version?: string
  /**
   * The admin listener (operator endpoints), off unless given. It starts and stops with the gateway; the
   * key is required.
   */
  admin?: AdminInput
  /**
   * Where `POST /reload` on the admin listener gets the new options (`gw start` re-reads its file). Without
   * it that endpoint answers 409.
   */
  reloadSource?: () => MaybePromise<GatewayOptions>
}

/** A running (or ready to run) gateway. */
export interface Gateway {
  /** The listening server: node:http, or node:https / node:http2 (h2 + HTTP/1.1) with `server.tls`. */
  readonly server: GatewayServer
  /** Validated server options. */
  readonly serverConfig: ServerConfig
  /** False while starting and while draining. */
  readonly ready: boolean
  /**
   * The upstreams by name. Those built from config are {@link ManagedUpstream}s (check with `'setTargets' in u`):
   * their targets can be changed at runtime, e.g. from service discovery.
   */
  readonly upstreams: ReadonlyMap<string, Upstream>
  /** The request listener, to mount gw in a server of your own. */
  readonly handler: (req: IncomingMessage, res: ServerResponse) => void
  /** Starts listening (defaults from `server.port` / `server.host`). */
  listen(options?: { port?: number; host?: string }): Promise<AddressInfo>
  /** `http://host:port` once listening; a wildcard bind address (0.0.0.0, ::) shows as loopback. */
  readonly url: string
  /**
   * Swaps in a new configuration without dropping a request: validates and compiles it (the same errors,
   * with paths, as `createGateway`), points new requests at it, lets in-flight requests finish on the old
   * pipeline, then closes the old policies and the upstreams the new one does not reuse (bounded by
   * `drainTimeout`). An invalid configuration rejects with `GW_ERR_CONFIG` (`extensions.issues`) and the
   * old one keeps serving. `server` and `admin` changes are reported in `restartRequired`, not applied;
   * `logger`, `clock`, `telemetry` and `version` stay those given to `createGateway`. Reloads run one at a
   * time.
   *
   * @example
   * ```ts
   * process.on('SIGHUP', () => gw.reload(readOptions()).catch(() => {})) // rejections are logged by gw
   * ```
   */
  reload(options: GatewayOptions): Promise<ReloadResult>
  /** The admin listener's `http://host:port` once listening; empty without `admin`. */
  readonly adminUrl: string
  /** Mount operator endpoints on the admin listener from app code; undefined without `admin`. */
  readonly admin: AdminMounts | undefined
  /**
   * Re-reads the certificate, key and CA files of `server.tls` and uses them for new connections (open ones keep
   * theirs). A failed reload (unreadable file, bad PEM, mismatching key) keeps the current certificates, is
   * logged and rejects with `GW_ERR_CONFIG`. Without `server.tls` it does nothing.
   */
  reloadCertificates(): Promise<void>
  /** Graceful shutdown: stop accepting, drain in-flight requests up to `drainTimeout`, close upstreams and policies. */
  close(): Promise<void>
}
