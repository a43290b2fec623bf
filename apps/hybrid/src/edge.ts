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
import { Redis } from 'ioredis'
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino'

/** The environment the hybrid apps read (a `process.env` fits). */
export type Env = Readonly<Record<string, string | undefined>>

/** The services of the hybrid topology, each behind its own sidecar. */
export const HYBRID_SERVICES = ['users', 'products', 'orders'] as const
/** One of {@link HYBRID_SERVICES}. */
export type HybridService = (typeof HYBRID_SERVICES)[number]

/** The variable that tells an edge replica where a service's sidecar listens. */
export const SIDECAR_URL_VARS: Readonly<Record<HybridService, string>> = {
  users: 'USERS_SIDECAR_URL',
  products: 'PRODUCTS_SIDECAR_URL',
  orders: 'ORDERS_SIDECAR_URL',
}

/** The demo API key the edge accepts (consumer `demo`); only its SHA-256 is configured. Public: replace it. */
export const DEMO_API_KEY = 'gw_demo_hybrid_key'
/** SHA-256 (hex) of {@link DEMO_API_KEY}. */
export const DEMO_API_KEY_SHA256 = '87d72fb0b4c9fed14da2660ffad5c556e334bbc88420f3aa65e0c685d8c3f8af'
/** Default prefix of the Redis keys the edge writes (`<prefix>rl:` counters, `<prefix>cache:` responses). */
export const DEFAULT_REDIS_KEY_PREFIX = 'gw:hybrid:'

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

/** A numeric variable as a number, else the raw text so that the policy's validation names the option. */
function numeric(env: Env, name: string, fallback: number): number {
  const value = read(env, name)
  if (value === undefined) return fallback
  return (/^\d+$/.test(value) ? Number(value) : value) as number
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const value = read(env, name)
  if (value === undefined) return fallback
  return (/^(true|false)$/i.test(value) ? value.toLowerCase() === 'true' : value) as boolean
}

/**
 * The sidecar URL of every service, from `USERS_SIDECAR_URL`, `PRODUCTS_SIDECAR_URL` and `ORDERS_SIDECAR_URL`;
 * throws naming each missing variable.
 *
 * @example
 * ```ts
 * sidecarUrlsFromEnv(process.env).users // 'http://127.0.0.1:41234'
 * ```
 */
export function sidecarUrlsFromEnv(env: Env): Record<HybridService, string> {
  const missing = HYBRID_SERVICES.filter((name) => read(env, SIDECAR_URL_VARS[name]) === undefined)
  if (missing.length > 0) {
    throw new Error(
      `${missing.map((name) => SIDECAR_URL_VARS[name]).join(', ')} must be set (the sidecar URLs)`,
    )
  }
  return Object.fromEntries(
    HYBRID_SERVICES.map((name) => [name, read(env, SIDECAR_URL_VARS[name])]),
  ) as Record<HybridService, string>
}

/**
 * The configuration of one edge replica: an upstream per service with one target (its sidecar), the route
 * `/api/<service>/*` to it (`/api` stripped), and the edge policies. Everything shared between replicas lives
 * in Redis under `redisKeyPrefix`: the per-ip rate limit (RATE_LIMIT_*; one atomic Lua call per request, so the
 * limit holds across replicas) and the response cache of product reads.
 *
 * @example
 * ```ts
 * const options = buildEdgeOptions(process.env, sidecarUrlsFromEnv(process.env), 'gw:hybrid:')
 * const gw = await createGateway({ ...options, resources: { redis } })
 * ```
 */
