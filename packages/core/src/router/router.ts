import FindMyWay from 'find-my-way'
import { coreErrors } from '../errors.js'

/** A route as the router stores it: the pattern it was registered with, its methods and what to run. */
export interface RouterRoute<T> {
  readonly id: string
  readonly pattern: string
  readonly methods: readonly string[]
  readonly host: string | undefined
  readonly value: T
}

/** A successful match. */
export interface RouteMatch<T> {
  readonly route: RouterRoute<T>
  readonly params: Record<string, string | undefined>
}

const EMPTY_QUERY = Object.freeze({})

/**
 * A radix router over find-my-way: host constraint, methods, params (`:id`) and wildcards (`*`). A pattern that
 * ends in `/*` also matches the bare prefix (`/api/users/*` matches `/api/users`). Queries are not parsed here.
 *
 * @example
 * ```ts
 * const router = new GatewayRouter<string>()
 * router.add({ id: 'users', pattern: '/users/:id', methods: ['GET'], host: undefined, value: 'users' })
 * router.find('GET', '/users/7?x=1', undefined)?.params // { id: '7' }
 * ```
 */
export class GatewayRouter<T> {
  readonly #router = FindMyWay({
    caseSensitive: true,
    ignoreTrailingSlash: false,
    maxParamLength: 500,
    querystringParser: () => EMPTY_QUERY,
  })
  readonly #methods = new Set<string>()
  #hostConstrained = false

  /** Registers a route; a duplicate method + pattern (+ host) fails with `GW_ERR_CONFIG` naming the route. */
  add(route: RouterRoute<T>): void {
    const patterns = [route.pattern]
    if (route.pattern.endsWith('/*') && route.pattern.length > 2) patterns.push(route.pattern.slice(0, -2))
    const opts = route.host === undefined ? {} : { constraints: { host: route.host.toLowerCase() } }
    if (route.host !== undefined) this.#hostConstrained = true
    for (const method of route.methods) {
      this.#methods.add(method)
      for (const pattern of patterns) {
        try {
          this.#router.on(method as FindMyWay.HTTPMethod, pattern, opts, noop, route)
        } catch (error) {
          throw coreErrors.config.create(
            `route '${route.id}': ${method} ${pattern} ${route.host ? `(host ${route.host}) ` : ''}conflicts with another route: ${(error as Error).message}`,
          )
        }
      }
    }
  }

  /** Finds the route for a method and request target; `host` is the Host header (port is ignored). */
  find(method: string, url: string, host: string | undefined): RouteMatch<T> | null {
    const found = this.#hostConstrained
      ? this.#router.find(method as FindMyWay.HTTPMethod, url, { host: stripPort(host) })
      : this.#router.find(method as FindMyWay.HTTPMethod, url)
    if (found === null) return null
    return { route: found.store as RouterRoute<T>, params: found.params }
  }

  /** Methods that would match this target (for 405 `Allow`); empty when the path matches no route at all. */
  allowedMethods(url: string, host: string | undefined): string[] {
    const allowed: string[] = []
    for (const method of this.#methods) if (this.find(method, url, host) !== null) allowed.push(method)
    return allowed
  }
}

function noop(): void {}

function stripPort(host: string | undefined): string {
  if (host === undefined) return ''
  if (host.charCodeAt(0) === 91) {
    const end = host.indexOf(']')
    return host.slice(0, end + 1).toLowerCase()
  }
  const colon = host.indexOf(':')
  return (colon === -1 ? host : host.slice(0, colon)).toLowerCase()
}
