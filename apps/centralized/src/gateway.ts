import { anyOf, apiKey, jwt } from '@gw/auth'
import { cache } from '@gw/cache'
import '@gw/cache/redis'
import {
  createGateway,
  type Gateway,
  type GatewayOptions,
  LOG_LEVELS,
  type LogLevel,
  type PolicyEntry,
} from '@gw/core'
import type { UpstreamInput } from '@gw/core/upstream'
import { accessLog, createPrometheusTelemetry, instrumentUpstreams, metrics, traceContext } from '@gw/metrics'
import { rateLimit } from '@gw/ratelimit'
import '@gw/ratelimit/redis'
import { cors, requestValidation, securityHeaders } from '@gw/security'
import { compress } from '@gw/transform'
import { Redis } from 'ioredis'
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino'
import {
  type DemoService,
  httpReferences,
  startOrdersService,
  startProductsService,
  startUsersService,
} from './demo-services/index.js'

/** The environment the app reads (a `process.env` fits). */
export type Env = Readonly<Record<string, string | undefined>>

/** The backend services of the centralized gateway. */
export const SERVICES = ['users', 'products', 'orders'] as const
/** One of {@link SERVICES}. */
export type ServiceName = (typeof SERVICES)[number]
/** Base URL of each backend service. */
export type ServiceUrls = Record<ServiceName, string>

/** The environment variable that points a service elsewhere (then its demo service is not started). */
export const SERVICE_URL_VARS: Readonly<Record<ServiceName, string>> = {
  users: 'USERS_SERVICE_URL',
  products: 'PRODUCTS_SERVICE_URL',
  orders: 'ORDERS_SERVICE_URL',
}

/** Routes of the centralized gateway: public path -> upstream (the `/api` prefix is stripped); id = service name. */
export const ROUTES: readonly {
  id: ServiceName
  path: string
  upstream: ServiceName
  stripPrefix: string
}[] = SERVICES.map((name) => ({ id: name, path: `/api/${name}/*`, upstream: name, stripPrefix: '/api' }))

const DEFAULT_PORT = 3000
const DEFAULT_HOST = '0.0.0.0'

/**
 * The demo API key `pnpm start` accepts (consumer `demo`). Only its SHA-256 is in the configuration; replace the
 * consumer (or add yours) before exposing the gateway: `npx gw-auth new-key` prints a key and its hash.
 */
export const DEMO_API_KEY = 'gw_demo_centralized_key'
/** SHA-256 (hex) of {@link DEMO_API_KEY}: what the `api-key` policy is configured with. */
export const DEMO_API_KEY_SHA256 = '02f38d7a222357e14d0feb05f60d4347de0d273adcff232073938570baa48a27'
/** The per-principal limit on every `/api` route (per route, on top of the per-ip limit). */
export const PRINCIPAL_RATE_LIMIT = { limit: 300, window: '1m' } as const
/** Compression settings (the seed's): bodies from 1 KiB, gzip level 6. */
export const COMPRESSION = { threshold: 1024, level: 6 } as const
/** Default key prefix of everything written to Redis (rate-limit counters `gw:rl:`, cached responses `gw:cache:`). */
export const DEFAULT_REDIS_KEY_PREFIX = 'gw:'

/** An env var's value, with unset and empty treated alike. */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

/**
 * A numeric env var: a number when it is one, else the raw text so that the policy's validation reports it
 * with its option path (the same message the config file gives).
 */
function numeric(env: Env, name: string, fallback: number): number | string {
  const value = read(env, name)
  if (value === undefined) return fallback
  return /^[-+]?(\d+(\.\d*)?|\.\d+)$/.test(value) ? Number(value) : value
}

/** A boolean env var: `true` / `false` (any case), else the raw text for validation to report. */
function flag(env: Env, name: string, fallback: boolean): boolean | string {
  const value = read(env, name)
  if (value === undefined) return fallback
  return /^(true|false)$/i.test(value) ? value.toLowerCase() === 'true' : value
}

/** Settings of {@link buildGatewayOptions} that are not environment variables. */
export interface BuildSettings {
  /** Prefix of the Redis keys (rate-limit counters and cached responses). Default `gw:`. */
  redisKeyPrefix?: string
}

