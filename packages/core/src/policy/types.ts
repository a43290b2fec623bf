import type { IncomingHttpHeaders } from 'node:http'
import type { Readable } from 'node:stream'
import type { z } from 'zod'
import type { Clock } from '../clock.js'
import type { GatewayError } from '../errors.js'
import type { Exchange } from '../exchange/exchange.js'
import type { Logger } from '../logger.js'
import type { StateKey } from '../state.js'
import type { Telemetry } from '../telemetry.js'
import type { AdminMounts } from './admin.js'

/** A value or a promise of it. Handlers that finish synchronously should return plain values. */
export type MaybePromise<T> = T | Promise<T>

/** Response headers: a plain object with lowercase names, as node:http and undici use. Delete, never set `undefined`. */
export type ResponseHeaders = Record<string, string | string[] | number>

/** A response body: a stream for proxied or large bodies, bytes or text for local replies. */
export type ResponseBody = Readable | Buffer | Uint8Array | string | null

/**
 * A response travelling through the pipeline, from the upstream or from a policy's local reply.
 * `onResponse` handlers may edit `headers` in place or replace the whole response. A proxied response's `body`
 * is created on first read: read it (or assign a new one) rather than copying the object with `{ ...res }`,
 * which would not carry it. Left unread, the upstream body is written straight into the client response.
 */
export interface GwResponse {
  status: number
  headers: ResponseHeaders
  body: ResponseBody
}

/** What a handler decides: continue (return nothing) or answer with a response. */
// biome-ignore lint/suspicious/noConfusingVoidType: handlers that only continue are written without a return
export type Verdict = void | undefined | { respond: GwResponse }

/** What happened to a request, given to `onComplete` once the last byte was sent or the exchange ended early. */
export interface Outcome {
  /** Status sent (or that would have been sent); 499 when the client went away first. */
  status: number
  /** True when the client disconnected before the response was complete. */
  aborted: boolean
  /** The error that shaped the response, if any (upstream failure, thrown handler, ...). */
  error: GatewayError | undefined
  /** Name of the policy that answered locally, if one did. */
  respondedBy: string | undefined
  /** Milliseconds from the request's arrival to completion, by the exchange clock. */
  durationMs: number
  /** Response body bytes written to the client (0 for local replies whose size is unknown to the runner). */
  bytesSent: number
}

/**
 * Default positions of policies in a chain. The list order is the operator's; stages document intent and let
 * definitions declare orders that are unsafe (see {@link PolicyDefinition.mustFollow}).
 */
export const STAGES = ['observe', 'guard', 'authn', 'authz', 'limit', 'cache', 'transform'] as const
/** One of {@link STAGES}. */
export type Stage = (typeof STAGES)[number]

/** `enforce` applies denials; `report` logs and counts what would have been denied and lets the request through. */
export type PolicyMode = 'enforce' | 'report'

/** The phase handlers a policy instance returns from `create()`. All optional. */
export interface PolicyHandlers {
  /** Runs in list order before the upstream; return `{ respond }` to answer locally and stop the chain. */
  onRequest?(ex: Exchange): MaybePromise<Verdict>
  /** Runs in reverse order over entered policies (except the one that answered); may edit or replace `res`. */
  onResponse?(ex: Exchange, res: GwResponse): MaybePromise<Verdict>
  /** Runs exactly once per entered policy, in reverse order, after the response finished, aborted or failed. */
  onComplete?(ex: Exchange, outcome: Outcome): void
  /** Runs once at shutdown, in reverse order of creation. */
  close?(): Promise<void>
}

/**
 * Shared, app-owned resources that policies ask for with `setup.need(key)`. Packages add their keys by
 * module augmentation:
 *
 * @example
 * ```ts
 * declare module '@gw/core' {
 *   interface Resources { redis: import('ioredis').Redis }
 * }
 * ```
 */
export interface Resources {
  /**
   * Core's forwarding for policies that call an upstream themselves (cache background refresh, aggregation).
   * Always present in a gateway built by `createGateway` (core provides it; it cannot be passed in), and in a
   * test pipeline given `upstreams`.
   */
  upstreams: UpstreamDirectory
}

/**
 * What to send with {@link UpstreamDirectory.forward}. Unset fields come from the exchange the request derives from.
 */
