/**
 * `@gw/core/config`: gateway files (YAML or JSON) validated by a root zod schema built from the registered
 * policy definitions, `${VAR}` substitution, conversion to `GatewayOptions`, and the JSON Schema for editors;
 * the schemas of the `server`, `routes[]` and `admin` sections, config issue formatting and secret redaction.
 */
export { isSecretName, redactConfig } from '../admin/redact.js'
export { type AdminConfig, type AdminInput, adminSchema } from '../admin/schema.js'
export {
  DEFAULT_ROUTE_METHODS,
  httpMethodSchema,
  type RouteBaseInput,
  rewriteSchema,
  routeBaseSchema,
} from '../router/schema.js'
export {
  type RedirectHttpConfig,
  redirectHttpSchema,
  type ServerConfig,
  type ServerInput,
  serverSchema,
  type TlsConfig,
  tlsCertificateSchema,
  tlsSchema,
} from '../server/schema.js'
export { duration, parseDuration } from '../util/duration.js'
export { configErrorMap } from '../util/error-map.js'
export { type ConfigIssue, collectIssues, formatIssues, formatPath } from '../util/format-issues.js'
export { type EnvExpansion, type EnvProblem, type EnvSource, expandEnv, substituteEnv } from './env.js'
export {
  buildConfigSchema,
  configJsonSchema,
  ENV_REFERENCE_PATTERN,
  type FileConfig,
  type FileConfigInput,
  type FilePolicyEntry,
  type FileRoute,
  type FileRouteInput,
  type ResourcesConfig,
  type ResourcesInput,
  redisResourceSchema,
  resourcesSchema,
} from './file-schema.js'
export {
  type ConfigFormat,
  type LoadConfigOptions,
  type LoadedConfig,
  loadConfigFile,
  parseConfig,
} from './load.js'
export { injectOptionsTable, renderOptionsTable } from './options-table.js'
export { createPolicyRegistry, isPolicyLike, type PolicyLike, type PolicyRegistry } from './registry.js'
export {
  fromSeedConfig,
  type SeedBackend,
  type SeedConfig,
  type SeedMapping,
  type SeedPolicyHints,
} from './seed.js'
export { toGatewayOptions } from './to-gateway-options.js'
