import { coreErrors, GatewayError } from '../errors.js'
import type { GatewayOptions, RouteConfig } from '../gateway-types.js'
import { createEntry } from '../policy/define-policy.js'
import type { PolicyEntry } from '../policy/types.js'
import { type ConfigIssue, formatIssues } from '../util/format-issues.js'
import type { FileConfig, FilePolicyEntry } from './file-schema.js'
import type { PolicyRegistry } from './registry.js'

/**
 * Turns a validated file config into the {@link GatewayOptions} `createGateway` takes: each policy entry
 * becomes `createEntry(definition, options, { mode, allowOutOfOrder })`. Add app-owned parts (logger,
 * resources, telemetry) by spreading; the file's `resources` section is not included: the app builds the
 * Redis client and telemetry it describes (as `gw start` does). Throws `GW_ERR_CONFIG` (with config paths) if an entry names a policy
 * the registry lacks or its options are invalid, which cannot happen for a config `loadConfigFile` returned
 * with the same registry.
 *
 * @example
 * ```ts
 * const { config } = loadConfigFile('gateway.yaml', { registry })
 * const gateway = await createGateway({ ...toGatewayOptions(config, registry), logger })
 * ```
 */
export function toGatewayOptions(fileConfig: FileConfig, registry: PolicyRegistry): GatewayOptions {
  const issues: ConfigIssue[] = []
  const entries = (list: FilePolicyEntry[] | undefined, path: string): PolicyEntry[] | undefined =>
    list?.flatMap((entry, index) => {
      const created = toEntry(entry, registry, `${path}[${index}]`, issues)
      return created ? [created] : []
    })

  const policies = entries(fileConfig.policies, 'policies')
  const routes = fileConfig.routes.map(({ policies: routePolicies, ...base }, index): RouteConfig => {
    const route: RouteConfig = { ...base }
    const list = entries(routePolicies, `routes[${index}].policies`)
    if (list !== undefined) route.policies = list
    return route
  })
  if (issues.length > 0) {
    throw coreErrors.config.create(`invalid configuration:\n${formatIssues(issues)}`, {
      extensions: { issues },
    })
  }
  const options: GatewayOptions = { routes }
  if (fileConfig.server !== undefined) options.server = fileConfig.server
  if (fileConfig.admin !== undefined) options.admin = fileConfig.admin
  if (fileConfig.upstreams !== undefined) options.upstreams = fileConfig.upstreams
  if (policies !== undefined) options.policies = policies
  return options
}

function toEntry(
  entry: FilePolicyEntry,
  registry: PolicyRegistry,
  path: string,
  issues: ConfigIssue[],
): PolicyEntry | undefined {
  const definition = registry.get(entry.policy)
  if (definition === undefined) {
    issues.push({ path: `${path}.policy`, message: `unknown policy '${entry.policy}'` })
    return undefined
  }
  try {
    return createEntry(definition, entry.options ?? {}, {
      mode: entry.mode ?? 'enforce',
      allowOutOfOrder: entry.allowOutOfOrder ?? false,
    })
  } catch (error) {
    const nested = error instanceof GatewayError ? error.extensions?.issues : undefined
    if (!Array.isArray(nested)) throw error
    const prefix = `${definition.name}.options`
    for (const issue of nested as ConfigIssue[]) {
      const rest = issue.path.startsWith(prefix) ? issue.path.slice(prefix.length) : `.${issue.path}`
      issues.push({ path: `${path}.options${rest}`, message: issue.message })
    }
    return undefined
  }
}
