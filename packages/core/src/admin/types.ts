/**
 * One row of the route table (admin `GET /routes`).
 *
 * @example
 * ```ts
 * const row: RouteSummary = { id: 'users', methods: ['GET'], host: undefined, pattern: '/users/*', upstream: 'users', policies: ['jwt'] }
 * ```
 */
export interface RouteSummary {
  readonly id: string
  readonly methods: readonly string[]
  readonly host: string | undefined
  readonly pattern: string
  /** The upstream, the split's upstreams, or undefined for a local handler. */
  readonly upstream: string | readonly string[] | undefined
  /** Policy names in run order, gateway-level first. */
  readonly policies: readonly string[]
}

/**
 * What a successful `Gateway.reload` changed. Route ids and upstream names; `reused` upstreams kept their
 * pools, health and breaker state because their config did not change.
 *
 * @example
 * ```ts
 * const { routes, restartRequired } = await gateway.reload(next)
 * console.log(routes.added, restartRequired)
 * ```
 */
export interface ReloadResult {
  routes: { added: string[]; removed: string[]; kept: string[] }
  upstreams: { added: string[]; removed: string[]; reused: string[]; replaced: string[] }
  /**
   * Policy instances of the new pipeline: `reused` ones had the same route, policy, mode and options (compared
   * as JSON; options holding functions or class instances match only the same object) and keep their state
   * (rate-limit counters, cache entries, JWKS); the others were created anew.
   */
  policies: { created: number; reused: number }
  /** Paths of changed options that only apply after a restart (`server.port`, `admin.apiKey`, ...). */
  restartRequired: string[]
}
