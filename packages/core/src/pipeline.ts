import { AdminMountTable } from './admin/mounts.js'
import { type AdminConfig, adminSchema } from './admin/schema.js'
import type { RouteSummary } from './admin/types.js'
import type { Clock } from './clock.js'
import { coreErrors } from './errors.js'
import type { Exchange } from './exchange/exchange.js'
import type { GatewayOptions, RouteConfig } from './gateway-types.js'
import type { Logger } from './logger.js'
import type { AdminHandler, AdminMounts } from './policy/admin.js'
import {
  type CompiledChain,
  type InstantiateContext,
  instantiatePolicies,
  type PolicyInstance,
  type Terminal,
  validateChainOrder,
} from './policy/chain.js'
import type { PolicyEntry } from './policy/types.js'
import { createProxyStep } from './proxy/proxy-step.js'
import { GatewayRouter } from './router/router.js'
import { DEFAULT_ROUTE_METHODS, routeBaseSchema } from './router/schema.js'
import { createUpstreamPathMapper } from './router/upstream-path.js'
import type { ActivePipeline, CompiledRoute } from './server/request-handler.js'
import { type ServerConfig, serverSchema } from './server/schema.js'
import type { Telemetry } from './telemetry.js'
import { createUpstream } from './upstream/index.js'
import { upstreamSchema } from './upstream/schema.js'
import type { Upstream } from './upstream/types.js'
import { configErrorMap } from './util/error-map.js'
import { type ConfigIssue, collectIssues, formatIssues } from './util/format-issues.js'
import type { ClientAddressResolver } from './util/ip.js'

/** Services a pipeline is compiled with; they outlive reloads. */
export interface PipelineDeps {
  readonly log: Logger
  readonly clock: Clock
  readonly telemetry: Telemetry
  readonly serverConfig: ServerConfig
  readonly addresses: ClientAddressResolver
  /** Decides whether an admin mount key is already served outside the pipeline; absent without admin. */
  readonly adminTaken: ((key: string) => boolean) | undefined
}

/**
 * A compiled generation: upstreams, policy instances, router and fallback chain, plus what the admin
 * listener shows about it. `active` is the part the request handler reads.
 */
export interface CompiledPipeline {
  readonly active: ActivePipeline
  readonly upstreams: ReadonlyMap<string, Upstream>
  /** Canonical config of each upstream gw built from config, to reuse unchanged ones on reload. */
  readonly upstreamKeys: ReadonlyMap<string, string>
  readonly instances: readonly PolicyInstance[]
  /** How each instance was created, to reuse it on reload when its entry is unchanged. */
  readonly origins: ReadonlyMap<PolicyInstance, PolicyOrigin>
  readonly routes: readonly RouteSummary[]
  readonly options: GatewayOptions
  readonly mounts: AdminMountTable | undefined
}

/**
 * Where a policy instance came from: its reuse key (scope, name, mode and options; undefined when the options
 * hold functions or class instances and only the same options object can match) and the admin endpoints its
 * `create()` mounted, so a reused instance keeps them.
 */
export interface PolicyOrigin {
  readonly key: string | undefined
  readonly scope: string
  readonly options: unknown
  readonly mounts: ReadonlyArray<readonly [method: string, path: string, handler: AdminHandler]>
}

/** Validated process-level options: the parts a reload cannot change. */
export interface ValidatedOptions {
  server: ServerConfig
  admin: AdminConfig | undefined
}

/**
 * Validates gateway options, collecting every problem with its path; throws `GW_ERR_CONFIG` with
 * `extensions.issues` listing them.
 *
 * @example
 * ```ts
 * const { server } = validateOptions({ routes: [{ path: '/', upstream: 'api' }], upstreams: { api: { url } } })
 * ```
 */
