import type { IncomingHttpHeaders } from 'node:http'
import type { Logger } from '../logger.js'
import type { MaybePromise } from './types.js'

/**
 * An admin request as a mounted handler sees it: already authenticated, never routed through user policies.
 *
 * @example
 * ```ts
 * const handler: AdminHandler = async (req) => ({ body: { purged: await purge(req.query.get('tag')) } })
 * ```
 */
export interface AdminRequest {
  readonly method: string
  /** Path without the query string. */
  readonly path: string
  readonly query: URLSearchParams
  readonly headers: IncomingHttpHeaders
  /** A per-request id, also sent as `x-request-id`. */
  readonly id: string
  /** Reads the body as JSON (at most 1 MiB): `undefined` when empty; a 400 / 413 problem when invalid. */
  json(): Promise<unknown>
  readonly log: Logger
}

/**
 * What a mounted admin handler returns: a body (default `{}`), status (default 200) and extra headers. A
 * string body is sent as it is (content type from `headers`, default `text/plain; charset=utf-8`), anything
 * else as JSON. Throw a `GatewayError` for an error: it is sent as problem+json.
 *
 * @example
 * ```ts
 * const reply: AdminReply = { status: 202, body: { accepted: true } }
 * const text: AdminReply = { body: 'ok\n', headers: { 'content-type': 'text/plain; version=0.0.4' } }
 * ```
 */
export interface AdminReply {
  status?: number
  body?: unknown
  headers?: Record<string, string>
}

/**
 * An operator endpoint handler.
 *
 * @example
 * ```ts
 * const ping: AdminHandler = () => ({ body: { pong: true } })
 * ```
 */
export type AdminHandler = (req: AdminRequest) => MaybePromise<AdminReply>

/**
 * Where packages and apps add operator endpoints to the admin listener (`setup.admin?.mount(...)` in a
 * policy's `create()`, `gateway.admin?.mount(...)` in app code). Paths are exact (no parameters; use the
 * query string), methods upper case; a path or method taken twice, or one of the built-in endpoints, is a
 * start-up error. Mounts made by policies belong to their pipeline: a reload drops them with the old
 * policies and the new policies mount again.
 *
 * @example
 * ```ts
 * create(config, setup) {
 *   setup.admin?.mount('POST', '/cache/purge', async (req) => ({ body: await purge(await req.json()) }))
 *   return { onRequest: ... }
 * }
 * ```
 */
export interface AdminMounts {
  mount(method: string, path: string, handler: AdminHandler): void
}
