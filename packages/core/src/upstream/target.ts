import type { ConnectionOptions } from 'node:tls'
import { Pool } from 'undici'
import type { UpstreamConfig } from './schema.js'

/**
 * One target of an upstream: an origin, a base path prepended to forwarded paths, and its undici `Pool`.
 * Balancers and health checks will pick among several of these.
 */
export interface Target {
  /** `http://host:port` of the target (no path). */
  readonly origin: string
  /** Path prefix of the target URL without a trailing slash (`''` for none), e.g. `/v1`. */
  readonly basePath: string
  /** The keep-alive connection pool to this origin. */
  readonly pool: Pool
}

/**
 * A target of a balanced upstream: a {@link Target} plus its weight and the live statistics balancers, health
 * checks and outlier detection read and write. One instance lives as long as the target is configured.
 *
 * @example
 * ```ts
 * const t = createUpstreamTarget({ url: 'http://10.0.0.5:3001', weight: 2 }, config)
 * t.available // true until a health check or outlier detection takes it out
 * ```
 */
export class UpstreamTarget implements Target {
  /** The configured URL (also the target's identity in hash placements). */
  readonly url: string
  readonly origin: string
  readonly basePath: string
  readonly pool: Pool
  readonly weight: number
  /** Requests started and not yet finished (response body fully read or abandoned). */
  inflight = 0
  /** Peak-EWMA latency to response headers in ms, as of `ewmaAt`. */
  ewma = 0
  /** Clock time of the last EWMA update. */
  ewmaAt = 0
  /** False while active health checks consider the target down. */
  healthy = true
  /** Clock time until which passive outlier detection keeps the target out (0: not ejected). */
  ejectedUntil = 0
  /** Consecutive failed calls (outlier detection). */
  consecutiveFailures = 0
  /** Recent ejections, the multiplier of the next ejection period. */
  ejections = 0
  /** Clock time the last ejection ended. */
  restoredAt = 0
  /** Value of the `host` header for targets resolved from a hostname (DNS), else undefined. */
  readonly hostHeader: string | undefined

  constructor(url: string, weight: number, pool: Pool, hostHeader?: string) {
    const parsed = new URL(url)
    let basePath = parsed.pathname
    while (basePath.endsWith('/')) basePath = basePath.slice(0, -1)
    this.url = url
    this.origin = parsed.origin
    this.basePath = basePath
    this.pool = pool
    this.weight = weight
    this.hostHeader = hostHeader
  }

  /** Whether the balancer may pick this target at `now`. */
  isAvailable(now: number): boolean {
    return this.healthy && this.ejectedUntil <= now
  }

  /**
   * Records a latency sample into the peak EWMA: a sample above the current value replaces it at once (a slow
   * target is avoided immediately), lower samples are blended in with weight `1 - e^(-dt/decay)`.
   */
  observeLatency(ms: number, now: number, decay: number): void {
    const current = this.decayedEwma(now, decay)
    if (ms > current || this.ewmaAt === 0) this.ewma = ms
    else {
      const w = Math.exp(-Math.max(0, now - this.ewmaAt) / decay)
      this.ewma = current * w + ms * (1 - w)
    }
    this.ewmaAt = now
  }

  /** The EWMA decayed towards zero for the time without samples, so an avoided target is retried eventually. */
  decayedEwma(now: number, decay: number): number {
    if (this.ewmaAt === 0) return 0
    const idle = now - this.ewmaAt
    return idle <= 0 ? this.ewma : this.ewma * Math.exp(-idle / decay)
  }
}

/**
 * Creates an {@link UpstreamTarget} with its own undici Pool.
 *
 * @example
 * ```ts
 * const t = createUpstreamTarget({ url: 'http://127.0.0.1:3001', weight: 1 }, upstreamSchema.parse({ url: 'http://127.0.0.1:3001' }))
 * ```
 */
export function createUpstreamTarget(
  spec: { url: string; weight: number; hostHeader?: string },
  config: UpstreamConfig,
  tls?: ConnectionOptions,
): UpstreamTarget {
  const origin = new URL(spec.url).origin
  return new UpstreamTarget(
    spec.url,
    spec.weight,
    new Pool(origin, poolOptions(config, tls)),
    spec.hostHeader,
  )
}

/**
 * Builds the undici `Pool` options for an upstream: connection cap, keep-alive (off means `pipelining: 0`, so
 * every request carries `Connection: close`), connect / headers / body timeouts (0 disables one), and the TLS
 * connection options of `https://` targets (see `loadUpstreamTls`). undici runs
 * the headers and body timeouts on coarse timers: they fire up to about a second late.
 *
 * @example
 * ```ts
 * const options = poolOptions(upstreamSchema.parse({ url: 'http://127.0.0.1:3001' }))
 * options.connections // 128
 * ```
 */
export function poolOptions(config: UpstreamConfig, tls?: ConnectionOptions): Pool.Options {
  const { pool, timeouts } = config
  return {
    connections: pool.connections,
    pipelining: pool.keepAlive ? pool.pipelining : 0,
    keepAliveTimeout: pool.keepAliveTimeout,
    keepAliveMaxTimeout: pool.keepAliveMaxTimeout,
    connect: tls === undefined ? { timeout: timeouts.connect } : { ...tls, timeout: timeouts.connect },
    headersTimeout: timeouts.headers,
    bodyTimeout: timeouts.body,
  }
}

/**
 * Creates a {@link Target} from a target URL, parsing the URL once at start-up.
 *
 * @example
 * ```ts
 * const target = createTarget('http://127.0.0.1:3001/v1/', config)
 * target.origin // 'http://127.0.0.1:3001'
 * target.basePath // '/v1'
 * ```
 */
export function createTarget(url: string, config: UpstreamConfig): Target {
  const parsed = new URL(url)
  let basePath = parsed.pathname
  while (basePath.endsWith('/')) basePath = basePath.slice(0, -1)
  return { origin: parsed.origin, basePath, pool: new Pool(parsed.origin, poolOptions(config)) }
}

/**
 * Joins a target base path and a forwarded path (with query). The common case (no base path, path starting
 * with `/`) returns `path` as is.
 *
 * @example
 * ```ts
 * joinPath('/v1', '/users?page=2') // '/v1/users?page=2'
 * joinPath('', '/users') // '/users'
 * ```
 */
export function joinPath(basePath: string, path: string): string {
  const first = path.charCodeAt(0)
  if (first === 47) return basePath === '' ? path : basePath + path
  if (path === '') return basePath === '' ? '/' : basePath
  if (first === 63) return (basePath === '' ? '/' : basePath) + path
  return basePath + '/' + path
}
