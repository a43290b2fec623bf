import type { SetupContext } from '@gw/core'

/**
 * The HTTP transport auth policies use for JWKS, discovery and introspection (a subset of `fetch`).
 *
 * @example
 * ```ts
 * createGateway({ resources: { authFetch: (url, init) => fetch(url, { ...init, dispatcher }) }, routes })
 * ```
 */
export type AuthFetch = (
  url: string,
  init: { method?: string; signal: AbortSignal; headers: Record<string, string>; body?: string },
) => Promise<{
  ok: boolean
  status: number
  json(): Promise<unknown>
  /** Response headers (`Cache-Control` and `Age` set how long a JWKS is used); optional for custom transports. */
  headers?: { get(name: string): string | null }
}>

declare module '@gw/core' {
  interface Resources {
    /** Optional transport for @gw/auth's outgoing calls (JWKS, discovery, introspection); global `fetch` when absent. */
    authFetch: AuthFetch
  }
}

/**
 * The transport for outgoing calls: the app's `authFetch` resource, or the global `fetch`.
 *
 * @example
 * ```ts
 * const http = authFetch(setup)
 * ```
 */
export function authFetch(setup: SetupContext): AuthFetch {
  return setup.has('authFetch') ? setup.need('authFetch') : (fetch as AuthFetch)
}
