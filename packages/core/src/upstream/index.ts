/**
 * `@gw/core/upstream`: the upstream building blocks `createGateway` uses, for apps and tools that build or
 * instrument upstreams themselves: `createUpstream`, balancers, outlier detection, the retry
 * budget, the zod schemas of `upstreams.<name>` and their types.
 */

export { type ClientAddressResolver, createClientAddressResolver, normaliseIp } from '../util/ip.js'
export {
  type BalancedTarget,
  type Balancer,
  type BalancerDeps,
  createBalancer,
} from './balancers/index.js'
export { createUpstream, type UpstreamDeps } from './create-upstream.js'
export type { DnsResolver } from './dns.js'
export { OutlierDetector, type OutlierState } from './outlier.js'
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
export type { ForwardOptions, ManagedUpstream, TargetSpec, TargetStatus, Upstream } from './types.js'
