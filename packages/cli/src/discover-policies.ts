import { existsSync, readFileSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isPolicyLike, type PolicyLike } from '@gw/core/config'

/**
 * The gw policy packages `gw` looks for; each exports `policies`, an array of its policy factories.
 *
 * @example
 * ```ts
 * await discoverPolicies({ packages: POLICY_PACKAGES.filter((p) => p !== '@gw/metrics') })
 * ```
 */
export const POLICY_PACKAGES = [
  '@gw/auth',
  '@gw/ratelimit',
  '@gw/cache',
  '@gw/transform',
  '@gw/security',
  '@gw/metrics',
] as const

/**
 * The package of every policy our packages define, so that a file naming one that is not installed gets
 * "install @gw/cache to use policy 'cache'". A test keeps it equal to the packages' `policies` exports.
 *
 * @example
 * ```ts
 * POLICY_PACKAGE_OF['rate-limit'] // '@gw/ratelimit'
 * ```
 */
export const POLICY_PACKAGE_OF: Readonly<Record<string, (typeof POLICY_PACKAGES)[number]>> = {
  jwt: '@gw/auth',
  'api-key': '@gw/auth',
  introspection: '@gw/auth',
  basic: '@gw/auth',
  authorize: '@gw/auth',
  'any-of': '@gw/auth',
  'rate-limit': '@gw/ratelimit',
  'concurrency-limit': '@gw/ratelimit',
  cache: '@gw/cache',
  'cache-purge': '@gw/cache',
  'request-headers': '@gw/transform',
  'response-headers': '@gw/transform',
  rewrite: '@gw/transform',
  'json-body': '@gw/transform',
  compress: '@gw/transform',
  'security-headers': '@gw/security',
  cors: '@gw/security',
  'request-validation': '@gw/security',
  'openapi-validation': '@gw/security',
  'ip-filter': '@gw/security',
  'attack-filter': '@gw/security',
  'bot-filter': '@gw/security',
  metrics: '@gw/metrics',
  'access-log': '@gw/metrics',
  'trace-context': '@gw/metrics',
}

/** Where policies came from: a package or plugin and the names it contributed. */
export interface PolicySource {
  module: string
  names: string[]
}

/** Options of {@link discoverPolicies}. */
export interface DiscoverOptions {
  /** Extra modules (`--plugin`): a path (relative to `cwd`) or a package name. */
  plugins?: readonly string[]
  /** Directory whose node_modules are searched besides the CLI's own. Default `process.cwd()`. */
  cwd?: string
  /** Packages to look for. Default {@link POLICY_PACKAGES}. */
  packages?: readonly string[]
}

/**
 * A module failed to load or exports no policies; the CLI prints the message and exits 1.
 *
 * @example
 * ```ts
 * throw new PluginError("'./my-policies.js' exports no 'policies' array")
 * ```
 */
export class PluginError extends Error {
  override readonly name = 'PluginError'
}

/**
 * Collects the policies of the installed gw policy packages and of `--plugin` modules. A package that is not
 * installed is skipped silently; one that is installed but fails to load, or a plugin that cannot be loaded
 * or exports no `policies` array, is a {@link PluginError}. Packages are looked up from the CLI itself and
 * from `cwd` (so a project-local install of the policy packages is found by a linked or global `gw`).
 *
 * @example
 * ```ts
 * const { policies, sources } = await discoverPolicies({ plugins: ['./my-policies.js'] })
 * const registry = createPolicyRegistry(policies)
 * ```
 */
export async function discoverPolicies(
  options: DiscoverOptions = {},
): Promise<{ policies: PolicyLike[]; sources: PolicySource[] }> {
  const cwd = options.cwd ?? process.cwd()
  const policies: PolicyLike[] = []
  const sources: PolicySource[] = []
  const add = (module: string, exported: readonly PolicyLike[]): void => {
    policies.push(...exported)
    sources.push({ module, names: exported.map((p) => ('definition' in p ? p.definition.name : p.name)) })
  }
  for (const name of options.packages ?? POLICY_PACKAGES) {
    const loaded = await importPackage(name, cwd)
    if (loaded === undefined) continue
    add(name, policiesOf(loaded, name))
  }
  for (const plugin of options.plugins ?? []) {
    const local = plugin.startsWith('.') || isAbsolute(plugin)
    const loaded = local ? await importFile(resolve(cwd, plugin), plugin) : await importPackage(plugin, cwd)
    if (loaded === undefined) throw new PluginError(`cannot find plugin '${plugin}'`)
    add(plugin, policiesOf(loaded, plugin))
  }
  return { policies, sources }
}

function policiesOf(module: Record<string, unknown>, name: string): PolicyLike[] {
  const exported = module.policies ?? module.default
  if (!Array.isArray(exported)) throw new PluginError(`'${name}' exports no 'policies' array`)
  const bad = exported.findIndex((item) => !isPolicyLike(item))
  if (bad !== -1) throw new PluginError(`'${name}': policies[${bad}] is not a policy definition or factory`)
  return exported as PolicyLike[]
}

async function importFile(path: string, label: string): Promise<Record<string, unknown>> {
  if (!existsSync(path)) throw new PluginError(`cannot find plugin '${label}' (${path})`)
  return load(pathToFileURL(path).href, label)
}

/**
 * Imports an installed package from the CLI's own node_modules, else from those above `cwd`; `undefined` when
 * it is not installed. An installed package that fails to load is a {@link PluginError}.
 *
 * @example
 * ```ts
 * const auth = await importInstalled<{ hashApiKey(key: string): string }>('@gw/auth', process.cwd())
 * ```
 */
export async function importInstalled<T = Record<string, unknown>>(
  name: string,
  cwd: string,
): Promise<T | undefined> {
  return (await importPackage(name, cwd)) as T | undefined
}

async function importPackage(name: string, cwd: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(name)) as Record<string, unknown>
  } catch (error) {
    if (!isNotFound(error, name)) throw new PluginError(`cannot load '${name}': ${messageOf(error)}`)
  }
  const entry = resolveFrom(cwd, name)
  return entry === undefined ? undefined : load(pathToFileURL(entry).href, name)
}

async function load(url: string, label: string): Promise<Record<string, unknown>> {
  try {
    return (await import(url)) as Record<string, unknown>
  } catch (error) {
    throw new PluginError(`cannot load '${label}': ${messageOf(error)}`)
  }
}

function isNotFound(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown }).code
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') &&
    messageOf(error).includes(`'${name}'`)
  )
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** Finds `name`'s ESM entry in the node_modules above `dir`, reading its package.json `exports`. */
function resolveFrom(dir: string, name: string): string | undefined {
  for (let current = resolve(dir); ; current = dirname(current)) {
    const root = join(current, 'node_modules', ...name.split('/'))
    const manifest = join(root, 'package.json')
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
        exports?: unknown
        module?: string
        main?: string
      }
      const target = exportTarget(pkg.exports) ?? pkg.module ?? pkg.main ?? 'index.js'
      return join(root, target)
    }
    if (dirname(current) === current) return undefined
  }
}

function exportTarget(exports: unknown): string | undefined {
  if (typeof exports === 'string') return exports
  if (typeof exports !== 'object' || exports === null) return undefined
  const map = exports as Record<string, unknown>
  const keys = Object.keys(map)
  if (keys.some((key) => key.startsWith('.'))) return exportTarget(map['.'])
  for (const condition of ['import', 'node', 'default']) {
    const target = exportTarget(map[condition])
    if (target !== undefined) return target
  }
  return undefined
}
