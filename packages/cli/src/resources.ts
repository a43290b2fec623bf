import cluster from 'node:cluster'
import { coreErrors, type GatewayOptions, type Logger, type Telemetry, type Upstream } from '@gw/core'
import type { ConfigIssue, FileConfig, ServerConfig } from '@gw/core/config'
import { serverSchema } from '@gw/core/config'
import { createClientAddressResolver } from '@gw/core/upstream'
import { importInstalled } from './discover-policies.js'

type RedisSection = NonNullable<NonNullable<FileConfig['resources']>['redis']>

interface RedisClientLike {
  connect(): Promise<unknown>
  quit(): Promise<unknown>
  disconnect(): void
  on(event: 'error', listener: (error: Error) => void): unknown
}

interface IoredisModule {
  Redis: new (...args: unknown[]) => RedisClientLike
  Cluster: new (...args: unknown[]) => RedisClientLike
}

interface MetricsListenerOptions {
  enabled: boolean
  exposition: 'listener' | 'gateway' | 'none'
  port: number
  host: string
  path: string
}

interface MetricsModule {
  createPrometheusTelemetry(options: unknown, deps: { log: Logger }): Telemetry
  reportToClusterPrimary(telemetry: Telemetry): void
  startClusterMetricsServer(options: {
    port: number
    host: string
    path: string
    log: Logger
  }): Promise<{ url: string; close(): Promise<void> }>
  metricsSchema: { parse(input: unknown): MetricsListenerOptions }
  instrumentUpstreams(
    telemetry: Telemetry,
    configs: NonNullable<FileConfig['upstreams']>,
    deps: {
      log: Logger
      via: string
      trustProxy: ReturnType<typeof createClientAddressResolver>
      requestIdHeader: string
    },
  ): Record<string, Upstream>
}

/** What {@link createFileResources} built: the parts to spread into `createGateway` and how to close them. */
export interface FileResources {
  /** `resources`, `telemetry` and (with telemetry) instrumented `upstreams` of the file's config. */
  options: Pick<GatewayOptions, 'resources' | 'telemetry' | 'upstreams'>
  /**
   * Adds the resources and telemetry to gateway options (a reloaded file's, say) and instruments their
   * upstream configs: an upstream whose config did not change keeps the same instance, so a reload reuses its
   * pools, health and breaker state; a changed one is a new instance that the gateway swaps in.
   */
  gatewayOptions(options: GatewayOptions): GatewayOptions
  /** What was created, for the start-up line: e.g. `['redis 127.0.0.1:6379', 'prometheus telemetry']`. */
  summary: string[]
  /** Closes the Redis client (after the gateway closed). Idempotent. */
  close(): Promise<void>
}

/** Options of {@link createFileResources}. */
export interface FileResourcesOptions {
  /** Where `ioredis` and `@gw/metrics` are looked up besides the CLI itself. */
  cwd: string
  log: Logger
  /** Connect to Redis now (`gw start`); `gw validate` only checks that the packages are installed. */
  connect: boolean
}

/**
 * Builds the shared resources a gateway file's `resources` section describes: an ioredis client
 * (`resources.redis`; ioredis is imported only then, from the CLI or `cwd`) and the Prometheus telemetry of
 * @gw/metrics (`resources.metrics`, on by default when the file uses the `metrics` policy), with the upstreams
 * instrumented into it. Problems are `GW_ERR_CONFIG` errors whose issues name the `resources.*` path. An
 * unreachable Redis is logged, not fatal: the client keeps reconnecting and each policy follows its
 * `onStoreError` meanwhile.
 *
 * @example
 * ```ts
 * const built = await createFileResources(config, { cwd: process.cwd(), log, connect: true })
 * const gateway = await createGateway({ ...toGatewayOptions(config, registry), ...built.options, logger: log })
 * ```
 */
