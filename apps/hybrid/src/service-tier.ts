import {
  type DemoService,
  httpReferences,
  startOrdersService,
  startProductsService,
  startUsersService,
} from '@gw/app-centralized/demo-services'
import { createSidecarGateway, type SidecarGateway } from '@gw/app-sidecar'
import type { DestinationStream } from 'pino'
import { type Env, HYBRID_SERVICES, type HybridService, SIDECAR_URL_VARS } from './edge.js'

/** The variable that points a service elsewhere (then its demo service is not started). */
export const SERVICE_URL_VARS: Readonly<Record<HybridService, string>> = {
  users: 'USERS_SERVICE_URL',
  products: 'PRODUCTS_SERVICE_URL',
  orders: 'ORDERS_SERVICE_URL',
}

/** Options of {@link startServiceTier}. */
export interface ServiceTierOptions {
  /** LOG_LEVEL, `*_SERVICE_URL` and sidecar variables (`SIDECAR_*` without the prefix, e.g. `SIDECAR_RETRIES`). */
  env: Env
  /** Where the sidecars' JSON log lines go (default: stdout). */
  logDestination?: DestinationStream
}

/** The services and their sidecars, running on loopback. */
export interface ServiceTier {
  /** Each service's own URL (the bundled demo service, or its `*_SERVICE_URL`). */
  readonly services: Readonly<Record<HybridService, string>>
  readonly sidecars: Readonly<Record<HybridService, SidecarGateway>>
  /** `USERS_SIDECAR_URL` etc.: the environment an edge replica needs to reach the sidecars. */
  readonly edgeEnv: Readonly<Record<string, string>>
  /** Stops the sidecars (draining), then the bundled demo services. Idempotent. */
  close(): Promise<void>
}

/**
 * Starts the service tier on 127.0.0.1: the bundled users/products/orders demo services (unless a
 * `*_SERVICE_URL` points elsewhere) and one `@gw/app-sidecar` per service in front of it (`AUTH=none`: the
 * edge authenticates; the sidecar trusts the edge's `X-Forwarded-For` and continues its trace).
 *
 * @example
 * ```ts
 * const tier = await startServiceTier({ env: process.env })
 * console.log(tier.edgeEnv.USERS_SIDECAR_URL)
 * await tier.close()
 * ```
 */
export async function startServiceTier(options: ServiceTierOptions): Promise<ServiceTier> {
  const { env } = options
  const started: DemoService[] = []
  const sidecars: Partial<Record<HybridService, SidecarGateway>> = {}
  const close = async (): Promise<void> => {
    await Promise.allSettled(Object.values(sidecars).map((s) => s.close()))
    await Promise.allSettled(started.map((s) => s.close()))
  }
  try {
    const configured = (name: HybridService): string | undefined =>
      env[SERVICE_URL_VARS[name]]?.trim() || undefined
    const track = async (service: Promise<DemoService>): Promise<string> => {
      const s = await service
      started.push(s)
      return s.url
    }
    const users = configured('users') ?? (await track(startUsersService()))
    const products = configured('products') ?? (await track(startProductsService()))
    const orders = configured('orders') ?? (await track(startOrdersService(httpReferences(users, products))))
    const services = { users, products, orders }
    const sidecarEnv = Object.fromEntries(
      Object.entries(env)
        .filter(([name]) => name.startsWith('SIDECAR_'))
        .map(([name, value]) => [name.slice('SIDECAR_'.length), value]),
    )
    for (const name of HYBRID_SERVICES) {
      sidecars[name] = await createSidecarGateway(
        {
          PROMETHEUS_PORT: '0',
          ...sidecarEnv,
          LOG_LEVEL: env.LOG_LEVEL,
          SERVICE_URL: services[name],
          SERVICE_NAME: name,
          AUTH: 'none',
          TRUST_PROXY: '127.0.0.1',
        },
        {
          port: 0,
          host: '127.0.0.1',
          logName: `gw-sidecar-${name}`,
          ...(options.logDestination === undefined ? {} : { logDestination: options.logDestination }),
        },
      )
    }
    const running = sidecars as Record<HybridService, SidecarGateway>
    let closing: Promise<void> | undefined
    return {
      services,
      sidecars: running,
      edgeEnv: Object.fromEntries(HYBRID_SERVICES.map((name) => [SIDECAR_URL_VARS[name], running[name].url])),
      close() {
        closing ??= close()
        return closing
      },
    }
  } catch (error) {
    await close()
    throw error
  }
}