export function validateOptions(options: GatewayOptions): ValidatedOptions {
  const issues: ConfigIssue[] = []
  const server = serverSchema.safeParse(options.server ?? {}, { error: configErrorMap })
  if (!server.success) issues.push(...collectIssues(server.error, 'server'))
  const admin =
    options.admin === undefined ? undefined : adminSchema.safeParse(options.admin, { error: configErrorMap })
  if (admin !== undefined && !admin.success) issues.push(...collectIssues(admin.error, 'admin'))
  if (server.success && admin?.success && admin.data.port !== 0 && admin.data.port === server.data.port)
    issues.push({
      path: 'admin.port',
      message: `the admin listener needs its own port (server.port is ${server.data.port})`,
    })
  const upstreamNames = Object.keys(options.upstreams ?? {})
  for (const [name, input] of Object.entries(options.upstreams ?? {})) {
    if (isUpstream(input)) continue
    const parsed = upstreamSchema.safeParse(input, { error: configErrorMap })
    if (!parsed.success) issues.push(...collectIssues(parsed.error, `upstreams.${name}`))
  }
  const ids = new Set<string>()
  const routes = Array.isArray(options.routes) ? options.routes : []
  if (!Array.isArray(options.routes)) issues.push({ path: 'routes', message: 'expected an array of routes' })
  routes.forEach((route, index) => {
    const { policies: _policies, handler, ...base } = route
    const parsed = routeBaseSchema.safeParse(base, { error: configErrorMap })
    if (!parsed.success) issues.push(...collectIssues(parsed.error, `routes[${index}]`))
    if (route.upstream !== undefined && !upstreamNames.includes(route.upstream)) {
      issues.push({
        path: `routes[${index}].upstream`,
        message: `unknown upstream '${route.upstream}' (defined: ${upstreamNames.join(', ') || 'none'})`,
      })
    }
    route.split?.forEach((branch, b) => {
      if (!upstreamNames.includes(branch.upstream))
        issues.push({
          path: `routes[${index}].split[${b}].upstream`,
          message: `unknown upstream '${branch.upstream}' (defined: ${upstreamNames.join(', ') || 'none'})`,
        })
    })
    if (route.split !== undefined && !route.split.some((b) => b.weight > 0))
      issues.push({ path: `routes[${index}].split`, message: 'at least one branch needs a positive weight' })
    if (route.mirror !== undefined && !upstreamNames.includes(route.mirror.upstream))
      issues.push({
        path: `routes[${index}].mirror.upstream`,
        message: `unknown upstream '${route.mirror.upstream}' (defined: ${upstreamNames.join(', ') || 'none'})`,
      })
    const targets = [route.upstream, route.split, handler].filter((t) => t !== undefined).length
    if (targets === 0) {
      issues.push({ path: `routes[${index}]`, message: 'a route needs an upstream, a split or a handler' })
    }
    if (targets > 1) {
      issues.push({
        path: `routes[${index}]`,
        message: 'a route has exactly one of upstream, split and handler',
      })
    }
    const id = routeId(route)
    if (ids.has(id)) issues.push({ path: `routes[${index}].id`, message: `duplicate route id '${id}'` })
    ids.add(id)
  })
  if (issues.length > 0 || !server.success || (admin !== undefined && !admin.success)) {
    throw coreErrors.config.create(`invalid gateway configuration:\n${formatIssues(issues)}`, {
      extensions: { issues },
    })
  }
  return { server: server.data, admin: admin?.data }
}

/**
 * Compiles validated options into a pipeline: creates (or, on reload, reuses unchanged) upstreams, runs each
 * policy's `create()`, checks chain orders and builds one chain per route. On failure everything it created
 * is closed again and reused upstreams are left alone.
 *
 * @example
 * ```ts
 * const next = await compilePipeline(options, deps, current)
 * ```
 */
