/**
 * A typed key for per-request state shared between policies: `ex.set(key, value)` / `ex.get(key)`.
 *
 * @example
 * ```ts
 * const tenantKey = createStateKey<string>('tenant')
 * ex.set(tenantKey, 'acme')
 * ex.get(tenantKey) // 'acme' | undefined
 * ```
 */
export interface StateKey<T> {
  readonly name: string
  /** Phantom member carrying the value type; never set. */
  readonly __type?: T
}

/**
 * Creates a {@link StateKey}. Keys compare by identity; `name` is for errors and logs.
 *
 * @example
 * ```ts
 * export const quotaKey = createStateKey<{ remaining: number }>('ratelimit.quota')
 * ```
 */
export function createStateKey<T>(name: string): StateKey<T> {
  return Object.freeze({ name }) as StateKey<T>
}

/** How a principal was authenticated. */
export type AuthMethod = 'jwt' | 'api-key' | 'introspection' | 'mtls' | 'basic' | (string & {})

/**
 * The authenticated subject of a request, set by any auth policy and read by rate limiting, caching,
 * transforms and logs, so that none of them depends on an auth package.
 */
export interface Principal {
  /** Stable subject id (JWT `sub`, API key owner, introspected `sub`). */
  subject: string
  /** Consumer / client application id, when distinct from the subject. */
  consumer?: string
  /** Granted scopes. */
  scopes: readonly string[]
  /** Verified claims (JWT payload, introspection response, key metadata). */
  claims: Readonly<Record<string, unknown>>
  /** How the principal was authenticated. */
  method: AuthMethod
}

/**
 * The shared state key for the authenticated principal.
 *
 * @example
 * ```ts
 * const who = ex.get(principalKey)?.subject ?? 'anonymous'
 * ```
 */
export const principalKey: StateKey<Principal> = createStateKey<Principal>('principal')
