/**
 * The error model of gw: one {@link GatewayError} class with a stable `GW_ERR_*` code, an HTTP status and a
 * flag saying whether its message may be shown to clients. Every error that reaches a client is rendered as
 * RFC 9457 `application/problem+json` by {@link renderProblem} (the document: {@link toProblem}); internal
 * messages and stacks never leak.
 */
import type { DecisionMatch } from './decision.js'

/**
 * Why a policy denied a request, carried by the `GatewayError` it throws. The runner turns it into the one
 * decision record of the denial (`deny`, or `report` in report mode), so the policy never records it itself.
 *
 * @example
 * ```ts
 * throw tenantErrors.unknown.create(`Tenant '${tenant}' is not served here`, {
 *   decision: { rule: 'tenants', key: tenant, reason: 'unknown-tenant' },
 * })
 * ```
 */
export interface ErrorDecision {
  /** The rule within the policy, e.g. `per-ip`. */
  rule?: string
  /** What the decision applied to (an ip, a subject); never a secret. */
  key?: string
  /** Short machine-readable reason, e.g. `limit-exceeded`. Default: the error code. */
  reason?: string
  /** The rules that matched, when the denial has several findings. */
  matches?: DecisionMatch[]
}

/** Options of a {@link GatewayError}. */
export interface GatewayErrorOptions {
  /** Whether `message` may be shown to the client as the problem `detail`. Default: status < 500. */
  expose?: boolean
  /** The underlying error, kept for logs only. */
  cause?: unknown
  /** Extra headers for the problem response, e.g. `Retry-After` or `Allow`. */
  headers?: Record<string, string>
  /** Extra members of the problem document (RFC 9457 extension members). */
  extensions?: Record<string, unknown>
  /**
   * Marks the error as a policy's denial and says why (rule, key, reason, matches). The runner records it
   * once and, in report mode, lets the request through instead. Thrown client errors (status < 500) are
   * denials even without it; a 5xx error is a denial only with it (a rate limit failing closed), otherwise
   * it is a failure that report mode does not skip.
   */
  decision?: ErrorDecision
}

/**
 * An error with a stable code and an HTTP status, safe to turn into a client response. Client errors
 * (status < 500) are answers, not faults: they capture no stack trace, which keeps a flood of denials cheap;
 * server errors keep theirs for the log.
 *
 * @example
 * ```ts
 * throw new GatewayError('GW_ERR_BODY_TOO_LARGE', 413, 'Request body exceeds 1048576 bytes')
 * ```
 */
export class GatewayError extends Error {
  override readonly name = 'GatewayError'
  readonly expose: boolean
  readonly headers: Record<string, string> | undefined
  readonly extensions: Record<string, unknown> | undefined
  readonly decision: ErrorDecision | undefined

  constructor(
    readonly code: `GW_ERR_${string}`,
    readonly status: number,
    message: string,
    options: GatewayErrorOptions = {},
  ) {
    const stackTraceLimit = Error.stackTraceLimit
    if (status < 500) Error.stackTraceLimit = 0
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    Error.stackTraceLimit = stackTraceLimit
    this.expose = options.expose ?? status < 500
    this.headers = options.headers
    this.extensions = options.extensions
    this.decision = options.decision
  }
}

/** A catalogue entry: how to build one kind of {@link GatewayError}. */
export interface ErrorSpec {
  readonly code: `GW_ERR_${string}`
  readonly status: number
  readonly title: string
}

/**
 * Declares a package's error catalogue; each entry gets a `create(detail, options)` builder.
 *
 * @example
 * ```ts
 * export const authErrors = defineErrors({
 *   missingToken: { code: 'GW_ERR_AUTH_MISSING', status: 401, title: 'Missing credentials' },
 * })
 * throw authErrors.missingToken.create('No bearer token in Authorization header')
 * ```
 */
export function defineErrors<const T extends Record<string, ErrorSpec>>(
  specs: T,
): {
  readonly [K in keyof T]: T[K] & { create(detail?: string, options?: GatewayErrorOptions): GatewayError }
} {
  const out: Record<string, unknown> = {}
  for (const [key, spec] of Object.entries(specs)) {
    titles.set(spec.code, spec.title)
    out[key] = {
      ...spec,
      create: (detail?: string, options?: GatewayErrorOptions) =>
        new GatewayError(spec.code, spec.status, detail ?? spec.title, options),
    }
  }
  return out as never
}

const titles = new Map<string, string>()

