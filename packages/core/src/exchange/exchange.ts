import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import type { Clock } from '../clock.js'
import type { GatewayError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { StateKey } from '../state.js'

/** The matched route, as policies see it. */
export interface RouteInfo {
  /** Route id from the config (or `METHOD pattern`); `__unmatched` when no route matched. */
  readonly id: string
  /** The path pattern that matched, e.g. `/api/users/:id` (use this, never the raw path, as a metric label). */
  readonly pattern: string
  /** Path parameters; the wildcard is `'*'`. */
  readonly params: Readonly<Record<string, string | undefined>>
  /** Name of the upstream the route forwards to, if any. */
  readonly upstream: string | undefined
}

/** The route info of requests that matched no route. */
export const UNMATCHED_ROUTE: RouteInfo = Object.freeze({
  id: '__unmatched',
  pattern: '',
  params: Object.freeze({}),
  upstream: undefined,
})

/** What a {@link GwRequest} is built from. */
export interface RequestInit {
  method: string
  url: string
  headers: IncomingHttpHeaders
  body: Readable
  ip: string
  protocol: 'http' | 'https'
  host: string
}

/**
 * The client request as policies see it. Headers are node's plain lowercase object; edit it to change what is
 * forwarded. The query is parsed only when read.
 */
export class GwRequest {
  /** Method; may be overridden by a transform before forwarding. */
  method: string
  /** The request target as received (origin-form: path and query). */
  readonly url: string
  /** Path without the query, undecoded. */
  readonly path: string
  /** The query string without `?` ('' when absent). */
  readonly search: string
  /** Request headers (lowercase names); changes are forwarded upstream. */
  readonly headers: IncomingHttpHeaders
  /** The body stream (the node IncomingMessage). Use `readBody()` to buffer it with a limit. */
  readonly body: Readable
  /** Client ip, after applying the trusted-proxy list to `X-Forwarded-For`. */
  readonly ip: string
  /** Protocol the client used to reach the gateway (or the trusted proxy in front of it). */
  readonly protocol: 'http' | 'https'
  /** Host the client asked for (from `Host`, or the authority of an absolute-form target), without changes. */
  readonly host: string
  #query: URLSearchParams | undefined

  constructor(init: RequestInit) {
    this.method = init.method
    this.url = init.url
    const q = init.url.indexOf('?')
    this.path = q === -1 ? init.url : init.url.slice(0, q)
    this.search = q === -1 ? '' : init.url.slice(q + 1)
    this.headers = init.headers
    this.body = init.body
    this.ip = init.ip
    this.protocol = init.protocol
    this.host = init.host
  }

  /** Parsed query (created on first read). */
  get query(): URLSearchParams {
    this.#query ??= new URLSearchParams(this.search)
    return this.#query
  }
}

/**
 * Something to tell when the client goes away (an upstream call in flight): a plain object, so that the hot
 * path needs no `AbortController` per request.
 *
 * @example
 * ```ts
 * const hook: ClientAbortHook = { onClientAbort: (reason) => call.cancel(reason) }
 * ```
 */
export interface ClientAbortHook {
  onClientAbort(reason: Error): void
}

/** What an {@link Exchange} is built from. */
export interface ExchangeInit {
  id: string
  request: GwRequest
  route: RouteInfo
  upstreamPath: string
  clock: Clock
  log: Logger
}

/**
 * The per-request object every handler receives: request, route, typed state, logger, abort signal, clock.
 *
 * @example
 * ```ts
 * onRequest(ex) {
 *   ex.log.debug({ path: ex.request.path }, 'checking')
 *   ex.set(principalKey, { subject: 'u1', scopes: [], claims: {}, method: 'api-key' })
 * }
 * ```
 */
export class Exchange {
  /** Request id: a valid incoming `X-Request-Id`, or a generated one; echoed on the response. */
  readonly id: string
  readonly request: GwRequest
  /** The matched route. */
  route: RouteInfo
  /** Path and query sent upstream (after prefix strip and rewrite); policies may change it. */
  upstreamPath: string
  /** Arrival time by the gateway clock (ms since epoch). */
  readonly startedAt: number
  /** True once the client went away before the response completed. */
  aborted = false
  /**
   * The request body when a policy buffered it (`readBody`) or replaced it; the proxy then forwards these bytes
   * (with a matching Content-Length) instead of the stream.
   */
  bufferedBody: Buffer | undefined = undefined
  /**
   * Set to end the client connection after this response (`Connection: close`), e.g. when a request body was
   * refused part-way and the rest will not be read.
   */
  closeConnection = false

  /** @internal Number of policies entered by the runner. */
  _entered = 0
  /** @internal Index of the policy that answered locally, or -1. */
  _responder = -1
  /** @internal The error that shaped the response. */
  _error: GatewayError | undefined = undefined
  /** @internal Set once `onComplete` handlers have run. */
  _completed = false

  readonly #clock: Clock
  readonly #baseLog: Logger
  #log: Logger | undefined
  #state: Map<StateKey<unknown>, unknown> | undefined
  #abort: AbortController | undefined
  #hook: ClientAbortHook | undefined
  #hooks: ClientAbortHook[] | undefined

  constructor(init: ExchangeInit) {
    this.id = init.id
    this.request = init.request
    this.route = init.route
    this.upstreamPath = init.upstreamPath
    this.#clock = init.clock
    this.#baseLog = init.log
    this.startedAt = init.clock.now()
  }

  /** Child logger bound to the request id (created on first use). */
  get log(): Logger {
    this.#log ??= this.#baseLog.child({ reqId: this.id })
    return this.#log
  }

  /** Aborts when the client disconnects (created on first use). */
  get signal(): AbortSignal {
    if (!this.#abort) {
      this.#abort = new AbortController()
      if (this.aborted) this.#abort.abort(new Error('client disconnected'))
    }
    return this.#abort.signal
  }

  /** Current time by the gateway clock. */
  now(): number {
    return this.#clock.now()
  }

  /** Reads typed state. */
  get<T>(key: StateKey<T>): T | undefined {
    return this.#state?.get(key) as T | undefined
  }

  /** Writes typed state. */
  set<T>(key: StateKey<T>, value: T): void {
    this.#state ??= new Map()
    this.#state.set(key, value)
  }

  /** Whether state is set for a key. */
  has(key: StateKey<unknown>): boolean {
    return this.#state?.has(key) ?? false
  }

  /** Marks the exchange aborted (client gone) and fires the signal and the abort hooks, if any. */
  abort(reason: Error = new Error('client disconnected')): void {
    if (this.aborted) return
    this.aborted = true
    this.#abort?.abort(reason)
    const hook = this.#hook
    this.#hook = undefined
    hook?.onClientAbort(reason)
    const hooks = this.#hooks
    this.#hooks = undefined
    if (hooks !== undefined) for (const h of hooks) h.onClientAbort(reason)
  }

  /** @internal Registers a hook told once when the client goes away (see {@link ClientAbortHook}). */
  _onAbort(hook: ClientAbortHook): void {
    if (this.#hook === undefined) this.#hook = hook
    else if (this.#hooks === undefined) this.#hooks = [hook]
    else this.#hooks.push(hook)
  }

  /** @internal Removes a hook registered with `_onAbort`. */
  _offAbort(hook: ClientAbortHook): void {
    if (this.#hook === hook) this.#hook = undefined
    else if (this.#hooks !== undefined) {
      const i = this.#hooks.indexOf(hook)
      if (i !== -1) this.#hooks.splice(i, 1)
    }
  }
}
