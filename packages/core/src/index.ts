/**
 * `@gw/core`: what policy authors and app builders use. Building blocks live on subpaths:
 * `@gw/core/upstream` (upstreams, balancers, breaker, retry budget, their schemas), `@gw/core/config` (config
 * files, server / route / admin schemas, issue formatting, redaction), `@gw/core/runner` (the runner, router
 * and chain compilation, for framework adapters and tools), `@gw/core/testing`, `@gw/core/cluster`.
 */
export { z } from 'zod'
export type { ReloadResult } from './admin/types.js'
export { type ReadBodyOptions, readBody } from './body.js'
export { type Clock, systemClock } from './clock.js'
export {
  coreErrors,
  defineErrors,
  type ErrorDecision,
  type ErrorSpec,
  GatewayError,
  type GatewayErrorOptions,
  type ProblemDocument,
  renderProblem,
} from './errors.js'
export { Exchange, GwRequest, type RouteInfo } from './exchange/exchange.js'
export { createGateway } from './gateway.js'
export type { Gateway, GatewayOptions, RouteConfig, RouteHandler } from './gateway-types.js'
export { createConsoleLogger, LOG_LEVELS, type Logger, type LogLevel, noopLogger } from './logger.js'
export type { AdminHandler, AdminMounts, AdminReply, AdminRequest } from './policy/admin.js'
export {
  createEntry,
  definePolicy,
  localResponse,
  type PolicyFactory,
  respond,
} from './policy/define-policy.js'
export { discardBody } from './policy/runner.js'
export type {
  EntrySettings,
  GwResponse,
  MaybePromise,
  Outcome,
  PolicyDefinition,
  PolicyEntry,
  PolicyHandlers,
  PolicyMode,
  Resources,
  ResponseBody,
  ResponseHeaders,
  SetupContext,
  Stage,
  StateContract,
  SubrequestInit,
  UpstreamDirectory,
  Verdict,
} from './policy/types.js'
export { handleShutdownSignals } from './signals.js'
export { type AuthMethod, createStateKey, type Principal, principalKey, type StateKey } from './state.js'
export { type DecisionMatch, type DecisionRecord, noopTelemetry, type Telemetry } from './telemetry.js'
export type { Upstream } from './upstream/types.js'
export { cookieValues, withoutCookie } from './util/cookie.js'
export { duration } from './util/duration.js'
