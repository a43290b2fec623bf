import { coreErrors } from '../errors.js'
import type { AdminHandler, AdminMounts } from '../policy/admin.js'

/**
 * The endpoints the admin listener itself serves; mounts cannot take them.
 *
 * @example
 * ```ts
 * BUILT_IN_ADMIN_ENDPOINTS.includes('POST /reload') // true
 * ```
 */
export const BUILT_IN_ADMIN_ENDPOINTS: readonly string[] = [
  'GET /routes',
  'GET /upstreams',
  'GET /config',
  'POST /reload',
]

/**
 * A table of mounted admin endpoints keyed by `METHOD path`. `isTaken` lets a pipeline's table refuse paths
 * the app's persistent table (or the built-ins) already serve.
 *
 * @example
 * ```ts
 * const table = new AdminMountTable()
 * table.mount('GET', '/ping', () => ({ body: 'pong' }))
 * table.find('GET', '/ping')
 * ```
 */
export class AdminMountTable implements AdminMounts {
  readonly #handlers = new Map<string, AdminHandler>()
  readonly #isTaken: (key: string) => boolean

  constructor(isTaken: (key: string) => boolean = () => false) {
    this.#isTaken = isTaken
  }

  mount(method: string, path: string, handler: AdminHandler): void {
    const verb = method.toUpperCase()
    if (!/^[A-Z]+$/.test(verb)) throw coreErrors.config.create(`admin mount: invalid method '${method}'`)
    if (!path.startsWith('/') || path.includes('?') || path.includes('#'))
      throw coreErrors.config.create(`admin mount: path '${path}' must start with / and have no query`)
    if (typeof handler !== 'function')
      throw coreErrors.config.create('admin mount: handler must be a function')
    const key = `${verb} ${path}`
    if (BUILT_IN_ADMIN_ENDPOINTS.includes(key) || this.#handlers.has(key) || this.#isTaken(key))
      throw coreErrors.config.create(`admin mount: '${key}' is already mounted`)
    this.#handlers.set(key, handler)
  }

  has(key: string): boolean {
    return this.#handlers.has(key)
  }

  find(method: string, path: string): AdminHandler | undefined {
    return this.#handlers.get(`${method} ${path}`)
  }

  /** The methods mounted on a path (for 405 + Allow). */
  methods(path: string): string[] {
    const out: string[] = []
    for (const key of this.#handlers.keys()) {
      const space = key.indexOf(' ')
      if (key.slice(space + 1) === path) out.push(key.slice(0, space))
    }
    return out
  }

  keys(): string[] {
    return [...this.#handlers.keys()]
  }
}