/** Which stores the policies use: from `RATE_LIMIT_STORE` / `CACHE_STORE`, else Redis-backed when `REDIS_HOST` is set. */
export function storeKinds(env: Env): { rateLimit: string; cache: string } {
  const redis = read(env, 'REDIS_HOST') !== undefined
  return {
    rateLimit: read(env, 'RATE_LIMIT_STORE') ?? (redis ? 'redis' : 'memory'),
    cache: read(env, 'CACHE_STORE') ?? (redis ? 'tiered' : 'memory'),
  }
}

/**
 * The gateway configuration in code: the listener from `PORT` / `HOST`, one upstream and one route per service
 * (`/api/users/*` -> users as `/users/...`, and so on), and the policy chain:
 *
 * - gateway level, in order: `metrics` (PROMETHEUS_PORT, METRICS_ENABLED), `trace-context`, `access-log`,
 *   `security-headers`, `cors` (CORS_ORIGIN), `request-validation`, `rate-limit` per ip
 *   (RATE_LIMIT_ENABLED / _WINDOW_MS / _MAX_REQUESTS), `compress`;
 * - on every route: authentication (`api-key`, or `any-of` JWT / API key when JWT_SECRET is set) and a
 *   per-principal `rate-limit`; on the products route also the response `cache` (CACHE_TTL_SECONDS).
 *
 * Stores are in memory unless `REDIS_HOST` is set (then the app provides the `redis` resource). `/health` and
 * `/ready` are built into @gw/core. `gateway.yaml` is the same gateway as a config file.
 *
 * @example
 * ```ts
 * const options = buildGatewayOptions(process.env, {
 *   users: 'http://127.0.0.1:3001',
 *   products: 'http://127.0.0.1:3002',
 *   orders: 'http://127.0.0.1:3003',
 * })
 * const gw = await createGateway({ ...options, logger, telemetry: createPrometheusTelemetry() })
 * ```
 */
export function buildGatewayOptions(
  env: Env,
  serviceUrls: ServiceUrls,
  settings: BuildSettings = {},
): GatewayOptions & { policies: PolicyEntry[] } {
  const port = read(env, 'PORT')
  const apiKeyHeader = read(env, 'API_KEY_HEADER') ?? 'x-api-key'
  const stores = storeKinds(env)
  const prefix = settings.redisKeyPrefix ?? DEFAULT_REDIS_KEY_PREFIX
  const custom = prefix !== DEFAULT_REDIS_KEY_PREFIX
  const rateLimitStore =
    stores.rateLimit === 'redis'
      ? { type: 'redis' as const, ...(custom ? { prefix: `${prefix}rl:` } : {}) }
      : { type: stores.rateLimit as 'memory' }

  const keys = apiKey({
    header: apiKeyHeader,
    stripCredential: true,
    consumers: [
      {
        id: 'demo',
        plan: 'free',
        scopes: ['users:read', 'products:read', 'orders:read'],
        keys: [DEMO_API_KEY_SHA256],
      },
    ],
  })
  const secret = read(env, 'JWT_SECRET')
  const auth = (): PolicyEntry =>
    secret === undefined
      ? keys
      : anyOf({
          policies: [jwt({ algorithms: ['HS256'], secret, forwardClaims: { sub: 'x-user-id' } }), keys],
        })
  const perPrincipal = (): PolicyEntry =>
    rateLimit({
      limits: [{ name: 'per-principal', key: 'principal', ...PRINCIPAL_RATE_LIMIT }],
      store: rateLimitStore,
    })
  const ttl = read(env, 'CACHE_TTL_SECONDS')

  return {
    server: {
      // A malformed PORT is left for core's validation to reject with a `server.port` issue.
      port: port === undefined ? DEFAULT_PORT : /^\d+$/.test(port) ? Number(port) : port,
      host: read(env, 'HOST') ?? DEFAULT_HOST,
    },
    upstreams: {
      users: { url: serviceUrls.users },
      products: { url: serviceUrls.products },
      orders: { url: serviceUrls.orders },
    },
    policies: [
      metrics({
        enabled: flag(env, 'METRICS_ENABLED', true) as boolean,
        port: numeric(env, 'PROMETHEUS_PORT', 9090) as number,
      }),
      traceContext(),
      accessLog({ headers: ['user-agent'], redactHeaders: [apiKeyHeader] }),
      securityHeaders(),
      cors({
        origins: read(env, 'CORS_ORIGIN') ?? '*',
        methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
        allowedHeaders: ['content-type', 'authorization', apiKeyHeader, 'x-request-id', 'traceparent'],
        exposedHeaders: [
          'x-request-id',
          'ratelimit',
          'ratelimit-policy',
          'retry-after',
          'cache-status',
          'age',
        ],
      }),
      requestValidation({ maxBodySize: '10mb', contentTypes: ['application/json'] }),
      rateLimit({
        enabled: flag(env, 'RATE_LIMIT_ENABLED', true) as boolean,
        limits: [
          {
            name: 'per-ip',
            key: 'ip',
            limit: numeric(env, 'RATE_LIMIT_MAX_REQUESTS', 100) as number,
            window: numeric(env, 'RATE_LIMIT_WINDOW_MS', 900_000),
          },
        ],
        store: rateLimitStore,
      }),
      compress(COMPRESSION),
    ],
    routes: ROUTES.map((route) => ({
      ...route,
      policies: [
        auth(),
        perPrincipal(),
        ...(route.id === 'products'
          ? [
              cache({
                store: stores.cache as 'memory',
                ...(ttl === undefined ? {} : { defaultTtl: numeric(env, 'CACHE_TTL_SECONDS', 0) as number }),
                ...(custom && stores.cache !== 'memory' ? { redis: { prefix: `${prefix}cache:` } } : {}),
              }),
            ]
          : []),
      ],
    })),
  }
}