/** The errors raised by @gw/core itself. */
export const coreErrors = defineErrors({
  badRequest: { code: 'GW_ERR_BAD_REQUEST', status: 400, title: 'Bad request' },
  badHost: { code: 'GW_ERR_BAD_HOST', status: 400, title: 'Invalid or duplicate Host header' },
  notFound: { code: 'GW_ERR_ROUTE_NOT_FOUND', status: 404, title: 'Not found' },
  methodNotAllowed: { code: 'GW_ERR_METHOD_NOT_ALLOWED', status: 405, title: 'Method not allowed' },
  connectNotSupported: { code: 'GW_ERR_CONNECT_NOT_SUPPORTED', status: 501, title: 'Not implemented' },
  requestTimeout: { code: 'GW_ERR_REQUEST_TIMEOUT', status: 408, title: 'Request timeout' },
  bodyTooLarge: { code: 'GW_ERR_BODY_TOO_LARGE', status: 413, title: 'Content too large' },
  headersTooLarge: {
    code: 'GW_ERR_HEADERS_TOO_LARGE',
    status: 431,
    title: 'Request header fields too large',
  },
  clientAborted: { code: 'GW_ERR_CLIENT_ABORTED', status: 499, title: 'Client closed request' },
  internal: { code: 'GW_ERR_INTERNAL', status: 500, title: 'Internal gateway error' },
  upstreamUnavailable: { code: 'GW_ERR_UPSTREAM_UNAVAILABLE', status: 502, title: 'Bad gateway' },
  upstreamReset: { code: 'GW_ERR_UPSTREAM_RESET', status: 502, title: 'Bad gateway' },
  upstreamProtocol: { code: 'GW_ERR_UPSTREAM_PROTOCOL', status: 502, title: 'Bad gateway' },
  upstreamTls: { code: 'GW_ERR_UPSTREAM_TLS', status: 502, title: 'Bad gateway' },
  noUpstream: { code: 'GW_ERR_NO_UPSTREAM', status: 503, title: 'Service unavailable' },
  shuttingDown: { code: 'GW_ERR_SHUTTING_DOWN', status: 503, title: 'Service unavailable' },
  noHealthyTarget: { code: 'GW_ERR_NO_HEALTHY_TARGET', status: 503, title: 'Service unavailable' },
  circuitOpen: { code: 'GW_ERR_CIRCUIT_OPEN', status: 503, title: 'Service unavailable' },
  upstreamOverloaded: { code: 'GW_ERR_UPSTREAM_OVERLOADED', status: 503, title: 'Service unavailable' },
  upstreamTimeout: { code: 'GW_ERR_UPSTREAM_TIMEOUT', status: 504, title: 'Gateway timeout' },
  config: { code: 'GW_ERR_CONFIG', status: 500, title: 'Invalid gateway configuration' },
  policyOrder: { code: 'GW_ERR_POLICY_ORDER', status: 500, title: 'Invalid policy order' },
  missingResource: { code: 'GW_ERR_MISSING_RESOURCE', status: 500, title: 'Missing resource' },
  adminUnauthorized: { code: 'GW_ERR_ADMIN_UNAUTHORIZED', status: 401, title: 'Admin key required' },
  reloadInvalid: { code: 'GW_ERR_RELOAD_INVALID', status: 422, title: 'Invalid configuration; not reloaded' },
  reloadUnavailable: { code: 'GW_ERR_RELOAD_UNAVAILABLE', status: 409, title: 'No reload source' },
})

const statusTitles: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  408: 'Request timeout',
  409: 'Conflict',
  413: 'Content too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  431: 'Request header fields too large',
  500: 'Internal gateway error',
  502: 'Bad gateway',
  503: 'Service unavailable',
  504: 'Gateway timeout',
}

/** Turns anything thrown into a {@link GatewayError}; unknown errors become a 500 that exposes nothing. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error
  return coreErrors.internal.create(undefined, { cause: error })
}

/** The RFC 9457 problem document gw sends. */
export interface ProblemDocument {
  type: string
  title: string
  status: number
  detail: string
  code: string
  requestId?: string
  [extension: string]: unknown
}

/** Base URI of the `type` member of gw problem documents; the fragment is the error code in kebab case. */
export const PROBLEM_TYPE_BASE = 'https://gw.dev/problems/'

/**
 * Builds the problem document for an error, never leaking unexposed messages.
 *
 * @example
 * ```ts
 * toProblem(coreErrors.notFound.create('No route for GET /x'), 'req-1').status // 404
 * ```
 */
export function toProblem(error: GatewayError, requestId?: string): ProblemDocument {
  const title = titles.get(error.code) ?? statusTitles[error.status] ?? 'Error'
  const doc: ProblemDocument = {
    type: PROBLEM_TYPE_BASE + error.code.slice(7).toLowerCase().replaceAll('_', '-'),
    title,
    status: error.status,
    detail: error.expose ? error.message : title,
    code: error.code,
  }
  if (requestId !== undefined) doc.requestId = requestId
  if (error.extensions) {
    for (const [key, value] of Object.entries(error.extensions)) if (!(key in doc)) doc[key] = value
  }
  return doc
}

/** Serialises an error as problem+json bytes and headers, ready to write to a socket or a response. */
export function renderProblem(
  error: GatewayError,
  requestId?: string,
): { status: number; headers: Record<string, string>; body: string } {
  const body = JSON.stringify(toProblem(error, requestId))
  const headers: Record<string, string> = {
    'content-type': 'application/problem+json',
    'content-length': String(Buffer.byteLength(body)),
    'cache-control': 'no-store',
    ...error.headers,
  }
  return { status: error.status, headers, body }
}