export async function compilePipeline(
  options: GatewayOptions,
  deps: PipelineDeps,
  previous?: CompiledPipeline,
): Promise<CompiledPipeline> {
  const { log, clock, telemetry, serverConfig } = deps
  const upstreams = new Map<string, Upstream>()
  const upstreamKeys = new Map<string, string>()
  const created: Upstream[] = []
  const instances: PolicyInstance[] = []
  const createdInstances: PolicyInstance[] = []
  const origins = new Map<PolicyInstance, PolicyOrigin>()
  const reusable = reusableInstances(previous)
  const mounts = deps.adminTaken === undefined ? undefined : new AdminMountTable(deps.adminTaken)
  try {
    for (const [name, input] of Object.entries(options.upstreams ?? {})) {
      if (isUpstream(input)) {
        upstreams.set(name, input)
        continue
      }
      const config = upstreamSchema.parse(input)
      const key = canonicalJson(config)
      upstreamKeys.set(name, key)
      const old = previous?.upstreams.get(name)
      if (old !== undefined && previous?.upstreamKeys.get(name) === key) {
        upstreams.set(name, old)
        continue
      }
      const upstream = createUpstream(name, config, {
        log: log.child({ upstream: name }),
        via: serverConfig.via,
        trustProxy: deps.addresses,
        requestIdHeader: serverConfig.requestIdHeader,
        clock,
      })
      created.push(upstream)
      upstreams.set(name, upstream)
    }
    const ctx = { log, clock, telemetry, resources: options.resources ?? {}, admin: mounts }
    const build: PolicyBuild = { ctx, mounts, reusable, instances, created: createdInstances, origins }
    const gatewayEntries = options.policies ?? []
    const gatewayPolicies = await instantiateEach(gatewayEntries, undefined, build)
    validateChainOrder(
      gatewayEntries.map((entry, i) => ({ entry, where: `policies[${i}]` })),
      log,
    )

    const router = new GatewayRouter<CompiledRoute>()
    const routes: RouteSummary[] = []
    for (const [index, route] of options.routes.entries()) {
      const id = routeId(route)
      const routeEntries = route.policies ?? []
      validateChainOrder(
        [
          ...gatewayEntries.map((entry, i) => ({ entry, where: `policies[${i}]` })),
          ...routeEntries.map((entry, i) => ({ entry, where: `routes[${index}].policies[${i}]` })),
        ],
        log,
      )
      const routePolicies = await instantiateEach(routeEntries, id, build)
      const chain: CompiledChain = {
        routeId: id,
        policies: [...gatewayPolicies, ...routePolicies],
        terminal: createProxyStep(route, upstreams),
        telemetry,
      }
      const upstream = route.upstream === undefined ? undefined : upstreams.get(route.upstream)
      const upgrade = route.websocket === false ? undefined : upstream?.upgrade?.bind(upstream)
      const methods = routeMethods(route)
      router.add({
        id,
        pattern: route.path,
        methods,
        host: route.host,
        value: {
          chain,
          upgradeChain: upgrade === undefined ? undefined : { ...chain, terminal: upgrade },
          pattern: route.path,
          upstream: route.upstream,
          mapPath: createUpstreamPathMapper(route.stripPrefix, route.rewrite),
        },
      })
      routes.push({
        id,
        methods,
        host: route.host,
        pattern: route.path,
        upstream: route.upstream ?? route.split?.map((b) => b.upstream),
        policies: chain.policies.map((p) => p.name),
      })
    }
    const active: ActivePipeline = {
      router,
      fallback: {
        routeId: '__unmatched',
        policies: gatewayPolicies,
        terminal: (ex) => unmatched(ex, router),
        telemetry,
      },
      bare: { routeId: '__rejected', policies: [], terminal: (ex) => unmatched(ex, router), telemetry },
      inflight: 0,
      onIdle: undefined,
    }
    return { active, upstreams, upstreamKeys, instances, origins, routes, options, mounts }
  } catch (error) {
    await closeParts(created, createdInstances)
    throw error
  }
}

interface PolicyBuild {
  readonly ctx: InstantiateContext
  readonly mounts: AdminMountTable | undefined
  /** Instances of the previous pipeline by reuse key, consumed as they are reused. */
  readonly reusable: Map<string, Array<[PolicyInstance, PolicyOrigin]>>
  readonly instances: PolicyInstance[]
  readonly created: PolicyInstance[]
  readonly origins: Map<PolicyInstance, PolicyOrigin>
}

/**
 * Instantiates entry by entry, reusing an instance of the previous pipeline whose scope, policy, mode and
 * options are unchanged (so rate-limit counters, caches and key sets survive a reload); when one `create()`
 * throws, the instances created before it can be closed again.
 */
async function instantiateEach(
  entries: readonly PolicyEntry[],
  routeId: string | undefined,
  build: PolicyBuild,
): Promise<PolicyInstance[]> {
  const out: PolicyInstance[] = []
  const scope = routeId ?? ''
  for (const entry of entries) {
    const key = policyReuseKey(scope, entry)
    const reused = takeReusable(build.reusable, key, scope, entry)
    if (reused !== undefined) {
      const [instance, origin] = reused
      for (const [method, path, handler] of origin.mounts) build.mounts?.mount(method, path, handler)
      out.push(instance)
      build.instances.push(instance)
      build.origins.set(instance, origin)
      continue
    }
    const recorded: Array<[string, string, AdminHandler]> = []
    const admin: AdminMounts | undefined =
      build.mounts === undefined
        ? undefined
        : {
            mount(method, path, handler) {
              build.mounts?.mount(method, path, handler)
              recorded.push([method, path, handler])
            },
          }
    const [instance] = await instantiatePolicies([entry], routeId, { ...build.ctx, admin })
    if (instance === undefined) continue
    out.push(instance)
    build.instances.push(instance)
    build.created.push(instance)
    build.origins.set(instance, { key, scope, options: entry.options, mounts: recorded })
  }
  return out
}

function reusableInstances(
  previous: CompiledPipeline | undefined,
): Map<string, Array<[PolicyInstance, PolicyOrigin]>> {
  const byKey = new Map<string, Array<[PolicyInstance, PolicyOrigin]>>()
  for (const [instance, origin] of previous?.origins ?? []) {
    const key = origin.key ?? `${origin.scope}\0identity`
    const list = byKey.get(key)
    if (list === undefined) byKey.set(key, [[instance, origin]])
    else list.push([instance, origin])
  }
  return byKey
}

