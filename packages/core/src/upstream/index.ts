export { CircuitBreaker, type CircuitState, type CircuitTicket } from '../resilience/circuit-breaker.js'
export {
  type BalancedTarget,
  type Balancer,
  type BalancerDeps,
  ConsistentHashBalancer,
  type ConsistentHashOptions,
  compileHashKey,
  createBalancer,
  LeastConnectionsBalancer,
  P2cEwmaBalancer,
  RoundRobinBalancer,
  UNMEASURED_PENALTY,
  WeightedRoundRobinBalancer,
} from './balancers/index.js'
export { hasRequestBody, shieldBody } from './body.js'
export { createUpstream, type UpstreamDeps } from './create-upstream.js'
export { type DnsResolver, expandTarget, needsResolution, systemResolver } from './dns.js'
export { hash32 } from './hash.js'
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
export { HealthChecker, type HealthProbe, type HealthState, statusPasses } from './health-check.js'
export { type FailureKind, failureKind, mapUpstreamError, type UpstreamFailure } from './map-error.js'
export { OutlierDetector, type OutlierState } from './outlier.js'
export { backoffDelay, isIdempotentMethod, MAX_RETRY_DELAY_MS } from './retry.js'
export { RetryBudget, type RetryBudgetOptions } from './retry-budget.js'
export {
  type AnyUpstreamInput,
  type BalancerConfig,
  balancerSchema,
  type CircuitBreakerConfig,
  circuitBreakerSchema,
  dnsSchema,
  type HashKeyConfig,
  type HealthCheckConfig,
  hashKeySchema,
  healthCheckSchema,
  type MultiTargetUpstreamInput,
  type OutlierDetectionConfig,
  outlierDetectionSchema,
  poolSchema,
  type RetryConfig,
  type RetryOn,
  retryOnSchema,
  retrySchema,
  targetSchema,
  timeoutsSchema,
  type UpstreamConfig,
  type UpstreamInput,
  type UpstreamTlsConfig,
  upstreamSchema,
  upstreamTlsSchema,
} from './schema.js'
export {
  createTarget,
  createUpstreamTarget,
  joinPath,
  poolOptions,
  type Target,
  UpstreamTarget,
} from './target.js'
export { loadUpstreamTls } from './tls.js'
export { compileTrustProxy, type TrustProxy } from './trust-proxy.js'
export type { ForwardOptions, ManagedUpstream, TargetSpec, TargetStatus, Upstream } from './types.js'
