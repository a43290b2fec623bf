import { type ConfigIssue, formatIssues } from '@gw/core/config'
import { PluginError, POLICY_PACKAGE_OF } from './discover-policies.js'
import type { CliIo } from './run-cli.js'

/**
 * Prints an error the way `gw` does (one `gw: ...` line, or the issue list of an invalid configuration; never
 * a stack trace) and returns exit code 1.
 *
 * @example
 * ```ts
 * catch (error) { return reportError(error, io, 'gateway.yaml') }
 * ```
 */
export function reportError(error: unknown, io: CliIo, file: string | undefined): number {
  const issues = configIssues(error)
  if (issues !== undefined) {
    const where = file === undefined ? '' : ` in ${file}`
    io.stderr(`gw: invalid configuration${where}:\n${formatIssues(issues.map(missingPackage))}\n`)
  } else if (error instanceof PluginError) {
    io.stderr(`gw: ${error.message}\n`)
  } else {
    const code = (error as { code?: unknown } | null)?.code
    const message = error instanceof Error ? error.message : String(error)
    io.stderr(`gw: ${typeof code === 'string' && code.startsWith('GW_ERR_') ? `${code}: ` : ''}${message}\n`)
    const resource =
      code === 'GW_ERR_MISSING_RESOURCE' ? /needs the resource '(\w+)'/.exec(message)?.[1] : undefined
    const hint = resource === undefined ? undefined : RESOURCE_HINTS[resource]
    if (hint !== undefined && file !== undefined) io.stderr(`  ${file}: ${hint}\n`)
  }
  return 1
}

const RESOURCE_HINTS: Readonly<Record<string, string>> = {
  redis: 'add a resources.redis section (url, host/port or cluster) and gw start creates the Redis client',
  metrics:
    'add resources.metrics: true (with @gw/metrics installed) and gw start creates the Prometheus telemetry',
}

/** "unknown policy 'cache'" for a policy of one of our packages means that package is not installed. */
function missingPackage(issue: ConfigIssue): ConfigIssue {
  const name = /^unknown policy '([^']+)'/.exec(issue.message)?.[1]
  const pkg =
    name !== undefined && Object.hasOwn(POLICY_PACKAGE_OF, name) ? POLICY_PACKAGE_OF[name] : undefined
  return pkg === undefined ? issue : { ...issue, message: `install ${pkg} to use policy '${name}'` }
}

function configIssues(error: unknown): ConfigIssue[] | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { code, extensions } = error as { code?: unknown; extensions?: { issues?: unknown } }
  if (code !== 'GW_ERR_CONFIG' || !Array.isArray(extensions?.issues)) return undefined
  const issues = extensions.issues as unknown[]
  return issues.every(isIssue) ? issues : undefined
}

function isIssue(value: unknown): value is ConfigIssue {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ConfigIssue).path === 'string' &&
    typeof (value as ConfigIssue).message === 'string'
  )
}
