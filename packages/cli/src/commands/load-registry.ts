import { createPolicyRegistry, type PolicyRegistry } from '@gw/core/config'
import { discoverPolicies, PluginError } from '../discover-policies.js'
import type { CliContext } from '../run-cli.js'

/**
 * The policy registry of a CLI run: the installed gw policy packages plus `--plugin` modules. A name
 * registered by two different modules is a {@link PluginError}.
 *
 * @example
 * ```ts
 * const registry = await loadRegistry({ io, plugins: ['./my-policies.js'] })
 * ```
 */
export async function loadRegistry(ctx: CliContext): Promise<PolicyRegistry> {
  const { policies, sources } = await discoverPolicies({ plugins: ctx.plugins, cwd: ctx.io.cwd })
  try {
    return createPolicyRegistry(policies)
  } catch (error) {
    const modules = sources.map((s) => `${s.module} (${s.names.join(', ') || 'no policies'})`).join('; ')
    throw new PluginError(`${error instanceof Error ? error.message : String(error)}; loaded: ${modules}`)
  }
}
