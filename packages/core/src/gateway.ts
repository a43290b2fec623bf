import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { systemClock } from './clock.js'
import { configErrorMap } from './config/error-map.js'
import { type ConfigIssue, collectIssues, formatIssues } from './config/format-issues.js'
import { DEFAULT_ROUTE_METHODS, routeBaseSchema, type ServerConfig, serverSchema } from './config/schema.js'
import { coreErrors } from './errors.js'
import type { Exchange } from './exchange/exchange.js'
import type { Gateway, GatewayOptions, RouteConfig } from './gateway-types.js'
import { noopLogger } from './logger.js'
import {
  type CompiledChain,
  instantiatePolicies,
  type PolicyInstance,
  type Terminal,
  validateChainOrder,
} from './policy/chain.js'
import { GatewayRouter } from './router/router.js'
import { createUpstreamPathMapper } from './router/upstream-path.js'
import { createListener, type Listener } from './server/listener.js'
import {
  type CompiledRoute,
  createRequestHandler,
  type HandlerRuntime,
  type LifecycleState,
} from './server/request-handler.js'
import { createClientAddressResolver } from './server/request-meta.js'
import { createUpgradeHandler, type UpgradedSockets } from './server/upgrade-handler.js'
import { noopTelemetry } from './telemetry.js'
import { createUpstream } from './upstream/index.js'
import { upstreamSchema } from './upstream/schema.js'
import { createSplit, mirrorRequest } from './upstream/traffic.js'
import type { Upstream } from './upstream/types.js'
import { VERSION } from './version.js'

/**
 * Assembles a gateway: validates the options (every problem reported with its path), creates upstream pools,
 * runs each policy's `create()` once, checks chain orders and compiles one chain per route. Call `listen()`
 * to serve and `close()` to drain and stop.
 *
 * @example
 * ```ts
 * const gw = await createGateway({
 *   upstreams: { users: { url: 'http://127.0.0.1:3001' } },
 *   policies: [requestLog()],
 *   routes: [{ path: '/api/users/*', upstream: 'users', stripPrefix: '/api' }],
 * })
 * await gw.listen({ port: 8080 })
 * ```
 */
export async function createGateway(options: GatewayOptions): Promise<Gateway> {
  const log = options.logger ?? noopLogger
  const clock = options.clock ?? systemClock
  const telemetry = options.telemetry ?? noopTelemetry
  const serverConfig = validateOptions(options)
  const upstreams = new Map<string, Upstream>()
  const instances: PolicyInstance[] = []
  const closeAll = async (): Promise<void> => {
    await Promise.allSettled([...upstreams.values()].map((u) => u.close()))
    for (const instance of [...instances].reverse()) {
      try {
        await instance.handlers.close?.()
      } catch (error) {
        instance.log.error({ err: error }, 'policy close failed')
      }
    }
  }

  let router: GatewayRouter<CompiledRoute>
  let fallback: CompiledChain
  const addresses = createClientAddressResolver(serverConfig.trustProxy)
  try {
    for (const [name, input] of Object.entries(options.upstreams ?? {})) {
      upstreams.set(
        name,
        isUpstream(input)
          ? input
          : createUpstream(name, upstreamSchema.parse(input), {
              log: log.child({ upstream: name }),
              via: serverConfig.via,
              trustProxy: addresses,
              requestIdHeader: serverConfig.requestIdHeader,
              clock,
            }),
      )
    }
    const ctx = { log, clock, telemetry, resources: options.resources ?? {} }
    const gatewayEntries = options.policies ?? []
    const gatewayPolicies = await instantiatePolicies(gatewayEntries, undefined, ctx)
    instances.push(...gatewayPolicies)
    validateChainOrder(
      gatewayEntries.map((entry, i) => ({ entry, where: `policies[${i}]` })),
      log,
    )

    router = new GatewayRouter<CompiledRoute>()
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
      const routePolicies = await instantiatePolicies(routeEntries, id, ctx)
      instances.push(...routePolicies)
      const chain: CompiledChain = {
        routeId: id,
        policies: [...gatewayPolicies, ...routePolicies],
        terminal: terminalFor(route, upstreams),
        telemetry,
      }
      const upstream = route.upstream === undefined ? undefined : upstreams.get(route.upstream)
      const upgrade = route.websocket === false ? undefined : upstream?.upgrade?.bind(upstream)
      router.add({
        id,
        pattern: route.path,
        methods: routeMethods(route),
        host: route.host,
        value: {
          chain,
          upgradeChain: upgrade === undefined ? undefined : { ...chain, terminal: upgrade },
          pattern: route.path,
          upstream: route.upstream,
          mapPath: createUpstreamPathMapper(route.stripPrefix, route.rewrite),
        },
      })
    }
    const routerRef = router
    fallback = {
      routeId: '__unmatched',
      policies: gatewayPolicies,
      terminal: (ex) => unmatched(ex, routerRef),
      telemetry,
    }
  } catch (error) {
    await closeAll()
    throw error
  }

  const state: LifecycleState = { ready: false, draining: false, inflight: 0, onIdle: undefined }
  const runtime: HandlerRuntime = {
    config: serverConfig,
    router,
    fallback,
    bare: { routeId: '__rejected', policies: [], terminal: (ex) => unmatched(ex, router), telemetry },
    addresses,
    clock,
    log,
    version: options.version ?? VERSION,
    state,
  }
  const handler = createRequestHandler(runtime)
  let listener: Listener
  try {
    listener = createListener(serverConfig, handler, log)
  } catch (error) {
    await closeAll()
    throw error
  }
  const server = listener.server
  const upgraded: UpgradedSockets = new Set()
  server.on('upgrade', createUpgradeHandler(runtime, handler, upgraded))
  let url = ''
  let closing: Promise<void> | undefined

  const drain = async (): Promise<void> => {
    state.ready = false
    state.draining = true
    const closed = server.listening ? once(server, 'close') : Promise.resolve()
    if (server.listening) server.close()
    listener.closeIdleConnections()
    if (state.inflight > 0) {
      log.info({ inflight: state.inflight }, 'draining in-flight requests')
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        state.onIdle = resolve
        timer = setTimeout(() => {
          log.warn({ inflight: state.inflight }, 'drain timeout reached; closing remaining connections')
          resolve()
        }, serverConfig.drainTimeout)
      })
      clearTimeout(timer)
    }
    listener.closeAllConnections()
    for (const socket of upgraded) socket.destroy()
    await closed
    await listener.close()
    await closeAll()
    log.info('gateway stopped')
  }

  return {
    server,
    serverConfig,
    handler,
    reloadCertificates: () => listener.reloadCertificates(),
    upstreams,
    get ready() {
      return state.ready && !state.draining
    },
    get url() {
      return url
    },
    async listen(listenOptions = {}) {
      const port = listenOptions.port ?? serverConfig.port
      const host = listenOptions.host ?? serverConfig.host
      const address = await listener.listen(port, host)
      const shownHost = displayHost(address)
      url = `${listener.scheme}://${shownHost}:${address.port}`
      state.ready = true
      log.info({ url, routes: options.routes.length }, 'gateway listening')
      return address
    },
    close() {
      closing ??= drain()
      return closing
    },
  }
}

