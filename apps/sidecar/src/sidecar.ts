import { apiKey, jwt } from '@gw/auth'
import { createGateway, type Gateway, type GatewayOptions, type PolicyEntry } from '@gw/core'
import type { UpstreamInput } from '@gw/core/upstream'
import { accessLog, createPrometheusTelemetry, instrumentUpstreams, metrics, traceContext } from '@gw/metrics'
import { rateLimit } from '@gw/ratelimit'
import { type DestinationStream, type Logger as PinoLogger, pino } from 'pino'
import { type Env, parseSidecarEnv, type SidecarConfig } from './env.js'

/**
 * The gateway configuration of a sidecar, in code: one upstream (the local service, retries on connect
 * failures and resets for idempotent methods, short connect timeout) and one catch-all route to it, behind
 * `metrics`, `trace-context`, `access-log`, inbound authentication (unless `none`) and a memory rate limit.
 * `/health` and `/ready` are core's.
 *
 * @example
 * ```ts
 * const options = buildSidecarOptions(parseSidecarEnv({ SERVICE_URL: 'http://127.0.0.1:3001', AUTH: 'none' }))
 * const gw = await createGateway({ ...options, logger })
 * ```
 */
export function buildSidecarOptions(config: SidecarConfig): GatewayOptions & { policies: PolicyEntry[] } {
  const auth = config.auth
  const authPolicies: PolicyEntry[] =
    auth.type === 'jwt'
      ? [
          jwt({
            algorithms: auth.algorithms,
            ...(auth.secret === undefined ? {} : { secret: auth.secret }),
            ...(auth.jwksUri === undefined ? {} : { jwksUri: auth.jwksUri }),
            ...(auth.issuer === undefined ? {} : { issuer: auth.issuer }),
            ...(auth.audience === undefined ? {} : { audience: auth.audience }),
          }),
        ]
      : auth.type === 'api-key'
        ? [apiKey({ header: auth.header, stripCredential: true, consumers: auth.consumers })]
        : []
  const { rateLimit: limit } = config
  return {
    server: {
      port: config.port,
      host: config.host,
      requestTimeout: config.requestTimeoutMs,
      drainTimeout: config.drainTimeoutMs,
      trustProxy: config.trustProxy,
    },
    upstreams: {
      [config.serviceName]: {
        url: config.serviceUrl,
        timeouts: {
          connect: config.connectTimeoutMs,
          headers: config.upstreamTimeoutMs,
          body: config.upstreamTimeoutMs,
        },
        retry: {
          attempts: config.retries,
          backoff: config.retryBackoffMs,
          retryOn: ['connect-failure', 'reset'],
        },
      },
    },
    policies: [
      metrics({ enabled: config.metrics.enabled, port: config.metrics.port }),
      traceContext({ trustIncoming: config.trustIncomingTrace }),
      accessLog({ headers: ['user-agent'], redactHeaders: [config.apiKeyHeader] }),
      ...authPolicies,
      rateLimit({
        enabled: limit.enabled,
        limits: [{ name: 'sidecar', key: limit.key, limit: limit.limit, window: limit.windowMs }],
        store: { type: 'memory' },
      }),
    ],
    routes: [{ id: config.serviceName, path: '/*', upstream: config.serviceName }],
  }
}

/** Options of {@link createSidecarGateway}. */
export interface SidecarStartOptions {
  /** Overrides `PORT` (0: an ephemeral port). */
  port?: number
  /** Overrides `HOST`. */
  host?: string
  /** Where the JSON log lines go (default: stdout, asynchronous). */
  logDestination?: DestinationStream
  /** Name on every log line (default `gw-sidecar`). */
  logName?: string
}

/** A running sidecar. */
export interface SidecarGateway {
  readonly gateway: Gateway
  readonly config: SidecarConfig
  /** Where the sidecar listens, e.g. `http://127.0.0.1:8000`. */
  readonly url: string
  readonly port: number
  readonly logger: PinoLogger
  /** Writes text through the log stream (stays in order with the JSON lines). */
  print(text: string): void
  /** Drains and stops the sidecar. Idempotent. */
  close(): Promise<void>
}

/**
 * Validates `env` (throws `SidecarEnvError` naming each bad variable), builds the sidecar and starts listening.
 *
 * @example
 * ```ts
 * const sidecar = await createSidecarGateway({ SERVICE_URL: 'http://127.0.0.1:3001', AUTH: 'none', PORT: '0' })
 * console.log(sidecar.url)
 * await sidecar.close()
 * ```
 */
export async function createSidecarGateway(
  env: Env,
  options: SidecarStartOptions = {},
): Promise<SidecarGateway> {
  const config = parseSidecarEnv(env)
  const output = options.logDestination ?? pino.destination({ dest: 1, sync: false })
  const logger = pino({ name: options.logName ?? 'gw-sidecar', level: config.logLevel }, output)
  const built = buildSidecarOptions(config)
  const telemetry = createPrometheusTelemetry({}, { log: logger })
  const upstreams = instrumentUpstreams(telemetry, built.upstreams as Record<string, UpstreamInput>, {
    log: logger,
    via: 'gw-sidecar',
  })
  const gateway = await createGateway({ ...built, upstreams, logger, telemetry })
  let address: { port: number }
  try {
    address = await gateway.listen({
      ...(options.port === undefined ? {} : { port: options.port }),
      ...(options.host === undefined ? {} : { host: options.host }),
    })
  } catch (error) {
    await gateway.close().catch(() => {})
    throw error
  }
  logger.info(
    { service: config.serviceName, serviceUrl: config.serviceUrl, auth: config.auth.type },
    'sidecar ready',
  )
  let closing: Promise<void> | undefined
  return {
    gateway,
    config,
    url: gateway.url,
    port: address.port,
    logger,
    print(text) {
      output.write(text)
    },
    close() {
      closing ??= gateway.close()
      return closing
    },
  }
}
