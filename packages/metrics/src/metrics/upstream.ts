import type { Exchange, GwResponse, Upstream } from '@gw/core'
import {
  createUpstream,
  type ForwardOptions,
  type ManagedUpstream,
  type UpstreamInput,
} from '@gw/core/upstream'

/** What `createUpstream` needs besides the config: logger, Via pseudonym, trusted proxies, request id header. */
export type UpstreamDeps = Parameters<typeof createUpstream>[2]

import { STATUS_CLASS_LABELS, statusClassIndex } from '../prometheus/labels.js'
import type { PrometheusTelemetry } from '../prometheus/telemetry.js'

type UpstreamLabels = { upstream: string; target: string; status_class: string }

/**
 * Wraps an upstream so that every call is timed into `gw_upstream_request_duration_seconds{upstream,target,
 * status_class}` (time to response headers; failures as status_class `error`, client aborts not counted).
 * A {@link ManagedUpstream} stays one: its target management and state (`targets()`, `setTargets()`,
 * `circuitState`, ...) pass through, so the admin listener and service discovery keep working.
 *
 * @example
 * ```ts
 * const users = instrumentUpstream(createUpstream('users', { url }, { log, via: 'gw' }), telemetry, { target: url })
 * createGateway({ telemetry, upstreams: { users }, routes })
 * ```
 */
export function instrumentUpstream(
  upstream: Upstream,
  telemetry: PrometheusTelemetry,
  options: { target?: string } = {},
): Upstream {
  const histogram = telemetry.upstreamDuration
  const target = options.target ?? upstream.name
  const byClass: readonly UpstreamLabels[] = STATUS_CLASS_LABELS.map((status_class) => ({
    upstream: upstream.name,
    target,
    status_class,
  }))
  const failed: UpstreamLabels = { upstream: upstream.name, target, status_class: 'error' }
  const upgrade = upstream.upgrade
  const instrumented: Upstream = {
    name: upstream.name,
    forward(ex: Exchange, forwardOptions?: ForwardOptions): Promise<GwResponse> {
      const start = ex.now()
      return upstream.forward(ex, forwardOptions).then(
        (res) => {
          histogram.observe(byClass[statusClassIndex(res.status)]!, (ex.now() - start) / 1000)
          return res
        },
        (error: unknown) => {
          if (!ex.aborted) histogram.observe(failed, (ex.now() - start) / 1000)
          throw error
        },
      )
    },
    ...(upgrade === undefined ? {} : { upgrade: (ex: Exchange) => upgrade.call(upstream, ex) }),
    close: () => upstream.close(),
  }
  return isManaged(upstream) ? withManagement(instrumented, upstream) : instrumented
}

function isManaged(upstream: Upstream): upstream is ManagedUpstream {
  return typeof (upstream as Partial<ManagedUpstream>).setTargets === 'function'
}

function withManagement(instrumented: Upstream, managed: ManagedUpstream): ManagedUpstream {
  return Object.defineProperties(instrumented, {
    targets: { value: () => managed.targets() },
    setTargets: {
      value: (targets: Parameters<ManagedUpstream['setTargets']>[0]) => managed.setTargets(targets),
    },
    addTarget: { value: (target: Parameters<ManagedUpstream['addTarget']>[0]) => managed.addTarget(target) },
    removeTarget: { value: (url: string) => managed.removeTarget(url) },
    checkHealth: { value: () => managed.checkHealth() },
    resolveDns: { value: () => managed.resolveDns() },
    circuitState: { get: () => managed.circuitState, enumerable: true },
  }) as ManagedUpstream
}

/**
 * Builds instrumented upstreams from their configs (as `createGateway({ upstreams })` takes them); the target
 * label is the upstream URL's origin.
 *
 * @example
 * ```ts
 * const upstreams = instrumentUpstreams(telemetry, { users: { url: process.env.USERS_SERVICE_URL! } }, { log, via: 'gw' })
 * ```
 */
export function instrumentUpstreams(
  telemetry: PrometheusTelemetry,
  configs: Record<string, UpstreamInput>,
  deps: UpstreamDeps,
): Record<string, Upstream> {
  const out: Record<string, Upstream> = {}
  for (const [name, config] of Object.entries(configs)) {
    out[name] = instrumentUpstream(createUpstream(name, config, deps), telemetry, {
      target: typeof config.url === 'string' ? new URL(config.url).origin : name,
    })
  }
  return out
}