export function buildEdgeOptions(
  env: Env,
  sidecars: Record<HybridService, string>,
  redisKeyPrefix = DEFAULT_REDIS_KEY_PREFIX,
): GatewayOptions & { policies: PolicyEntry[] } {
  const apiKeyHeader = read(env, 'API_KEY_HEADER') ?? 'x-api-key'
  const keys = apiKey({
    header: apiKeyHeader,
    stripCredential: true,
    consumerHeader: 'x-consumer-id',
    consumers: [{ id: 'demo', plan: 'free', keys: [DEMO_API_KEY_SHA256] }],
  })
  const secret = read(env, 'JWT_SECRET')
  const auth = (): PolicyEntry =>
    secret === undefined
      ? keys
      : anyOf({
          policies: [jwt({ algorithms: ['HS256'], secret, forwardClaims: { sub: 'x-user-id' } }), keys],
        })
  const algorithm = read(env, 'RATE_LIMIT_ALGORITHM') ?? 'fixed-window'
  const ttl = read(env, 'CACHE_TTL_SECONDS')
  return {
    server: {
      port: numeric(env, 'PORT', 3000),
      host: read(env, 'HOST') ?? '0.0.0.0',
      via: 'gw-edge',
      // The load balancer in front of the replicas: its X-Forwarded-For gives the client ip (rate-limit key).
      trustProxy: (read(env, 'TRUST_PROXY') ?? '')
        .split(',')
        .map((cidr) => cidr.trim())
        .filter((cidr) => cidr !== ''),
    },
    upstreams: Object.fromEntries(
      HYBRID_SERVICES.map((name) => [
        name,
        { url: sidecars[name], retries: 1, retry: { retryOn: ['connect-failure'] } },
      ]),
    ),
    policies: [
      metrics({ enabled: flag(env, 'METRICS_ENABLED', true), port: numeric(env, 'PROMETHEUS_PORT', 9091) }),
      traceContext({ trustIncoming: flag(env, 'TRUST_INCOMING_TRACE', true), responseHeader: true }),
      accessLog({ headers: ['user-agent'], redactHeaders: [apiKeyHeader] }),
      securityHeaders(),
      cors({
        origins: read(env, 'CORS_ORIGIN') ?? '*',
        methods: ['GET', 'POST', 'PUT', 'DELETE', 'OPTIONS'],
        allowedHeaders: ['content-type', 'authorization', apiKeyHeader, 'x-request-id', 'traceparent'],
        exposedHeaders: [
          'x-request-id',
          'x-trace-id',
          'ratelimit',
          'ratelimit-policy',
          'retry-after',
          'cache-status',
          'age',
        ],
      }),
      requestValidation({ maxBodySize: '1mb', contentTypes: ['application/json'] }),
      rateLimit({
        enabled: flag(env, 'RATE_LIMIT_ENABLED', true),
        algorithm: algorithm as 'fixed-window',
        limits: [
          {
            name: 'edge-per-ip',
            key: 'ip',
            limit: numeric(env, 'RATE_LIMIT_MAX_REQUESTS', 100),
            window: numeric(env, 'RATE_LIMIT_WINDOW_MS', 900_000),
          },
        ],
        store: { type: 'redis', prefix: `${redisKeyPrefix}rl:` },
      }),
    ],
    routes: HYBRID_SERVICES.map((name) => ({
      id: name,
      path: `/api/${name}/*`,
      upstream: name,
      stripPrefix: '/api',
      policies: [
        auth(),
        ...(name === 'products'
          ? [
              cache({
                store: 'redis' as const,
                redis: { prefix: `${redisKeyPrefix}cache:` },
                ...(ttl === undefined ? {} : { defaultTtl: numeric(env, 'CACHE_TTL_SECONDS', 0) }),
              }),
            ]
          : []),
      ],
    })),
  }
}

/** Options of {@link startEdgeGateway}. */
export interface EdgeStartOptions {
  /** Where the JSON log lines go (default: stdout, asynchronous). */
  logDestination?: DestinationStream
}

/** A running edge replica. */
export interface EdgeGateway {
  readonly gateway: Gateway
  readonly url: string
  readonly port: number
  readonly logger: PinoLogger
  readonly redis: Redis
  /** Drains and stops the replica, then closes its Redis client. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts one edge replica from the environment: sidecar URLs (`*_SIDECAR_URL`), Redis (`REDIS_HOST`, default
 * 127.0.0.1, `REDIS_PORT`, `REDIS_KEY_PREFIX`), `PORT`, `HOST`, `EDGE_NAME` and the policy variables.
 *
 * @example
 * ```ts
 * const edge = await startEdgeGateway({ ...process.env, USERS_SIDECAR_URL: 'http://127.0.0.1:8001', ... })
 * await edge.close()
 * ```
 */
export async function startEdgeGateway(env: Env, options: EdgeStartOptions = {}): Promise<EdgeGateway> {
  const level = (read(env, 'LOG_LEVEL') ?? 'info').toLowerCase()
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')} (got '${env.LOG_LEVEL}')`)
  }
  const output = options.logDestination ?? pino.destination({ dest: 1, sync: false })
  const logger = pino({ name: `gw-edge-${read(env, 'EDGE_NAME') ?? 'a'}`, level: level as LogLevel }, output)
  const sidecars = sidecarUrlsFromEnv(env)
  const redisPort = read(env, 'REDIS_PORT') ?? '6379'
  if (!/^\d+$/.test(redisPort)) throw new Error(`REDIS_PORT must be a port number (got '${redisPort}')`)
  const redisHost = read(env, 'REDIS_HOST') ?? '127.0.0.1'
  const config = buildEdgeOptions(env, sidecars, read(env, 'REDIS_KEY_PREFIX') ?? DEFAULT_REDIS_KEY_PREFIX)
  const redis = new Redis({
    host: redisHost,
    port: Number(redisPort),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
  })
  redis.on('error', (err: Error) => logger.warn({ err }, 'redis error'))
  try {
    await redis.connect()
    logger.info({ host: redisHost, port: Number(redisPort) }, 'redis connected: shared rate limits and cache')
  } catch (err) {
    logger.warn({ err }, 'redis unreachable at start-up; serving with store errors until it is back')
  }
  let gateway: Gateway | undefined
  try {
    const telemetry = createPrometheusTelemetry({}, { log: logger })
    const upstreams = instrumentUpstreams(telemetry, config.upstreams as Record<string, UpstreamInput>, {
      log: logger,
      via: 'gw-edge',
    })
    gateway = await createGateway({
      ...config,
      upstreams,
      logger,
      telemetry,
      resources: { redis },
    })
    const address = await gateway.listen()
    const running = gateway
    let closing: Promise<void> | undefined
    return {
      gateway: running,
      url: running.url,
      port: address.port,
      logger,
      redis,
      close() {
        closing ??= (async () => {
          try {
            await running.close()
          } finally {
            await redis.quit().catch(() => redis.disconnect())
          }
        })()
        return closing
      },
    }
  } catch (error) {
    await gateway?.close().catch(() => {})
    redis.disconnect()
    throw error
  }
}
