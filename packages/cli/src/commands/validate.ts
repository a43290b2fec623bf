import { resolve } from 'node:path'
import { noopLogger } from '@gw/core'
import { formatIssues, loadConfigFile, toGatewayOptions } from '@gw/core/config'
import { validateChainOrder } from '@gw/core/runner'
import { createFileResources } from '../resources.js'
import type { CliContext } from '../run-cli.js'
import { loadRegistry } from './load-registry.js'

/**
 * `gw validate <file>`: loads and validates the file, builds every policy entry and checks each route's chain
 * order, then prints `OK ...` (exit 0). Problems are thrown for `runCli` to print (exit 1).
 *
 * @example
 * ```ts
 * const code = await runValidate('gateway.yaml', { io, plugins: [] })
 * ```
 */
export async function runValidate(file: string, ctx: CliContext): Promise<number> {
  const registry = await loadRegistry(ctx)
  const { config, issues: warnings } = loadConfigFile(resolve(ctx.io.cwd, file), {
    registry,
    env: ctx.io.env,
  })
  const options = toGatewayOptions(config, registry)
  await createFileResources(config, { cwd: ctx.io.cwd, log: noopLogger, connect: false })
  const gatewayChain = (options.policies ?? []).map((entry, i) => ({ entry, where: `policies[${i}]` }))
  validateChainOrder(gatewayChain, noopLogger)
  options.routes.forEach((route, index) => {
    const chain = (route.policies ?? []).map((entry, i) => ({
      entry,
      where: `routes[${index}].policies[${i}]`,
    }))
    validateChainOrder([...gatewayChain, ...chain], noopLogger)
  })
  if (warnings.length > 0) ctx.io.stderr(`gw: warnings in ${file}:\n${formatIssues(warnings)}\n`)
  const entries =
    (options.policies?.length ?? 0) + options.routes.reduce((n, r) => n + (r.policies?.length ?? 0), 0)
  const upstreams = Object.keys(options.upstreams ?? {}).length
  ctx.io.stdout(
    `OK ${file}: ${plural(options.routes.length, 'route')}, ${plural(upstreams, 'upstream')}, ${plural(entries, 'policy entry', 'policy entries')}\n`,
  )
  return 0
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`
}