export async function createFileResources(
  config: FileConfig,
  options: FileResourcesOptions,
): Promise<FileResources> {
  const { cwd, log } = options
  const section = config.resources ?? {}
  const summary: string[] = []
  const built: FileResources['options'] = {}
  let redis: RedisClientLike | undefined
  let clusterWorker = false
  let instrument:
    | ((configs: NonNullable<GatewayOptions['upstreams']>) => Record<string, Upstream>)
    | undefined

  const wantMetrics = section.metrics ?? usesPolicy(config, 'metrics')
  if (wantMetrics !== false) {
    const metrics = await importInstalled<MetricsModule>('@gw/metrics', cwd)
    if (metrics === undefined) {
      if (section.metrics !== undefined)
        fail('resources.metrics', 'install @gw/metrics to use Prometheus telemetry')
    } else {
      const telemetry = createTelemetry(metrics, wantMetrics === true ? {} : wantMetrics, log)
      built.telemetry = telemetry
      summary.push('prometheus telemetry')
      if (options.connect && cluster.isWorker) {
        metrics.reportToClusterPrimary(telemetry)
        clusterWorker = true
      }
      if (options.connect) {
        const server: ServerConfig = config.server ?? serverSchema.parse({})
        const deps = {
          log,
          via: server.via,
          trustProxy: createClientAddressResolver(server.trustProxy),
          requestIdHeader: server.requestIdHeader,
        }
        const cache = new Map<string, { key: string; upstream: Upstream }>()
        instrument = (configs) => {
          const out: Record<string, Upstream> = {}
          for (const [name, input] of Object.entries(configs)) {
            if (isUpstream(input)) {
              out[name] = input
              continue
            }
            const key = canonicalJson(input)
            const known = cache.get(name)
            const upstream =
              known?.key === key
                ? known.upstream
                : metrics.instrumentUpstreams(
                    telemetry,
                    { [name]: input } as typeof config.upstreams & {},
                    deps,
                  )[name]!
            cache.set(name, { key, upstream })
            out[name] = upstream
          }
          return out
        }
        if (config.upstreams !== undefined) built.upstreams = instrument(config.upstreams)
      }
    }
  }

  if (section.redis !== undefined) {
    const ioredis = await importInstalled<IoredisModule>('ioredis', cwd)
    if (ioredis === undefined || typeof ioredis.Redis !== 'function') {
      fail('resources.redis', 'install ioredis to connect to Redis (npm i ioredis)')
    }
    if (options.connect) {
      redis = await connectRedis(ioredis, section.redis, log)
      built.resources = { redis } as unknown as GatewayOptions['resources']
    }
    summary.push(`redis ${describeRedis(section.redis)}`)
  }

  let closing: Promise<void> | undefined
  return {
    options: built,
    gatewayOptions(next) {
      const out: GatewayOptions = clusterWorker ? withoutMetricsListener(next) : { ...next }
      if (built.telemetry !== undefined) out.telemetry = built.telemetry
      const upstreams =
        instrument !== undefined && next.upstreams !== undefined ? instrument(next.upstreams) : undefined
      if (upstreams !== undefined) out.upstreams = upstreams
      if (built.resources !== undefined) out.resources = { ...next.resources, ...built.resources }
      return out
    },
    summary,
    close() {
      closing ??= redis === undefined ? Promise.resolve() : closeRedis(redis, log)
      return closing
    },
  }
}

/** In a cluster worker the primary serves the aggregated metrics, so the `metrics` policy binds no listener. */
function withoutMetricsListener(options: GatewayOptions): GatewayOptions {
  const rewrite = <E extends { definition: { name: string }; options: unknown }>(entry: E): E => {
    const listener =
      entry.definition.name === 'metrics' &&
      (entry.options as MetricsListenerOptions).exposition === 'listener'
    return listener
      ? { ...entry, options: { ...(entry.options as MetricsListenerOptions), exposition: 'none' } }
      : entry
  }
  return {
    ...options,
    ...(options.policies === undefined ? {} : { policies: options.policies.map(rewrite) }),
    routes: options.routes.map((route) =>
      route.policies === undefined ? route : { ...route, policies: route.policies.map(rewrite) },
    ),
  }
}

/**
 * In the `node:cluster` primary of `gw start --workers`: when the file's `metrics` policy serves a listener (the
 * default), serves that port from the primary with every worker's series aggregated (@gw/metrics'
 * `startClusterMetricsServer`); the workers then bind no metrics listener (see {@link createFileResources}).
 * Resolves `undefined` when there is nothing to serve (no `metrics` entry, disabled, another exposition,
 * `resources.metrics: false`, or @gw/metrics not installed).
 *
 * @example
 * ```ts
 * const server = cluster.isPrimary ? await startClusterMetrics(config, { cwd, log }) : undefined
 * try { await runCluster({ workers, start }) } finally { await server?.close() }
 * ```
 */
