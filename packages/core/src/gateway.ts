import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { type AdminServer, createAdminServer } from './admin/admin-server.js'
import { BUILT_IN_ADMIN_ENDPOINTS } from './admin/mounts.js'
import type { ReloadResult } from './admin/types.js'
import { systemClock } from './clock.js'
import { coreErrors, GatewayError } from './errors.js'
import type { Gateway, GatewayOptions } from './gateway-types.js'
import { noopLogger } from './logger.js'
import {
  type CompiledPipeline,
  canonicalJson,
  closePipeline,
  compilePipeline,
  type PipelineDeps,
  validateOptions,
} from './pipeline.js'
import type { Resources, UpstreamDirectory } from './policy/types.js'
import { createListener, type Listener } from './server/listener.js'
import { createRequestHandler, type HandlerRuntime, type LifecycleState } from './server/request-handler.js'
import { createUpgradeHandler, type UpgradedSockets } from './server/upgrade-handler.js'
import { noopTelemetry } from './telemetry.js'
import { createUpstreamDirectory } from './upstream/directory.js'
import type { Upstream } from './upstream/types.js'
import { createClientAddressResolver } from './util/ip.js'
import { VERSION } from './version.js'

/**
 * Assembles a gateway: validates the options (every problem reported with its path), compiles the pipeline
 * (upstream pools, each policy's `create()` once, chain order checks, one chain per route) and serves it.
 * Call `listen()` to serve, `reload(options)` to swap in a new configuration without dropping requests, and
 * `close()` to drain and stop.
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
  const validated = validateOptions(options)
  const serverConfig = validated.server
  const addresses = createClientAddressResolver(serverConfig.trustProxy)
  let admin: AdminServer | undefined
  const deps: PipelineDeps = {
    log,
    clock,
    telemetry,
    serverConfig,
    addresses,
    adminTaken:
      validated.admin === undefined
        ? undefined
        : (key) => BUILT_IN_ADMIN_ENDPOINTS.includes(key) || (admin?.persistent.has(key) ?? false),
  }
  let serving: ReadonlyMap<string, Upstream> = new Map()
  const withUpstreams = withCoreResources(createUpstreamDirectory((name) => serving.get(name)))
  let current: CompiledPipeline = await compilePipeline(withUpstreams(options), deps)
  serving = current.upstreams
  const retiring = new Set<Promise<void>>()

  const state: LifecycleState = { ready: false, draining: false, inflight: 0, onIdle: undefined }
  const runtime: HandlerRuntime = {
    config: serverConfig,
    pipeline: current.active,
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
    await closePipeline(current)
    throw error
  }
  const server = listener.server
  const upgraded: UpgradedSockets = new Set()
  server.on('upgrade', createUpgradeHandler(runtime, handler, upgraded))
  let url = ''
  let closing: Promise<void> | undefined
  let reloading: Promise<unknown> = Promise.resolve()

  const retire = (old: CompiledPipeline, next: CompiledPipeline): void => {
    const task = new Promise<void>((resolve) => {
      if (old.active.inflight === 0) {
        resolve()
        return
      }
      const timer = setTimeout(() => {
        log.warn({ inflight: old.active.inflight }, 'reload: old pipeline drain timeout; closing it')
        resolve()
      }, serverConfig.drainTimeout)
      old.active.onIdle = () => {
        clearTimeout(timer)
        resolve()
      }
    })
      .then(() => closePipeline(old, next))
      .finally(() => retiring.delete(task))
    retiring.add(task)
  }

  const swap = async (next: GatewayOptions): Promise<ReloadResult> => {
    if (closing !== undefined) throw coreErrors.shuttingDown.create('The gateway is shutting down')
    let checked: ReturnType<typeof validateOptions>
    let compiled: CompiledPipeline
    try {
      checked = validateOptions(next)
      compiled = await compilePipeline(withUpstreams(next), deps, current)
    } catch (error) {
      const issues = error instanceof GatewayError ? error.extensions?.issues : undefined
      log.error(
        { err: error, ...(issues === undefined ? {} : { issues }) },
        'reload rejected; the current configuration keeps serving',
      )
      throw error
    }
    const old = current
    current = compiled
    serving = compiled.upstreams
    runtime.pipeline = compiled.active
    const result = describeReload(old, compiled, {
      server: changedKeys(serverConfig, checked.server, 'server'),
      admin: changedKeys(validated.admin, checked.admin, 'admin'),
    })
    for (const path of result.restartRequired)
      log.warn({ path }, 'reload: this option only changes on restart; the running value stays')
    log.info({ routes: result.routes, upstreams: result.upstreams }, 'configuration reloaded')
    retire(old, compiled)
    return result
  }

  const reload = (next: GatewayOptions): Promise<ReloadResult> => {
    const run = reloading.then(() => swap(next))
    reloading = run.catch(() => undefined)
    return run
  }

  if (validated.admin !== undefined) {
    const source = options.reloadSource
    admin = createAdminServer(validated.admin, {
      log: log.child({ component: 'admin' }),
      routes: () => current.routes,
      upstreams: () => current.upstreams,
      config: () => ({
        ...current.options,
        resources: callerResources(current.options.resources),
        server: serverConfig,
        admin: validated.admin,
      }),
      mounts: () => current.mounts,
      reload: source === undefined ? undefined : async () => reload(await source()),
    })
  }

  const drain = async (): Promise<void> => {
    state.ready = false
    state.draining = true
    const adminClosed = admin?.close()
    const closed = server.listening ? once(server, 'close') : Promise.resolve()
    const start = Date.now()
    const deadline = start + serverConfig.drainTimeout
    // Open connections stay: one accepted before the listener closed may not have sent its request yet (a
    // cluster worker is handed connections until the primary learns that it stopped listening), and an idle
    // keep-alive one may be reused by its client at any moment. Both get their next response with
    // `Connection: close` instead of a reset; idle ones are closed after `drainIdleGrace`.
    listener.stopAccepting()
    if (state.inflight > 0) {
      log.info({ inflight: state.inflight }, 'draining in-flight requests')
      await within(
        new Promise<void>((resolve) => {
          state.onIdle = resolve
        }),
        deadline,
      )
    }
    for (const socket of upgraded) socket.destroy()
    if (!(await within(closed, Math.min(deadline, start + serverConfig.drainIdleGrace)))) {
      listener.closeIdleConnections()
      if (!(await within(closed, deadline)))
        log.warn({ inflight: state.inflight }, 'drain timeout reached; closing remaining connections')
    }
    listener.closeAllConnections()
    await closed
    await listener.close()
    await reloading
    await Promise.allSettled([...retiring])
    await closePipeline(current)
    await adminClosed
    log.info('gateway stopped')
  }

  return {
    server,
    serverConfig,
    handler,
    reloadCertificates: () => listener.reloadCertificates(),
    get upstreams() {
      return current.upstreams
    },
    get ready() {
      return state.ready && !state.draining
    },
    get url() {
      return url
    },
    get adminUrl() {
      return admin?.url ?? ''
    },
    admin: admin?.persistent,
    async listen(listenOptions = {}) {
      const port = listenOptions.port ?? serverConfig.port
      const host = listenOptions.host ?? serverConfig.host
      const address = await listener.listen(port, host)
      const shownHost = displayHost(address)
      url = `${listener.scheme}://${shownHost}:${address.port}`
      if (admin !== undefined) {
        try {
          await admin.listen()
        } catch (error) {
          server.close()
          throw error
        }
      }
      state.ready = true
      log.info(
        { url, routes: current.routes.length, ...(admin === undefined ? {} : { admin: admin.url }) },
        'gateway listening',
      )
      return address
    },
    reload,
    close() {
      closing ??= drain()
      return closing
    },
  }
}

function describeReload(
  old: CompiledPipeline,
  next: CompiledPipeline,
  restart: { server: string[]; admin: string[] },
): ReloadResult {
  const oldRoutes = new Set(old.routes.map((r) => r.id))
  const newRoutes = new Set(next.routes.map((r) => r.id))
  const upstreams: ReloadResult['upstreams'] = { added: [], removed: [], reused: [], replaced: [] }
  for (const [name, upstream] of next.upstreams) {
    const before = old.upstreams.get(name)
    if (before === undefined) upstreams.added.push(name)
    else if (before === upstream) upstreams.reused.push(name)
    else upstreams.replaced.push(name)
  }
  for (const name of old.upstreams.keys()) if (!next.upstreams.has(name)) upstreams.removed.push(name)
  return {
    routes: {
      added: [...newRoutes].filter((id) => !oldRoutes.has(id)),
      removed: [...oldRoutes].filter((id) => !newRoutes.has(id)),
      kept: [...newRoutes].filter((id) => oldRoutes.has(id)),
    },
    upstreams,
    policies: {
      created: next.instances.filter((i) => !old.instances.includes(i)).length,
      reused: next.instances.filter((i) => old.instances.includes(i)).length,
    },
    restartRequired: [...restart.server, ...restart.admin],
  }
}

function changedKeys(before: object | undefined, after: object | undefined, prefix: string): string[] {
  if (before === undefined || after === undefined) return before === after ? [] : [prefix]
  const keys = new Set([...Object.keys(before), ...Object.keys(after)])
  return [...keys]
    .filter(
      (key) =>
        canonicalJson((before as Record<string, unknown>)[key]) !==
        canonicalJson((after as Record<string, unknown>)[key]),
    )
    .map((key) => `${prefix}.${key}`)
}

function displayHost({ address, family }: AddressInfo): string {
  if (address === '0.0.0.0') return '127.0.0.1'
  if (address === '::') return '[::1]'
  return family === 'IPv6' ? `[${address}]` : address
}

/** Adds the resources core owns (`upstreams`) to the caller's, replacing any passed under the same key. */
function withCoreResources(upstreams: UpstreamDirectory): (options: GatewayOptions) => GatewayOptions {
  return (options) => ({ ...options, resources: { ...options.resources, upstreams } as Partial<Resources> })
}

/** The resources as the caller passed them, for the admin config view. */
function callerResources(resources: GatewayOptions['resources']): GatewayOptions['resources'] {
  if (resources === undefined || !('upstreams' in resources)) return resources
  const { upstreams: _core, ...rest } = resources as Partial<Resources>
  return Object.keys(rest).length === 0 ? undefined : rest
}

/** Waits for `promise` until the `deadline` (epoch ms): true when it settled in time. */
async function within(promise: Promise<unknown>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))
  })
  try {
    return await Promise.race([promise.then(ok, ok), late])
  } finally {
    clearTimeout(timer)
  }
}

function ok(): true {
  return true
}
