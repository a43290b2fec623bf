import { coreErrors, GatewayError } from '../errors.js'

/** The result of {@link mapUpstreamError}: the error to raise and whether a retry is allowed. */
export interface UpstreamFailure {
  /** What the client gets (its message is not exposed for 5xx). */
  readonly error: GatewayError
  /** The underlying error code (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, `HPE_INVALID_CONSTANT`, ...). */
  readonly code: string
  /** True when the request never reached the upstream application (connect failure or reset before a response). */
  readonly retriable: boolean
}

const UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EADDRNOTAVAIL',
])
const RESET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_INFO'])
const TIMEOUT = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'ETIMEDOUT'])
const PROTOCOL = new Set([
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
])
const CLOSED = new Set(['UND_ERR_CLOSED', 'UND_ERR_DESTROYED'])
const CERTIFICATE = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_CHAIN_TOO_LONG',
  'INVALID_CA',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

function isTlsFailure(code: string): boolean {
  return CERTIFICATE.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')
}
const RETRIABLE = new Set([
  'ECONNREFUSED',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
])

function codeOf(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const code = (error as { code?: unknown }).code
    if (typeof code === 'string') return code
    if ((error as { name?: unknown }).name === 'HTTPParserError') return 'HPE_UNKNOWN'
    const cause = (error as { cause?: unknown }).cause
    if (cause !== undefined && cause !== error) return codeOf(cause)
  }
  return 'UNKNOWN'
}

/**
 * Maps an error from an upstream call (undici or the OS) to a {@link GatewayError}, following the fixed table:
 * cannot connect -> 502 `GW_ERR_UPSTREAM_UNAVAILABLE`; reset before a response -> 502 `GW_ERR_UPSTREAM_RESET`;
 * connect or headers timeout -> 504 `GW_ERR_UPSTREAM_TIMEOUT`; malformed response (`HPE_*`) -> 502
 * `GW_ERR_UPSTREAM_PROTOCOL`; an upstream certificate that fails verification or a failed TLS handshake -> 502
 * `GW_ERR_UPSTREAM_TLS` (detail and `reason` code shown: they describe the upstream, not the client); pool closed -> 503 `GW_ERR_SHUTTING_DOWN`; an invalid request built by a policy ->
 * 500; a mismatching request body length -> 400. A `GatewayError` passes through unchanged. The underlying error
 * is kept as `cause` (for logs) and never exposed.
 *
 * @example
 * ```ts
 * const { error, retriable } = mapUpstreamError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'users')
 * error.status // 502
 * retriable // true
 * ```
 */
export function mapUpstreamError(error: unknown, upstream: string): UpstreamFailure {
  if (error instanceof GatewayError) return { error, code: error.code, retriable: false }
  const code = codeOf(error)
  const options = { cause: error }
  let mapped: GatewayError
  if (isTlsFailure(code)) {
    mapped = coreErrors.upstreamTls.create(
      CERTIFICATE.has(code)
        ? 'The upstream TLS certificate could not be verified'
        : 'The TLS handshake with the upstream failed',
      { cause: error, expose: true, extensions: { reason: code } },
    )
  } else if (UNAVAILABLE.has(code)) {
    mapped = coreErrors.upstreamUnavailable.create(`Upstream '${upstream}' is unreachable (${code})`, options)
  } else if (RESET.has(code)) {
    mapped = coreErrors.upstreamReset.create(
      `Upstream '${upstream}' closed the connection (${code})`,
      options,
    )
  } else if (TIMEOUT.has(code)) {
    mapped = coreErrors.upstreamTimeout.create(`Upstream '${upstream}' timed out (${code})`, options)
  } else if (code.startsWith('HPE_') || PROTOCOL.has(code)) {
    mapped = coreErrors.upstreamProtocol.create(
      `Upstream '${upstream}' sent an invalid response (${code})`,
      options,
    )
  } else if (CLOSED.has(code)) {
    mapped = coreErrors.shuttingDown.create(`Upstream '${upstream}' is closed`, options)
  } else if (code === 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH') {
    mapped = coreErrors.badRequest.create('Request body length does not match Content-Length', options)
  } else if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') {
    mapped = coreErrors.internal.create(`Invalid request for upstream '${upstream}'`, options)
  } else {
    mapped = coreErrors.upstreamUnavailable.create(`Upstream '${upstream}' failed (${code})`, options)
  }
  return { error: mapped, code, retriable: RETRIABLE.has(code) }
}

/** How a transport failure counts for `retry.retryOn`. */
export type FailureKind = 'connect-failure' | 'reset' | 'timeout'

const CONNECT_FAILURE = new Set([
  'ECONNREFUSED',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
])
const RESET_BEFORE_RESPONSE = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'])

/**
 * Classifies an underlying error code for retry decisions: `connect-failure` (the request never left),
 * `reset` (connection lost before a response), `timeout` (no response headers in time), or `undefined`
 * (not retriable: protocol errors, closed pools, invalid requests).
 *
 * @example
 * ```ts
 * failureKind('ECONNREFUSED') // 'connect-failure'
 * failureKind('UND_ERR_HEADERS_TIMEOUT') // 'timeout'
 * ```
 */
export function failureKind(code: string): FailureKind | undefined {
  if (CONNECT_FAILURE.has(code)) return 'connect-failure'
  if (RESET_BEFORE_RESPONSE.has(code)) return 'reset'
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'ETIMEDOUT' || code === 'GW_ERR_UPSTREAM_TIMEOUT')
    return 'timeout'
  return undefined
}