/**
 * The app's logger: pino, JSON lines on `destination` (default: stdout, asynchronous writes, flushed on exit),
 * level from `LOG_LEVEL` (default `info`). Passed to @gw/core as is: pino fits core's `Logger` interface.
 *
 * @example
 * ```ts
 * const log = createAppLogger({ LOG_LEVEL: 'debug' })
 * ```
 */
export function createAppLogger(env: Env, destination: DestinationStream = stdoutDestination()): PinoLogger {
  const level = (read(env, 'LOG_LEVEL') ?? 'info').toLowerCase()
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got '${env.LOG_LEVEL}')`)
  }
  return pino({ name: 'gw-centralized', level: level as LogLevel }, destination)
}

function stdoutDestination(): DestinationStream {
  return pino.destination({ dest: 1, sync: false })
}

/** Where a backend service is, and whether this process started it. */
export interface ServiceEndpoint {
  readonly url: string
  /** True when this process runs the bundled demo service; false when its `*_SERVICE_URL` pointed elsewhere. */
  readonly bundled: boolean
}

/** Options of {@link startCentralizedGateway}. */
export interface StartOptions {
  /** Environment to read (PORT, HOST, LOG_LEVEL, *_SERVICE_URL, the policy variables: see the README). */
  env: Env
  /** Overrides `PORT` (0: an ephemeral port). */
  port?: number
  /** Overrides `HOST`. */
  host?: string
  /** Where the JSON log lines go (default: stdout). */
  logDestination?: DestinationStream
  /** Prefix of the Redis keys this gateway writes (default `gw:`); tests use a unique one. */
  redisKeyPrefix?: string
}

/** A running centralized gateway and its demo services. */
export interface CentralizedGateway {
  readonly gateway: Gateway
  /** Where the gateway listens, e.g. `http://0.0.0.0:3000`. */
  readonly url: string
  readonly port: number
  readonly services: Readonly<Record<ServiceName, ServiceEndpoint>>
  /** The pino logger the gateway logs to (JSON lines on stdout). */
  readonly logger: PinoLogger
  /** The Redis client (REDIS_HOST), closed by `close()`; undefined with the embedded memory stores. */
  readonly redis: Redis | undefined
  /**
   * Writes text to stdout through the logger's stream, so it stays in order with the log lines (pino writes
   * asynchronously; a direct `process.stdout.write` could overtake them).
   */
  print(text: string): void
  /** Drains and stops the gateway, then closes the Redis client and stops the bundled demo services. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts the bundled demo services that no `*_SERVICE_URL` replaces (on 127.0.0.1, ephemeral ports), then the
 * gateway in front of them.
 *
 * @example
 * ```ts
 * const app = await startCentralizedGateway({ env: process.env })
 * console.log(app.url)
 * await app.close()
 * ```
 */