export async function startClusterMetrics(
  config: FileConfig,
  options: { cwd: string; log: Logger },
): Promise<{ url: string; close(): Promise<void> } | undefined> {
  if (config.resources?.metrics === false) return undefined
  const entry = [...(config.policies ?? []), ...config.routes.flatMap((r) => r.policies ?? [])].find(
    (e) => e.policy === 'metrics',
  )
  if (entry === undefined) return undefined
  const metrics = await importInstalled<MetricsModule>('@gw/metrics', options.cwd)
  if (metrics === undefined) return undefined
  const listener = metrics.metricsSchema.parse(entry.options ?? {})
  if (!listener.enabled || listener.exposition !== 'listener') return undefined
  return metrics.startClusterMetricsServer({
    port: listener.port,
    host: listener.host,
    path: listener.path,
    log: options.log,
  })
}

function isUpstream(value: unknown): value is Upstream {
  return typeof (value as Upstream | null)?.forward === 'function'
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    typeof v === 'object' && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  )
}

function usesPolicy(config: FileConfig, name: string): boolean {
  const named = (entries: { policy: string }[] | undefined) =>
    entries?.some((e) => e.policy === name) ?? false
  return named(config.policies) || config.routes.some((route) => named(route.policies))
}

function createTelemetry(metrics: MetricsModule, input: unknown, log: Logger): Telemetry {
  try {
    return metrics.createPrometheusTelemetry(input, { log })
  } catch (error) {
    const nested = (error as { extensions?: { issues?: unknown } }).extensions?.issues
    if (!Array.isArray(nested)) throw error
    const issues = (nested as ConfigIssue[]).map((issue) => ({
      path: `resources.metrics${issue.path.replace(/^telemetry/, '')}`,
      message: issue.message,
    }))
    throw configError(issues)
  }
}

async function connectRedis(
  ioredis: IoredisModule,
  section: RedisSection,
  log: Logger,
): Promise<RedisClientLike> {
  const common = {
    connectTimeout: section.connectTimeout,
    ...(section.username === undefined ? {} : { username: section.username }),
    ...(section.password === undefined ? {} : { password: section.password }),
    ...(section.tls ? { tls: {} } : {}),
  }
  // No offline queue and no per-command retries: while Redis is down, store calls fail at once and each policy
  // follows its onStoreError instead of queueing requests.
  const failFast = { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true }
  let client: RedisClientLike
  if (section.cluster !== undefined) {
    const nodes = section.cluster.map((node) => {
      if (typeof node !== 'string') return node
      const at = node.lastIndexOf(':')
      return { host: node.slice(0, at), port: Number(node.slice(at + 1)) }
    })
    client = new ioredis.Cluster(nodes, {
      enableOfflineQueue: false,
      lazyConnect: true,
      redisOptions: { ...common, maxRetriesPerRequest: 0 },
    })
  } else if (section.url !== undefined) {
    client = new ioredis.Redis(section.url, { ...common, ...failFast })
  } else {
    client = new ioredis.Redis({
      host: section.host ?? '127.0.0.1',
      port: section.port ?? 6379,
      ...(section.db === undefined ? {} : { db: section.db }),
      ...common,
      ...failFast,
    })
  }
  const where = describeRedis(section)
  client.on('error', (error) => log.warn({ err: error, redis: where }, 'redis error'))
  try {
    await client.connect()
    log.info({ redis: where }, 'redis connected')
  } catch (error) {
    log.warn(
      { err: error, redis: where },
      'redis unreachable at start-up; serving with store errors until it is back',
    )
  }
  return client
}

async function closeRedis(client: RedisClientLike, log: Logger): Promise<void> {
  try {
    await client.quit()
  } catch {
    client.disconnect()
  }
  log.info({}, 'redis closed')
}

function describeRedis(section: RedisSection): string {
  if (section.cluster !== undefined) return `cluster of ${section.cluster.length}`
  if (section.url !== undefined) {
    const url = new URL(section.url)
    return `${url.hostname}:${url.port || 6379}`
  }
  return `${section.host ?? '127.0.0.1'}:${section.port ?? 6379}`
}

function configError(issues: ConfigIssue[]): Error {
  return coreErrors.config.create(
    `invalid configuration:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`,
    {
      extensions: { issues },
    },
  )
}

function fail(path: string, message: string): never {
  throw configError([{ path, message }])
}