export interface SubrequestInit {
  /** Upstream name; default: the route's upstream. */
  readonly upstream?: string
  /** Method; default `GET`. */
  readonly method?: string
  /** Request headers (lowercase names); default: a copy of the client's request headers. */
  readonly headers?: IncomingHttpHeaders
  /** Path and query sent upstream; default: the exchange's `upstreamPath`. */
  readonly path?: string
  /** Request body; default none. */
  readonly body?: Buffer
}

/**
 * The gateway's upstreams as policies see them (`setup.need('upstreams')`). Names resolve against the
 * configuration serving at call time, so a policy instance kept across a reload reaches the current upstreams.
 *
 * @example
 * ```ts
 * const upstreams = setup.need('upstreams')
 * const res = await upstreams.forward(ex, { headers: { accept: 'application/json' } })
 * ```
 */
export interface UpstreamDirectory {
  /** Whether an upstream of that name is configured now. */
  has(name: string): boolean
  /**
   * Sends a request derived from `ex` (same request id, route, client ip, host and logger; its own empty body
   * unless `init.body`; not aborted when the client goes away) through core's forwarding: balancing, retries,
   * breaker, timeouts and header rules as for proxied requests. Resolves with the response (body streamed:
   * read or destroy it) or rejects with a `GatewayError` (502 / 503 / 504; 503 `GW_ERR_NO_UPSTREAM` when no upstream has that name).
   */
  forward(ex: Exchange, init?: SubrequestInit): Promise<GwResponse>
}

/** What a policy's `create()` receives besides its config: start-up services, never per-request state. */
export interface SetupContext {
  /** The policy's name. */
  readonly policy: string
  /** The route id for route-level entries; undefined for gateway-level ones. */
  readonly routeId: string | undefined
  /** The entry's mode; handlers normally let the runner apply it. */
  readonly mode: PolicyMode
  /** Logger bound to `{ policy, route }`. */
  readonly log: Logger
  /** The gateway clock. */
  readonly clock: Clock
  /** The telemetry sink (no-op unless one is installed). */
  readonly telemetry: Telemetry
  /** Returns a resource or throws `GW_ERR_MISSING_RESOURCE` at start-up. */
  need<K extends keyof Resources>(key: K): NonNullable<Resources[K]>
  /** Returns a resource if the app provided it. */
  has<K extends keyof Resources>(key: K): boolean
  /**
   * Operator endpoints on the admin listener (undefined when the gateway has none): `setup.admin?.mount('POST',
   * '/cache/purge', handler)`. Mounts live as long as this policy instance (a reload mounts again).
   */
  readonly admin?: AdminMounts | undefined
}

/** State keys a policy instance requires from earlier policies and provides to later ones. */
export interface StateContract {
  requires?: readonly StateKey<unknown>[]
  provides?: readonly StateKey<unknown>[]
}

/** A policy definition: name, stage, zod schema and factory. Build one with `definePolicy`. */
export interface PolicyDefinition<S extends z.ZodType = z.ZodType> {
  /** Kebab-case, unique: used in config files, logs and metric labels. */
  readonly name: string
  /** Default position in a chain. */
  readonly stage: Stage
  /** One-line description, shown in generated docs and the JSON Schema. */
  readonly description?: string
  /** Options schema; every field `.describe()`d, defaults in the schema. */
  readonly schema: S
  /**
   * Stages whose policies must not come after this one in a chain (checked at start-up). A shared cache
   * declares `['authn', 'authz']`: caching before authentication would serve protected responses to anyone.
   */
  readonly mustFollow?: readonly Stage[]
  /** State keys this instance requires and provides, derived from its config. */
  state?(config: z.output<S>): StateContract
  /** Start-up work (keys, LRUs, scripts): runs once per entry, returns the per-request handlers. */
  create(config: z.output<S>, setup: SetupContext): MaybePromise<PolicyHandlers>
}

/** Per-entry settings that every policy accepts, in code and in config files. */
export interface EntrySettings {
  /** `report` turns denials into logged, counted pass-throughs (dry run). Default `enforce`. */
  mode?: PolicyMode
  /** Skip the start-up order checks for this entry (logged as a warning). */
  allowOutOfOrder?: boolean
}

/** One configured use of a policy in a chain: the definition, its validated options and entry settings. */
export interface PolicyEntry<S extends z.ZodType = z.ZodType> {
  readonly definition: PolicyDefinition<S>
  readonly options: z.output<S>
  readonly mode: PolicyMode
  readonly allowOutOfOrder: boolean
}