function validateOptions(options: GatewayOptions): ServerConfig {
  const issues: ConfigIssue[] = []
  const server = serverSchema.safeParse(options.server ?? {}, { error: configErrorMap })
  if (!server.success) issues.push(...collectIssues(server.error, 'server'))
  const upstreamNames = Object.keys(options.upstreams ?? {})
  for (const [name, input] of Object.entries(options.upstreams ?? {})) {
    if (isUpstream(input)) continue
    const parsed = upstreamSchema.safeParse(input, { error: configErrorMap })
    if (!parsed.success) issues.push(...collectIssues(parsed.error, `upstreams.${name}`))
  }
  const ids = new Set<string>()
  options.routes.forEach((route, index) => {
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
  if (issues.length > 0 || !server.success) {
    throw coreErrors.config.create(`invalid gateway configuration:\n${formatIssues(issues)}`, {
      extensions: { issues },
    })
  }
  return server.data
}

function routeId(route: RouteConfig): string {
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

function terminalFor(
  route: RouteConfig,
  upstreams: Map<string, Upstream>,
  random: () => number = Math.random,
): Terminal {
  if (route.handler !== undefined) return route.handler
  const options = route.retryNonIdempotent === true ? { retryNonIdempotent: true } : undefined
  let proxy: Terminal
  if (route.split !== undefined) {
    const choose = createSplit(
      route.split.map((b) => ({ upstream: upstreams.get(b.upstream)!, weight: b.weight })),
    )
    proxy = (ex) => {
      const upstream = choose()
      if (ex.route.upstream !== upstream.name) ex.route = { ...ex.route, upstream: upstream.name }
      return upstream.forward(ex, options)
    }
  } else {
    const upstream = upstreams.get(route.upstream!)!
    proxy = options === undefined ? (ex) => upstream.forward(ex) : (ex) => upstream.forward(ex, options)
  }
  const mirror = route.mirror
  if (mirror === undefined) return proxy
  const shadow = upstreams.get(mirror.upstream)!
  const share = (mirror.percent ?? 100) / 100
  return (ex) => {
    if (share >= 1 || random() < share) mirrorRequest(ex, shadow)
    return proxy(ex)
  }
}

function unmatched(ex: Exchange, router: GatewayRouter<CompiledRoute>): never | ReturnType<Terminal> {
  const allowed = router.allowedMethods(ex.request.url, ex.request.host)
  if (allowed.length === 0)
    throw coreErrors.notFound.create(`No route for ${ex.request.method} ${ex.request.path}`)
  const allow = allowed.join(', ')
  if (ex.request.method === 'OPTIONS') return { status: 204, headers: { allow }, body: null }
  throw coreErrors.methodNotAllowed.create(`${ex.request.method} is not allowed here`, { headers: { allow } })
}

function displayHost({ address, family }: AddressInfo): string {
  if (address === '0.0.0.0') return '127.0.0.1'
  if (address === '::') return '[::1]'
  return family === 'IPv6' ? `[${address}]` : address
}

function isUpstream(value: unknown): value is Upstream {
  return typeof (value as Upstream | undefined)?.forward === 'function'
}
