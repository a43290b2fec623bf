import type { ServerInput } from '../server/schema.js'
import type { UpstreamInput } from '../upstream/schema.js'
import type { FileConfigInput, FileRouteInput } from './file-schema.js'

/** One backend of the seed project's `config/gateway.config.js`. */
export interface SeedBackend {
  url: string
  /** Milliseconds to wait for the backend's response. */
  timeout?: number
  retries?: number
}

/**
 * The shape of the seed project's `config/gateway.config.js` (values already read from the environment:
 * PORT, USERS_SERVICE_URL, PRODUCTS_SERVICE_URL, ORDERS_SERVICE_URL).
 */
export interface SeedConfig {
  server?: { port?: number | string; timeout?: number }
  backends?: Record<string, SeedBackend>
  security?: { cors?: Record<string, unknown>; helmet?: Record<string, unknown> }
  rateLimit?: { windowMs?: number; max?: number }
  cache?: { ttl?: number }
  performance?: {
    compression?: { threshold?: number; level?: number }
    connectionPooling?: { maxSockets?: number; keepAlive?: boolean }
    requestOptimization?: Record<string, unknown>
  }
}

/**
 * The seed sections that configure policies. Core maps none of them: they are returned untouched so that the
 * policy packages (@gw/security, @gw/ratelimit, @gw/cache, @gw/transform) or an app can turn them into entries.
 */
export interface SeedPolicyHints {
  security?: SeedConfig['security']
  rateLimit?: SeedConfig['rateLimit']
  cache?: SeedConfig['cache']
  compression?: NonNullable<SeedConfig['performance']>['compression']
  requestOptimization?: Record<string, unknown>
}

/** What {@link fromSeedConfig} returns: a file config (input form) and the policy sections it did not map. */
export interface SeedMapping {
  config: FileConfigInput
  policyHints: SeedPolicyHints
}

/**
 * Maps the seed project's config object onto a gw file config:
 * `server.port` -> `server.port`, `server.timeout` -> `server.requestTimeout`; each `backends.<name>` -> upstream
 * `<name>` (`url`, `timeout` -> `timeouts.headers`, `retries`, and `performance.connectionPooling.maxSockets` /
 * `keepAlive` -> `pool.connections` / `pool.keepAlive`) plus a route `/api/<name>/*` with `stripPrefix: '/api'`.
 * The policy sections (security, rateLimit, cache, compression, requestOptimization) come back untouched in
 * `policyHints`. The result validates against `buildConfigSchema` for any registry.
 *
 * @example
 * ```ts
 * const { config } = fromSeedConfig({
 *   server: { port: process.env.PORT ?? 3000, timeout: 30000 },
 *   backends: { users: { url: 'http://localhost:3001', timeout: 5000, retries: 3 } },
 * })
 * config.routes[0] // { id: 'users', path: '/api/users/*', upstream: 'users', stripPrefix: '/api' }
 * ```
 */
export function fromSeedConfig(seed: SeedConfig): SeedMapping {
  const config: FileConfigInput = { routes: [] }
  if (seed.server !== undefined) {
    const server: ServerInput = {}
    if (seed.server.port !== undefined) server.port = seed.server.port
    if (seed.server.timeout !== undefined) server.requestTimeout = seed.server.timeout
    config.server = server
  }
  const pooling = seed.performance?.connectionPooling
  const upstreams: Record<string, UpstreamInput> = {}
  const routes: FileRouteInput[] = []
  for (const [name, backend] of Object.entries(seed.backends ?? {})) {
    const upstream: UpstreamInput = { url: backend.url }
    if (backend.timeout !== undefined) upstream.timeouts = { headers: backend.timeout }
    if (backend.retries !== undefined) upstream.retries = backend.retries
    if (pooling?.maxSockets !== undefined || pooling?.keepAlive !== undefined) {
      upstream.pool = {}
      if (pooling.maxSockets !== undefined) upstream.pool.connections = pooling.maxSockets
      if (pooling.keepAlive !== undefined) upstream.pool.keepAlive = pooling.keepAlive
    }
    upstreams[name] = upstream
    routes.push({ id: name, path: `/api/${name}/*`, upstream: name, stripPrefix: '/api' })
  }
  if (routes.length > 0) config.upstreams = upstreams
  config.routes = routes

  const policyHints: SeedPolicyHints = {}
  if (seed.security !== undefined) policyHints.security = seed.security
  if (seed.rateLimit !== undefined) policyHints.rateLimit = seed.rateLimit
  if (seed.cache !== undefined) policyHints.cache = seed.cache
  if (seed.performance?.compression !== undefined) policyHints.compression = seed.performance.compression
  if (seed.performance?.requestOptimization !== undefined) {
    policyHints.requestOptimization = seed.performance.requestOptimization
  }
  return { config, policyHints }
}