export async function startCentralizedGateway(options: StartOptions): Promise<CentralizedGateway> {
  const { env } = options
  const output = options.logDestination ?? stdoutDestination()
  const logger = createAppLogger(env, output)
  const started: DemoService[] = []
  let redis: Redis | undefined
  const stopServices = async (): Promise<void> => {
    await Promise.allSettled([
      ...started.map((service) => service.close()),
      ...(redis ? [redis.quit().catch(() => redis?.disconnect())] : []),
    ])
  }

  let gateway: Gateway | undefined
  try {
    const configured = (name: ServiceName): string | undefined => read(env, SERVICE_URL_VARS[name])
    const users = configured('users') ?? (await track(startUsersService())).url
    const products = configured('products') ?? (await track(startProductsService())).url
    const orders =
      configured('orders') ?? (await track(startOrdersService(httpReferences(users, products)))).url
    const urls: ServiceUrls = { users, products, orders }
    const services = Object.fromEntries(
      SERVICES.map((name) => [name, { url: urls[name], bundled: configured(name) === undefined }]),
    ) as Record<ServiceName, ServiceEndpoint>
    for (const name of SERVICES) {
      logger.info({ service: name, url: urls[name], bundled: services[name].bundled }, 'backend service')
    }

    const redisHost = read(env, 'REDIS_HOST')
    if (redisHost !== undefined) {
      const redisPort = read(env, 'REDIS_PORT') ?? '6379'
      if (!/^\d+$/.test(redisPort)) throw new Error(`REDIS_PORT must be a port number (got '${redisPort}')`)
      // No offline queue and no retries per command: while Redis is down, rate-limit and cache calls fail at
      // once and each policy follows its onStoreError instead of queueing (see @gw/ratelimit's README).
      redis = new Redis({
        host: redisHost,
        port: Number(redisPort),
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        lazyConnect: true,
      })
      redis.on('error', (err: Error) => logger.warn({ err }, 'redis error'))
      const where = { host: redisHost, port: Number(redisPort) }
      try {
        await redis.connect()
        logger.info(where, 'redis connected: shared rate-limit and cache stores')
      } catch (err) {
        // Start anyway: ioredis keeps reconnecting, and until then the policies follow their store-error rules.
        logger.warn(
          { ...where, err },
          'redis unreachable at start-up; serving with store errors until it is back',
        )
      }
    }

    const config = buildGatewayOptions(
      env,
      urls,
      options.redisKeyPrefix === undefined ? {} : { redisKeyPrefix: options.redisKeyPrefix },
    )
    const telemetry = createPrometheusTelemetry({}, { log: logger })
    const upstreams = instrumentUpstreams(telemetry, config.upstreams as Record<string, UpstreamInput>, {
      log: logger,
      via: 'gw',
    })
    gateway = await createGateway({
      ...config,
      upstreams,
      logger,
      telemetry,
      ...(redis ? { resources: { redis } } : {}),
    })
    const address = await gateway.listen({
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.host === undefined ? {} : { host: options.host }),
    })

    const running = gateway
    let closing: Promise<void> | undefined
    return {
      gateway: running,
      url: running.url,
      port: address.port,
      services,
      logger,
      redis,
      print(text) {
        output.write(text)
      },
      close() {
        closing ??= (async () => {
          try {
            await running.close()
          } finally {
            await stopServices()
          }
        })()
        return closing
      },
    }
  } catch (error) {
    await gateway?.close().catch(() => {})
    await stopServices()
    throw error
  }

  async function track(service: Promise<DemoService>): Promise<DemoService> {
    const s = await service
    started.push(s)
    return s
  }
}
