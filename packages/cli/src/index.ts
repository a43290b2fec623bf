/**
 * `@gw/cli`: the `gw` binary (`gw validate`, `gw start`, `gw schema`) and its pieces, for scripts that want
 * the same policy discovery or error output.
 */

export { loadRegistry } from './commands/load-registry.js'
export { runSchema } from './commands/schema.js'
export { type ListenOverrides, runStart } from './commands/start.js'
export { runValidate } from './commands/validate.js'
export {
  type DiscoverOptions,
  discoverPolicies,
  PluginError,
  POLICY_PACKAGES,
  type PolicySource,
} from './discover-policies.js'
export { reportError } from './report-error.js'
export { type CliContext, type CliIo, runCli } from './run-cli.js'
