/**
 * `@gw/cli`: the `gw` binary (`gw validate`, `gw start`, `gw schema`, `gw routes`, `gw hash-key`) and its pieces, for scripts that want
 * the same policy discovery or error output.
 */

export { runHashKey } from './commands/hash-key.js'
export { loadRegistry } from './commands/load-registry.js'
export {
  type RouteRow,
  type RouteTable,
  renderRouteTable,
  routeTable,
  runRoutes,
} from './commands/routes.js'
export { runSchema } from './commands/schema.js'
export { type ListenOverrides, runStart } from './commands/start.js'
export { runValidate } from './commands/validate.js'
export {
  type DiscoverOptions,
  discoverPolicies,
  importInstalled,
  PluginError,
  POLICY_PACKAGE_OF,
  POLICY_PACKAGES,
  type PolicySource,
} from './discover-policies.js'
export { reportError } from './report-error.js'
export {
  createFileResources,
  type FileResources,
  type FileResourcesOptions,
  startClusterMetrics,
} from './resources.js'
export { type CliContext, type CliIo, runCli } from './run-cli.js'
