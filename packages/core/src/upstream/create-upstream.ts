import type { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { ConnectionOptions } from 'node:tls'
import type { Pool } from 'undici'
import { type Clock, systemClock } from '../clock.js'
import { coreErrors, GatewayError } from '../errors.js'
import type { Exchange, GwRequest } from '../exchange/exchange.js'
import type { Logger } from '../logger.js'
import type { GwResponse } from '../policy/types.js'
import { CircuitBreaker, type CircuitState, type CircuitTicket } from '../resilience/circuit-breaker.js'
import { collectIssues, formatIssues } from '../util/format-issues.js'
import { normaliseIp } from '../util/ip.js'
import { type Balancer, createBalancer } from './balancers/index.js'
import { type CallHost, type ResolvedRetry, UpstreamCall } from './call.js'
import { type DnsResolver, expandTarget, needsResolution, systemResolver } from './dns.js'
import { buildUpstreamHeaders, type ForwardingOptions } from './headers.js'
import { HealthChecker, statusPasses } from './health-check.js'
import { OutlierDetector } from './outlier.js'
import { backoffDelay } from './retry.js'
import { RetryBudget } from './retry-budget.js'
import { type AnyUpstreamInput, type RetryOn, type UpstreamConfig, upstreamSchema } from './schema.js'
import { createUpstreamTarget, joinPath, type UpstreamTarget } from './target.js'
import { loadUpstreamTls } from './tls.js'
import { compileTrustProxy, type TrustProxy } from './trust-proxy.js'
import type { ForwardOptions, ManagedUpstream, TargetSpec, TargetStatus } from './types.js'
import { openUpgrade, upgradeTunnelKey } from './websocket.js'

/** Start-up services and gateway-wide settings an upstream needs. */
export interface UpstreamDeps {
  /** Gateway logger; failures are logged at `warn` through the exchange logger with the upstream name. */
  log: Logger
  /** Pseudonym gw uses in `Via` (`server.via`), e.g. `gw`. */
  via: string
  /** Direct peers whose `X-Forwarded-*` / `Forwarded` headers are extended instead of replaced (`server.trustProxy`). */
  trustProxy?: TrustProxy
  /** Header carrying the request id upstream (`server.requestIdHeader`). Default `x-request-id`. */
  requestIdHeader?: string
  /** On `close()`, how long in-flight calls may take before the pools are destroyed. Default 2000 ms. */
  closeGrace?: number
  /** Clock for latency, ejections, breaker and budget windows. Default the system clock. */
  clock?: Clock
  /** Randomness for balancers and backoff jitter. Default `Math.random`. */
  random?: () => number
  /** Hostname resolver for `dns` re-resolution. Default the system resolver. */
  resolver?: DnsResolver
}

/**
 * Creates the proxy terminal for one upstream: an undici `Pool` per target, a balancer, optional active health
 * checks, passive outlier detection, circuit breaker and DNS re-resolution, a concurrency cap, retries within
 * a budget, header rewriting and error mapping. `forward` streams the client body up and resolves with the
 * upstream status, headers (hop-by-hop removed, `Via` added) and streamed body; it rejects with a
 * {@link GatewayError}: 502 cannot connect / reset / invalid response, 504 connect, headers or per-try timeout,
 * 503 no available target, breaker open, too many pending requests (all three with `Retry-After`) or closed,
 * 499 `GW_ERR_CLIENT_ABORTED` when the client went away. Idempotent requests whose body is absent or buffered
 * are retried on `retry.retryOn` conditions, on another target when there is one, with jittered exponential
 * backoff, while the retry budget allows. A failure while the response body streams errors that body stream.
 *
 * @example
 * ```ts
 * const users = createUpstream('users', {
 *   targets: [{ url: 'http://10.0.0.5:3001' }, { url: 'http://10.0.0.6:3001' }],
 *   balancer: { type: 'p2c-ewma' },
 *   retries: 2,
 *   outlierDetection: { consecutiveFailures: 5 },
 * }, { log, via: 'gw' })
 * const res = await users.forward(ex) // { status, headers, body: Readable }
 * await users.close()
 * ```
 */
export function createUpstream(
  name: string,
  config: AnyUpstreamInput | UpstreamConfig,
  deps: UpstreamDeps,
): ManagedUpstream {
  const parsed = upstreamSchema.safeParse(config)
  if (!parsed.success) {
    const issues = collectIssues(parsed.error, `upstreams.${name}`)
    throw coreErrors.config.create(`invalid upstream '${name}':\n${formatIssues(issues)}`, {
      extensions: { issues },
    })
  }
  return new ProxyUpstream(name, parsed.data, deps)
}

class ProxyUpstream implements ManagedUpstream {
  readonly name: string
  readonly #config: UpstreamConfig
  readonly #forwarding: ForwardingOptions
  /** The same for requests received over HTTP/2 (`Via: 2 gw`). */
  readonly #forwardingH2: ForwardingOptions
  readonly #closeGrace: number
  readonly #clock: Clock
  readonly #random: () => number
  readonly #log: Logger
  readonly #balancer: Balancer<UpstreamTarget>
  readonly #retry: ResolvedRetry
  readonly #budget: RetryBudget
  readonly #outlier: OutlierDetector | undefined
  readonly #breaker: CircuitBreaker | undefined
  readonly #health: HealthChecker<UpstreamTarget> | undefined
  readonly #ewmaDecay: number
  readonly #maxPending: number
  readonly #resolver: DnsResolver
  readonly #closingPools = new Set<Promise<void>>()
  readonly #tls: ConnectionOptions | undefined
  #declared: TargetSpec[]
  #targets: UpstreamTarget[] = []
  #pending = 0
  #dnsTimer: NodeJS.Timeout | undefined
  #closing: Promise<void> | undefined
  readonly #host: CallHost

  constructor(name: string, config: UpstreamConfig, deps: UpstreamDeps) {
    this.name = name
    this.#config = config
    this.#clock = deps.clock ?? systemClock
    this.#random = deps.random ?? Math.random
    this.#log = deps.log
    this.#forwarding = {
      via: '1.1 ' + deps.via,
      requestIdHeader: deps.requestIdHeader ?? 'x-request-id',
      preserveHost: config.preserveHost,
      isTrustedProxy: compileTrustProxy(deps.trustProxy),
    }
    this.#forwardingH2 = { ...this.#forwarding, via: '2 ' + deps.via }
    this.#closeGrace = deps.closeGrace ?? 2000
    this.#tls = config.tls === undefined ? undefined : loadUpstreamTls(name, config.tls)
    this.#resolver = deps.resolver ?? systemResolver
    const now = (): number => this.#clock.now()
    this.#balancer = createBalancer(config.balancer, { now, random: this.#random })
    this.#ewmaDecay = config.balancer.type === 'p2c-ewma' ? config.balancer.decay : 5000
    this.#maxPending = config.maxPending
    const retry = config.retry
    this.#retry = {
      attempts: retry.attempts ?? config.retries,
      backoff: retry.backoff ?? config.retryBackoff,
      maxBackoff: retry.maxBackoff,
      perTryTimeout: retry.perTryTimeout,
      kinds: new Set(retry.retryOn.filter((r): r is Exclude<RetryOn, number> => typeof r === 'string')),
      statuses: new Set(retry.retryOn.filter((r): r is number => typeof r === 'number')),
    }
    this.#budget = new RetryBudget(retry.budget, now)
    this.#outlier = config.outlierDetection ? new OutlierDetector(config.outlierDetection, now) : undefined
    this.#breaker = config.circuitBreaker ? new CircuitBreaker(config.circuitBreaker, now) : undefined
    this.#declared =
      config.targets !== undefined
        ? config.targets.map((t) => ({ url: t.url, weight: t.weight }))
        : [{ url: config.url!, weight: 1 }]
    this.setTargets(this.#declared)
    this.#host = this.#callHost()
    const hc = config.healthCheck
    if (hc !== undefined) {
      const probe = (target: UpstreamTarget): Promise<boolean> => this.#probe(target)
      this.#health = new HealthChecker(
        hc,
        probe,
        () => this.#targets,
        () => this.#refresh(),
        this.#log,
      )
      this.#health.start()
    }
    if (config.dns !== undefined && this.#declared.some((t) => needsResolution(t.url))) {
      void this.resolveDns()
      this.#dnsTimer = setInterval(() => void this.resolveDns(), config.dns.refresh)
      this.#dnsTimer.unref()
    }
    deps.log.debug({ upstream: name, targets: this.#targets.map((t) => t.origin) }, 'upstream created')
  }

  get circuitState(): CircuitState {
    return this.#breaker?.state ?? 'closed'
  }

  targets(): TargetStatus[] {
    const now = this.#clock.now()
    return this.#targets.map((t) => ({
      url: t.url,
      weight: t.weight,
      healthy: t.healthy,
      ejected: t.ejectedUntil > now,
      inflight: t.inflight,
      ewma: t.decayedEwma(now, this.#ewmaDecay),
    }))
  }

  setTargets(specs: readonly TargetSpec[]): void {
    const wanted = new Map<string, TargetSpec & { hostHeader?: string }>()
    for (const spec of specs) wanted.set(spec.url, spec)
    const kept: UpstreamTarget[] = []
    for (const target of this.#targets) {
      const spec = wanted.get(target.url)
      if (spec !== undefined && (spec.weight ?? 1) === target.weight) {
        kept.push(target)
        wanted.delete(target.url)
      } else this.#retire(target)
    }
    for (const spec of wanted.values())
      kept.push(
        createUpstreamTarget(
          { url: spec.url, weight: spec.weight ?? 1, hostHeader: spec.hostHeader },
          this.#config,
          this.#tls,
        ),
      )
    const order = new Map(specs.map((s, i) => [s.url, i]))
    kept.sort((a, b) => order.get(a.url)! - order.get(b.url)!)
    this.#targets = kept
    this.#refresh()
  }

  addTarget(target: TargetSpec): void {
    if (this.#targets.some((t) => t.url === target.url)) return
    this.setTargets([...this.#targets.map((t) => ({ url: t.url, weight: t.weight })), target])
  }

  removeTarget(url: string): void {
    this.setTargets(this.#targets.filter((t) => t.url !== url).map((t) => ({ url: t.url, weight: t.weight })))
  }

  checkHealth(): Promise<void> {
    return this.#health?.checkNow() ?? Promise.resolve()
  }

  async resolveDns(): Promise<void> {
    const dns = this.#config.dns
    if (dns === undefined || this.#closing !== undefined) return
    const resolved: (TargetSpec & { hostHeader?: string })[] = []
    for (const spec of this.#declared) {
      if (!needsResolution(spec.url)) {
        resolved.push(spec)
        continue
      }
      const host = new URL(spec.url).hostname
      try {
        const addresses = await this.#resolver(host, dns.family)
        if (addresses.length === 0) throw new Error('no addresses')
        resolved.push(...expandTarget(spec.url, spec.weight ?? 1, addresses))
      } catch (error) {
        this.#log.warn({ upstream: this.name, host, err: error }, 'DNS resolution failed; keeping targets')
        const previous = this.#targets.filter((t) => t.hostHeader === new URL(spec.url).host)
        if (previous.length > 0)
          resolved.push(...previous.map((t) => ({ url: t.url, weight: t.weight, hostHeader: t.hostHeader })))
        else resolved.push(spec)
      }
    }
    if (this.#closing !== undefined) return
    const current = this.#targets.map((t) => t.url).join(' ')
    if (current === resolved.map((t) => t.url).join(' ')) return
    this.#log.info({ upstream: this.name, targets: resolved.map((t) => t.url) }, 'DNS changed targets')
    this.setTargets(resolved)
  }

  forward(ex: Exchange, options?: ForwardOptions): Promise<GwResponse> {
    if (ex.aborted) return Promise.reject(clientAborted(undefined))
    if (this.#closing !== undefined)
      return Promise.reject(coreErrors.shuttingDown.create(`Upstream '${this.name}' is closed`))
    if (this.#maxPending > 0 && this.#pending >= this.#maxPending) {
      return Promise.reject(
        coreErrors.upstreamOverloaded.create(
          `Upstream '${this.name}' has ${this.#pending} pending requests`,
          {
            headers: { 'retry-after': '1' },
          },
        ),
      )
    }
    const breaker = this.#breaker
    let ticket: CircuitTicket = 'closed'
    if (breaker !== undefined) {
      ticket = breaker.admit()
      if (ticket === undefined) {
        const seconds = Math.max(1, Math.ceil(breaker.retryAfterMs() / 1000))
        return Promise.reject(
          coreErrors.circuitOpen.create(`Circuit breaker of upstream '${this.name}' is open`, {
            headers: { 'retry-after': String(seconds) },
          }),
        )
      }
    }
    this.#pending++
    let call: UpstreamCall
    try {
      call = new UpstreamCall(this.#host, ex, options, ticket)
    } catch (error) {
      this.#pending--
      breaker?.record(ticket, false)
      return Promise.reject(error)
    }
    return call.start()
  }

  /** The services every call of this upstream uses, bound once. */
  #callHost(): CallHost {
    const breaker = this.#breaker
    return {
      name: this.name,
      clock: this.#clock,
      retry: this.#retry,
      forwarding: this.#forwarding,
      forwardingH2: this.#forwardingH2,
      pick: (ex, tried) => {
        if (this.#outlier?.restoreExpired(this.#targets)) this.#refresh()
        return this.#balancer.pick(ex, tried)
      },
      noTarget: () => this.#noTarget(),
      observe: (target, started, success) => this.#observe(target, started, success),
      recordRequest: () => this.#budget.recordRequest(),
      tryRetry: () => this.#budget.tryRetry(),
      backoff: (attempt) =>
        Math.min(backoffDelay(this.#retry.backoff, attempt, this.#random), this.#retry.maxBackoff),
      responded: (ticket, status) => breaker?.record(ticket, status < 500),
      released: () => {
        this.#pending--
      },
      failed: (ticket, error) => {
        this.#pending--
        if (breaker !== undefined && error.status !== 499) breaker.record(ticket, false)
      },
    }
  }

  upgrade(ex: Exchange): Promise<GwResponse> {
    if (this.#closing !== undefined)
      return Promise.reject(coreErrors.shuttingDown.create(`Upstream '${this.name}' is closed`))
    if (this.#outlier?.restoreExpired(this.#targets)) this.#refresh()
    const target = this.#balancer.pick(ex, undefined)
    if (target === undefined) return Promise.reject(this.#noTarget())
    const request = ex.request
    const headers = buildUpstreamHeaders(request, peerAddress(request), ex.id, this.#forwarding)
    if (target.hostHeader !== undefined && !this.#forwarding.preserveHost) headers.host = target.hostHeader
    else if (!this.#forwarding.preserveHost) headers.host = new URL(target.origin).host
    target.inflight++
    return openUpgrade(
      ex,
      {
        origin: target.origin,
        path: joinPath(target.basePath, ex.upstreamPath),
        headers,
        timeout: this.#config.timeouts.headers,
        upstream: this.name,
        tls: this.#tls,
      },
      this.#forwarding.via,
    ).then(
      (res) => {
        const tunnel = ex.get(upgradeTunnelKey)
        if (tunnel !== undefined) tunnel.socket.once('close', () => target.inflight--)
        else if (res.body !== null && typeof res.body === 'object' && 'once' in res.body)
          (res.body as Readable).once('close', () => target.inflight--)
        else target.inflight--
        return res
      },
      (error: unknown) => {
        target.inflight--
        throw error
      },
    )
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#health?.stop()
      clearInterval(this.#dnsTimer)
      const pools = this.#targets.map((t) => closePool(t.pool, this.#closeGrace))
      await Promise.all([...pools, ...this.#closingPools])
    })()
    return this.#closing
  }

  #observe(target: UpstreamTarget, started: number, success: boolean): void {
    const now = this.#clock.now()
    target.observeLatency(Math.max(0, now - started), now, this.#ewmaDecay)
    if (this.#outlier?.record(target, success, this.#targets)) {
      this.#log.warn(
        { upstream: this.name, target: target.url, until: new Date(target.ejectedUntil).toISOString() },
        'target ejected by outlier detection',
      )
      this.#refresh()
    }
  }

  #refresh(): void {
    const now = this.#clock.now()
    this.#balancer.update(this.#targets.filter((t) => t.isAvailable(now)))
  }

  #retire(target: UpstreamTarget): void {
    const closing = closePool(target.pool, Math.max(this.#closeGrace, this.#config.timeouts.headers)).finally(
      () => this.#closingPools.delete(closing),
    )
    this.#closingPools.add(closing)
  }

  #noTarget(): GatewayError {
    const now = this.#clock.now()
    let ms = this.#config.healthCheck?.interval ?? 1000
    const expiry = this.#outlier?.nextExpiry ?? Number.POSITIVE_INFINITY
    if (Number.isFinite(expiry)) ms = Math.min(ms, expiry - now)
    const seconds = Math.max(1, Math.ceil(ms / 1000))
    return coreErrors.noHealthyTarget.create(`Upstream '${this.name}' has no healthy target`, {
      headers: { 'retry-after': String(seconds) },
    })
  }

  async #probe(target: UpstreamTarget): Promise<boolean> {
    const hc = this.#config.healthCheck!
    const headers: Record<string, string> = { 'user-agent': `${this.#forwarding.via.slice(4)}-health-check` }
    if (target.hostHeader !== undefined) headers.host = target.hostHeader
    try {
      const res = await target.pool.request({
        method: hc.method,
        path: joinPath(target.basePath, hc.path),
        headers,
        signal: AbortSignal.timeout(hc.timeout),
      })
      await res.body.dump()
      return statusPasses(res.statusCode, hc.expectedStatuses)
    } catch {
      return false
    }
  }
}

function clientAborted(cause: unknown): GatewayError {
  if (cause instanceof GatewayError && cause.code === 'GW_ERR_CLIENT_ABORTED') return cause
  return coreErrors.clientAborted.create(undefined, cause === undefined ? undefined : { cause })
}

function peerAddress(request: GwRequest): string {
  const socket = (request.body as Readable & { socket?: { remoteAddress?: string } | null }).socket
  const address = socket?.remoteAddress
  return address === undefined ? request.ip : normaliseIp(address)
}

async function closePool(pool: Pool, grace: number): Promise<void> {
  const closed = pool.close().then(
    () => true,
    () => true,
  )
  const ac = new AbortController()
  const expired = sleep(grace, false, { signal: ac.signal, ref: false }).catch(() => false)
  const graceful = await Promise.race([closed, expired])
  ac.abort()
  if (!graceful) await pool.destroy(coreErrors.shuttingDown.create('Upstream pool closed')).catch(() => {})
}
