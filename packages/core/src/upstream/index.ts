export { hasRequestBody, shieldBody } from './body.js'
export { createUpstream, type UpstreamDeps } from './create-upstream.js'
export {
  buildUpstreamHeaders,
  connectionTokens,
  type ForwardingOptions,
  type ForwardingSource,
  formatForwarded,
  HOP_BY_HOP_HEADERS,
  prepareResponseHeaders,
  type UpstreamRequestHeaders,
  type UpstreamResponseHeaders,
} from './headers.js'
export { mapUpstreamError, type UpstreamFailure } from './map-error.js'
export { backoffDelay, isIdempotentMethod, MAX_RETRY_DELAY_MS } from './retry.js'
export {
  poolSchema,
  timeoutsSchema,
  type UpstreamConfig,
  type UpstreamInput,
  upstreamSchema,
} from './schema.js'
export { createTarget, joinPath, poolOptions, type Target } from './target.js'
export { compileTrustProxy, type TrustProxy } from './trust-proxy.js'
export type { Upstream } from './types.js'
