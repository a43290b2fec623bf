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
 * Builds the undici `Pool` options for an upstream: connection cap, keep-alive (off means `pipelining: 0`, so
 * every request carries `Connection: close`), connect / headers / body timeouts (0 disables one). undici runs
 * the headers and body timeouts on coarse timers: they fire up to about a second late.
 *
 * @example
 * ```ts
 * const options = poolOptions(upstreamSchema.parse({ url: 'http://127.0.0.1:3001' }))
 * options.connections // 128
 * ```
 */
export function poolOptions(config: UpstreamConfig): Pool.Options {
  const { pool, timeouts } = config
  return {
    connections: pool.connections,
    pipelining: pool.keepAlive ? pool.pipelining : 0,
    keepAliveTimeout: pool.keepAliveTimeout,
    keepAliveMaxTimeout: pool.keepAliveMaxTimeout,
    connect: { timeout: timeouts.connect },
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