function takeReusable(
  reusable: Map<string, Array<[PolicyInstance, PolicyOrigin]>>,
  key: string | undefined,
  scope: string,
  entry: PolicyEntry,
): [PolicyInstance, PolicyOrigin] | undefined {
  const list = reusable.get(key ?? `${scope}\0identity`)
  if (list === undefined) return undefined
  const index =
    key === undefined
      ? list.findIndex(
          ([instance, origin]) => origin.options === entry.options && instance.mode === entry.mode,
        )
      : 0
  if (index < 0) return undefined
  return list.splice(index, 1)[0]
}

/**
 * The reuse key of a policy entry: scope (route id or gateway level), policy name, mode and its options as
 * canonical JSON; undefined when the options hold functions or class instances, which JSON cannot compare.
 */
function policyReuseKey(scope: string, entry: PolicyEntry): string | undefined {
  if (!isPlainData(entry.options)) return undefined
  return `${scope}\0${entry.definition.name}\0${entry.mode}\0${canonicalJson(entry.options)}`
}

function isPlainData(value: unknown, depth = 0): boolean {
  if (depth > 32) return false
  if (value === null || value === undefined) return true
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
      return true
    case 'object': {
      if (Array.isArray(value)) return value.every((v) => isPlainData(v, depth + 1))
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return false
      return Object.values(value).every((v) => isPlainData(v, depth + 1))
    }
    default:
      return false
  }
}

/**
 * Closes a pipeline's policies (reverse order) and upstreams, except those a newer pipeline reuses.
 *
 * @example
 * ```ts
 * await closePipeline(old, next)
 * ```
 */
export async function closePipeline(pipeline: CompiledPipeline, next?: CompiledPipeline): Promise<void> {
  const keptUpstreams = new Set(next?.upstreams.values())
  const keptInstances = new Set(next?.instances)
  await closeParts(
    [...pipeline.upstreams.values()].filter((u) => !keptUpstreams.has(u)),
    pipeline.instances.filter((i) => !keptInstances.has(i)),
  )
}

async function closeParts(
  upstreams: readonly Upstream[],
  instances: readonly PolicyInstance[],
): Promise<void> {
  await Promise.allSettled(upstreams.map((u) => u.close()))
  for (const instance of [...instances].reverse()) {
    try {
      await instance.handlers.close?.()
    } catch (error) {
      instance.log.error({ err: error }, 'policy close failed')
    }
  }
}

/**
 * JSON with object keys sorted, so two equal configs give equal strings whatever their key order.
 *
 * @example
 * ```ts
 * canonicalJson({ b: 1, a: 2 }) === canonicalJson({ a: 2, b: 1 }) // true
 * ```
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v
    const sorted: Record<string, unknown> = {}
    for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k]
    return sorted
  })
}

/**
 * A route's id: its explicit `id`, else `METHODS path@host` (methods and host only when given).
 *
 * @example
 * ```ts
 * routeId({ path: '/users/:id', methods: ['GET'], upstream: 'users' }) // 'GET /users/:id'
 * ```
 */
export function routeId(route: RouteConfig): string {
  return (
    route.id ??
    (route.methods ? `${route.methods.join(',')} ${route.path}` : route.path) +
      (route.host ? `@${route.host}` : '')
  )
}

function routeMethods(route: RouteConfig): string[] {
  const methods = [...(route.methods ?? DEFAULT_ROUTE_METHODS)]
  if (methods.includes('GET') && !methods.includes('HEAD')) methods.push('HEAD')
  return methods
}

function unmatched(ex: Exchange, router: GatewayRouter<CompiledRoute>): never | ReturnType<Terminal> {
  const allowed = router.allowedMethods(ex.request.url, ex.request.host)
  if (allowed.length === 0)
    throw coreErrors.notFound.create(`No route for ${ex.request.method} ${ex.request.path}`)
  const allow = allowed.join(', ')
  if (ex.request.method === 'OPTIONS') return { status: 204, headers: { allow }, body: null }
  throw coreErrors.methodNotAllowed.create(`${ex.request.method} is not allowed here`, { headers: { allow } })
}

/**
 * Whether an `upstreams` entry is a ready {@link Upstream} object rather than config.
 *
 * @example
 * ```ts
 * isUpstream(createUpstream('api', config, deps)) // true
 * ```
 */
export function isUpstream(value: unknown): value is Upstream {
  return typeof (value as Upstream | undefined)?.forward === 'function'
}
