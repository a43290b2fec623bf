import type { Exchange } from '../exchange/exchange.js'
import type { GwResponse } from '../policy/types.js'
import type { CircuitState } from '../resilience/circuit-breaker.js'

/** Per-call options of {@link Upstream.forward}. */
export interface ForwardOptions {
  /** Allow retries of non-idempotent methods (a route opted in with `retryNonIdempotent`). */
  readonly retryNonIdempotent?: boolean
}

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
  forward(ex: Exchange, options?: ForwardOptions): Promise<GwResponse>
  /**
   * Proxies an upgrade request (WebSocket): resolves with the upstream's 101 head (the upstream socket is left
   * under `upgradeTunnelKey`) or its non-101 response. Optional; upstreams without it do not accept upgrades.
   */
  upgrade?(ex: Exchange): Promise<GwResponse>
  /** Closes the pools, letting in-flight requests finish. */
  close(): Promise<void>
}

/** A target as given at runtime: URL and weight (default 1). */
export interface TargetSpec {
  readonly url: string
  readonly weight?: number
}

/** A snapshot of one target, for status pages and tests. */
export interface TargetStatus {
  readonly url: string
  readonly weight: number
  /** Passing active health checks (always true without them). */
  readonly healthy: boolean
  /** Ejected by outlier detection right now. */
  readonly ejected: boolean
  /** Requests in flight. */
  readonly inflight: number
  /** Peak-EWMA latency to response headers, ms. */
  readonly ewma: number
}

/**
 * The upstream `createUpstream` builds: balanced targets that can change at runtime (config reload, service
 * discovery) without dropping in-flight requests, and a view of their state.
 *
 * @example
 * ```ts
 * const users = createUpstream('users', { targets: [{ url: 'http://10.0.0.5:3001' }] }, deps)
 * users.setTargets([{ url: 'http://10.0.0.5:3001' }, { url: 'http://10.0.0.6:3001', weight: 2 }])
 * users.targets().map((t) => t.url)
 * ```
 */
export interface ManagedUpstream extends Upstream {
  /** The current targets and their state. */
  targets(): TargetStatus[]
  /** Replaces the target set: new URLs are added, missing ones drained and closed, kept ones keep their state. */
  setTargets(targets: readonly TargetSpec[]): void
  /** Adds a target (no-op if the URL is already a target). */
  addTarget(target: TargetSpec): void
  /** Removes a target; its in-flight requests complete, then its pool closes. */
  removeTarget(url: string): void
  /** The circuit breaker state (`closed` without a breaker). */
  readonly circuitState: CircuitState
  /** Runs one round of active health checks now (resolves at once without health checks). */
  checkHealth(): Promise<void>
  /** Re-resolves hostname targets now (resolves at once without `dns`). */
  resolveDns(): Promise<void>
}
