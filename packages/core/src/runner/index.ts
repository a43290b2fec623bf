/**
 * `@gw/core/runner`: the building blocks `createGateway` is made of, for framework adapters (Express, Fastify,
 * Hono) that drive the same runner with an Exchange built from their own request, and for tools that compile
 * or inspect chains. Policy authors and app builders need only `@gw/core`.
 */
export { PROBLEM_TYPE_BASE, toGatewayError, toProblem } from '../errors.js'
export { type ExchangeInit, type RequestInit, UNMATCHED_ROUTE } from '../exchange/exchange.js'
export {
  type CompiledChain,
  type InstantiateContext,
  instantiatePolicies,
  type LocatedEntry,
  type PolicyInstance,
  sortByStage,
  type Terminal,
  validateChainOrder,
} from '../policy/chain.js'
export { isRespond } from '../policy/define-policy.js'
export { buildOutcome, completeExchange, errorResponse, runExchange } from '../policy/runner.js'
export { STAGES } from '../policy/types.js'
export { GatewayRouter, type RouteMatch, type RouterRoute } from '../router/router.js'
export { type GatewayServer, H2_MAX_CONCURRENT_STREAMS } from '../server/listener.js'
export { VERSION } from '../version.js'
