export { z } from 'zod'
export { isSecretName, redactConfig } from './admin/redact.js'
export { type AdminConfig, type AdminInput, adminSchema } from './admin/schema.js'
export type { AdminHandler, AdminMounts, AdminReply, AdminRequest } from './admin/types.js'
export { type ReadBodyOptions, readBody } from './body.js'
export { type Clock, systemClock } from './clock.js'
export { duration, parseDuration } from './config/duration.js'
export { type ConfigIssue, collectIssues, formatIssues, formatPath } from './config/format-issues.js'
export {
  DEFAULT_ROUTE_METHODS,
  httpMethodSchema,
  type RedirectHttpConfig,
  type RouteBaseInput,
  redirectHttpSchema,
  rewriteSchema,
  routeBaseSchema,
  type ServerConfig,
  type ServerInput,
  serverSchema,
  type TlsConfig,
  tlsCertificateSchema,
  tlsSchema,
} from './config/schema.js'
export {
  coreErrors,
  defineErrors,
  type ErrorDecision,
  type ErrorSpec,
  GatewayError,
  type GatewayErrorOptions,
  PROBLEM_TYPE_BASE,
  type ProblemDocument,
  renderProblem,
  toGatewayError,
  toProblem,
} from './errors.js'
export {
  Exchange,
  type ExchangeInit,
  GwRequest,
  type RequestInit,
  type RouteInfo,
  UNMATCHED_ROUTE,
} from './exchange/exchange.js'
export { createGateway } from './gateway.js'
export type { Gateway, GatewayOptions, ReloadResult, RouteConfig, RouteHandler } from './gateway-types.js'
export { createConsoleLogger, LOG_LEVELS, type Logger, type LogLevel, noopLogger } from './logger.js'
export {
  type CompiledChain,
  type InstantiateContext,
  instantiatePolicies,
  type LocatedEntry,
  type PolicyInstance,
  sortByStage,
  type Terminal,
  validateChainOrder,
} from './policy/chain.js'
export {
  createEntry,
  definePolicy,
  isRespond,
  localResponse,
  type PolicyFactory,
  respond,
} from './policy/define-policy.js'
export { buildOutcome, completeExchange, discardBody, errorResponse, runExchange } from './policy/runner.js'
export {
  type EntrySettings,
  type GwResponse,
  type MaybePromise,
  type Outcome,
  type PolicyDefinition,
  type PolicyEntry,
  type PolicyHandlers,
  type PolicyMode,
  type Resources,
  type ResponseBody,
  type ResponseHeaders,
  type SetupContext,
  STAGES,
  type Stage,
  type StateContract,
  type Verdict,
} from './policy/types.js'
export { GatewayRouter, type RouteMatch, type RouterRoute } from './router/router.js'
export { type GatewayServer, H2_MAX_CONCURRENT_STREAMS } from './server/listener.js'
export {
  type ClientAddressResolver,
  createClientAddressResolver,
  normaliseIp,
} from './server/request-meta.js'
export { handleShutdownSignals } from './signals.js'
export { type AuthMethod, createStateKey, type Principal, principalKey, type StateKey } from './state.js'
export { type DecisionMatch, type DecisionRecord, noopTelemetry, type Telemetry } from './telemetry.js'
export {
  type AnyUpstreamInput,
  type BalancedTarget,
  type Balancer,
  type BalancerConfig,
  type BalancerDeps,
  balancerSchema,
  CircuitBreaker,
  type CircuitBreakerConfig,
  type CircuitState,
  circuitBreakerSchema,
  createBalancer,
  createUpstream,
  type DnsResolver,
  dnsSchema,
  type HashKeyConfig,
  type HealthCheckConfig,
  healthCheckSchema,
  type MultiTargetUpstreamInput,
  type OutlierDetectionConfig,
  OutlierDetector,
  outlierDetectionSchema,
  poolSchema,
  RetryBudget,
  type RetryConfig,
  retrySchema,
  targetSchema,
  timeoutsSchema,
  type UpstreamConfig,
  type UpstreamDeps,
  type UpstreamInput,
  type UpstreamTlsConfig,
  upstreamSchema,
  upstreamTlsSchema,
} from './upstream/index.js'
export type {
  ForwardOptions,
  ManagedUpstream,
  TargetSpec,
  TargetStatus,
  Upstream,
} from './upstream/types.js'
export { VERSION } from './version.js'
