import { createGateway, type Gateway, type GatewayOptions, LOG_LEVELS, type LogLevel } from '@gw/core'
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

/** An env var's value, with unset and empty treated alike. */
function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

/**
 * The gateway configuration in code: one upstream per service, one route per service
 * (`/api/users/*` -> users as `/users/...`, and so on), and the listener from `PORT` / `HOST`. `/health` and
 * `/ready` are built into @gw/core; timeouts and limits keep core's defaults. `gateway.yaml` is the same
 * gateway as a config file.
 *
 * @example
 * ```ts
 * const options = buildGatewayOptions(process.env, {
 *   users: 'http://127.0.0.1:3001',
 *   products: 'http://127.0.0.1:3002',
 *   orders: 'http://127.0.0.1:3003',
 * })
 * const gw = await createGateway({ ...options, logger })
 * ```
 */
export function buildGatewayOptions(env: Env, serviceUrls: ServiceUrls): GatewayOptions {
  const port = read(env, 'PORT')
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
    routes: ROUTES.map((route) => ({ ...route })),
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
  /** Environment to read (PORT, HOST, LOG_LEVEL, *_SERVICE_URL). */
  env: Env
  /** Overrides `PORT` (0: an ephemeral port). */
  port?: number
  /** Overrides `HOST`. */
  host?: string
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
  /**
   * Writes text to stdout through the logger's stream, so it stays in order with the log lines (pino writes
   * asynchronously; a direct `process.stdout.write` could overtake them).
   */
  print(text: string): void
  /** Drains and stops the gateway, then the bundled demo services. Idempotent. */
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
  const output = stdoutDestination()
  const logger = createAppLogger(env, output)
  const started: DemoService[] = []
  const stopServices = async (): Promise<void> => {
    await Promise.allSettled(started.map((service) => service.close()))
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

    gateway = await createGateway({ ...buildGatewayOptions(env, urls), logger })
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
