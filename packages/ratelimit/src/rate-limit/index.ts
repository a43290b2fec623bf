import {
  createStateKey,
  definePolicy,
  type Exchange,
  type GatewayError,
  type GwResponse,
  principalKey,
  type ResponseHeaders,
  renderProblem,
  type SetupContext,
} from '@gw/core'
import { CircuitBreaker } from '@gw/core/resilience'
import { LRUCache } from 'lru-cache'
import type { LimitOutcome, LimitSpec } from '../algorithms.js'
import { ratelimitErrors } from '../errors.js'
import { policyItem, seconds } from '../headers.js'
import { isLoggableKey, type KeyFunction, keyFunction, keyPart } from '../keys.js'
import { STORE_FAILED, StoreGuard } from '../store/guard.js'
import { createMemoryStore, type MemoryRateLimitStore } from '../store/memory.js'
import type { Decision, LimitCheck, RateLimitStore } from '../store/types.js'
import { type RateLimitConfig, rateLimitSchema } from './schema.js'

interface Rule {
  readonly name: string
  readonly spec: LimitSpec
  /** The share of the limit one gateway process may admit on its own while the store is unavailable. */
  readonly local: LimitSpec
  readonly keyOf: KeyFunction
  readonly loggable: boolean
  readonly head: string
  readonly tail: string
  readonly error: GatewayError
}

interface Check extends LimitCheck {
  readonly rule: Rule
  readonly value: string
}

interface Applied {
  readonly checks: Check[]
  readonly outcomes: LimitOutcome[]
}

/** One store call of one request. */
interface Call {
  readonly checks: Check[]
  /** Gateway clock when the call was sent: a denial learnt from its answer lasts from here. */
  readonly sentAt: number
}

/** Joins one more structured-field list member onto a header another rate-limit entry may have set already. */
function appendMember(current: ResponseHeaders[string] | undefined, member: string): string {
  return current === undefined || current === '' ? member : `${String(current)}, ${member}`
}

/** The limit one gateway process enforces on its own while the shared store is unavailable. */
function localSpec(spec: LimitSpec, instances: number): LimitSpec {
  return {
    algorithm: spec.algorithm,
    limit: Math.ceil(spec.limit / instances),
    windowMs: spec.windowMs,
    burst: Math.ceil(spec.burst / instances),
  }
}

/**
 * Rate limiting with four algorithms (fixed window, sliding window, token bucket, GCRA), several limits per
 * request checked in one store call, per-route cost, IETF `RateLimit` / `RateLimit-Policy` headers, and 429
 * problem+json with `Retry-After`. Counters live in memory (default) or Redis (shared, exact across processes).
 * While a shared store is slow or down, a local limiter with a share of each limit decides (`onStoreError:
 * 'open'`), so admission stays bounded.
 *
 * @example
 * ```ts
 * createGateway({
 *   resources: { redis },
 *   policies: [rateLimit({ limit: 100, window: '15m', key: 'ip', store: { type: 'redis' } })],
 *   routes: [{ path: '/api/*', upstream: 'api' }],
 * })
 * ```
 */
export const rateLimit = definePolicy({
  name: 'rate-limit',
  stage: 'limit',
  description: 'Rate limits by ip, header, principal, route or a function; memory or Redis counters.',
  schema: rateLimitSchema,
  state: (config) =>
    config.enabled && config.limits.some((l) => l.key === 'principal' || l.key === 'consumer')
      ? { requires: [principalKey] }
      : {},
  async create(config, setup) {
    if (!config.enabled) return {}
    const { store, memory, prefix } = await openStore(config, setup)
    const id = config.id ?? setup.routeId ?? 'gateway'
    const single = config.limits.length === 1
    const { instances } = config.fallback
    const rules: Rule[] = config.limits.map((limit) => {
      const spec: LimitSpec = {
        algorithm: limit.algorithm,
        limit: limit.limit,
        windowMs: limit.windowMs,
        burst: limit.burst,
      }
      return {
        name: limit.name,
        spec,
        local: localSpec(spec, instances),
        keyOf: keyFunction(limit.key, limit.header, limit.keyFn),
        loggable: isLoggableKey(limit.key),
        head: single ? `${prefix}{${id}:${limit.name}:` : `${prefix}{${id}}:${limit.name}:`,
        tail: single ? '}' : '',
        error: ratelimitErrors.limited.create(`Rate limit '${limit.name}' exceeded`),
      }
    })
    const policyHeader = config.limits.map((l) => policyItem(l.name, l.limit, l.windowMs)).join(', ')
    const { cost, onStoreError, headers: headerOptions } = config
    const withHeaders = headerOptions.ietf || headerOptions.legacy
    const report = setup.mode === 'report'
    const telemetry = setup.telemetry
    const clock = setup.clock
    const labels = { policy: setup.policy, route: setup.routeId ?? 'gateway' }
    const fallback: MemoryRateLimitStore | undefined =
      memory || onStoreError === 'closed'
        ? undefined
        : createMemoryStore({ maxKeys: config.fallback.maxKeys, clock })
    const denied =
      memory || !config.denyCache ? undefined : new LRUCache<string, number>({ max: config.fallback.maxKeys })
    const guard = new StoreGuard({
      timeoutMs: config.timeout,
      breaker: new CircuitBreaker(
        {
          consecutiveFailures: config.breaker.failures,
          openDuration: config.breaker.cooldown,
          halfOpenRequests: 1,
          onStateChange: (state, previous) => {
            if (previous === 'closed')
              setup.log.warn(
                { store: store.kind, onStoreError, cooldownMs: config.breaker.cooldown },
                'rate-limit store failing: breaker open',
              )
            else if (state === 'closed')
              setup.log.info({ store: store.kind }, 'rate-limit store recovered: breaker closed')
          },
        },
        clock.now,
      ),
      onError: () => telemetry.count('ratelimit_store_errors', 1, labels),
    })
    const unavailable = ratelimitErrors.storeUnavailable.create('Rate limiting is temporarily unavailable', {
      headers: { 'retry-after': String(Math.max(1, seconds(config.breaker.cooldown))) },
    })
    const consume = (call: Call) => store.consume(call.checks)
    const appliedKey = createStateKey<Applied>(`ratelimit.applied:${setup.routeId ?? '*'}`)

    const addHeaders = (ex: Exchange, target: ResponseHeaders, applied: Applied): void => {
      const { checks, outcomes } = applied
      if (headerOptions.ietf) {
        let value = ''
        for (let i = 0; i < checks.length; i++) {
          const o = outcomes[i]!
          value += `${i === 0 ? '' : ', '}"${checks[i]!.rule.name}";r=${o.remaining};t=${seconds(o.nextMs)}`
        }
        target['ratelimit-policy'] = appendMember(target['ratelimit-policy'], policyHeader)
        target.ratelimit = appendMember(target.ratelimit, value)
      }
      if (headerOptions.legacy) {
        let tightest = 0
        for (let i = 1; i < outcomes.length; i++)
          if (outcomes[i]!.remaining < outcomes[tightest]!.remaining) tightest = i
        const o = outcomes[tightest]!
        target['x-ratelimit-limit'] = checks[tightest]!.rule.spec.limit
        target['x-ratelimit-remaining'] = o.remaining
        target['x-ratelimit-reset'] = Math.ceil((ex.now() + o.resetMs) / 1000)
      }
    }

    const verdict = (ex: Exchange, checks: Check[], decision: Decision, local: boolean) => {
      const applied: Applied = { checks, outcomes: decision.outcomes }
      if (withHeaders) ex.set(appliedKey, applied)
      if (decision.allowed) return undefined
      let denied = -1
      let retryMs = 0
      for (let i = 0; i < checks.length; i++) {
        const o = decision.outcomes[i]!
        if (!o.allowed && o.retryAfterMs >= retryMs) {
          retryMs = o.retryAfterMs
          denied = i
        }
      }
      const check = checks[denied]!
      if (telemetry.enabled) {
        telemetry.count('ratelimit_denied', 1, { ...labels, limit: check.rule.name })
        telemetry.decision(ex, {
          policy: setup.policy,
          rule: check.rule.name,
          ...(check.rule.loggable ? { key: check.value } : {}),
          outcome: report ? 'report' : 'deny',
          reason: local ? 'fallback-limit-exceeded' : 'limit-exceeded',
        })
      }
      const { status, headers, body } = renderProblem(check.rule.error, ex.id)
      const out: ResponseHeaders = headers
      out['retry-after'] = String(Math.max(1, seconds(retryMs)))
      if (withHeaders) addHeaders(ex, out, applied)
      return { respond: { status, headers: out, body } }
    }

    /** Remembers the keys a store answer denied, until their Retry-After counted from when the call was sent. */
    const learn = (call: Call, decision: Decision): void => {
      if (denied === undefined || decision.allowed) return
      for (let i = 0; i < call.checks.length; i++) {
        const o = decision.outcomes[i]!
        if (!o.allowed && o.retryAfterMs > 1)
          denied.set(call.checks[i]!.key, call.sentAt + o.retryAfterMs - 1)
      }
    }

    /** A denial known from an earlier store answer: the store could only deny this request too. */
    const knownDenied = (ex: Exchange, checks: Check[]) => {
      const now = clock.now()
      for (let i = 0; i < checks.length; i++) {
        const until = denied!.get(checks[i]!.key)
        if (until === undefined) continue
        if (until <= now) {
          denied!.delete(checks[i]!.key)
          continue
        }
        const waitMs = until - now
        const outcome: LimitOutcome = {
          allowed: false,
          remaining: 0,
          resetMs: waitMs,
          retryAfterMs: waitMs,
          nextMs: waitMs,
        }
        return verdict(ex, [checks[i]!], { allowed: false, outcomes: [outcome] }, false)
      }
      return undefined
    }

    const onStoreFailed = (ex: Exchange, call: Call) => {
      if (fallback === undefined) {
        const { status, headers, body } = renderProblem(unavailable, ex.id)
        return { respond: { status, headers, body } as GwResponse }
      }
      const local: LimitCheck[] = call.checks.map((c) => ({ key: c.key, spec: c.rule.local, cost: c.cost }))
      const decision = fallback.consume(local)
      telemetry.count('ratelimit_fallback_decisions', 1, labels)
      return verdict(ex, call.checks, decision, true)
    }

    /**
     * A store answer that came after the timeout. The request was decided by the fallback (or got a 503) and
     * stays charged there; a charge the store made too is kept (it can only make later decisions stricter). A
     * denial is remembered like any other.
     */
    const late = (call: Call, decision: Decision): void => learn(call, decision)

    const decide = (ex: Exchange, call: Call, decision: Decision | typeof STORE_FAILED) => {
      if (decision === STORE_FAILED) return onStoreFailed(ex, call)
      learn(call, decision)
      return verdict(ex, call.checks, decision, false)
    }

    return {
      onRequest(ex) {
        const checks: Check[] = []
        for (let i = 0; i < rules.length; i++) {
          const rule = rules[i]!
          const value = rule.keyOf(ex)
          if (value === undefined) continue
          checks.push({ key: rule.head + keyPart(value) + rule.tail, spec: rule.spec, cost, rule, value })
        }
        if (checks.length === 0) return undefined
        if (memory) return verdict(ex, checks, (store as MemoryRateLimitStore).consume(checks), false)
        if (denied !== undefined && denied.size > 0) {
          const known = knownDenied(ex, checks)
          if (known !== undefined) return known
        }
        const call: Call = { checks, sentAt: clock.now() }
        const decision = guard.run(consume, call, late)
        return decision instanceof Promise
          ? decision.then((d) => decide(ex, call, d))
          : decide(ex, call, decision)
      },
      onResponse: withHeaders
        ? (ex, res) => {
            const applied = ex.get(appliedKey)
            if (applied !== undefined) addHeaders(ex, res.headers, applied)
          }
        : undefined,
      async close() {
        guard.close()
        if (memory) await store.close?.()
        await fallback?.close?.()
      },
    }
  },
})

async function openStore(
  config: RateLimitConfig,
  setup: SetupContext,
): Promise<{ store: RateLimitStore; memory: boolean; prefix: string }> {
  const option = config.store
  if (!('type' in option)) return { store: option as RateLimitStore, memory: false, prefix: '' }
  if (option.type === 'memory') {
    return {
      store: createMemoryStore({ maxKeys: option.maxKeys, clock: setup.clock }),
      memory: true,
      prefix: '',
    }
  }
  const { createRedisStore } = await import('../redis/store.js')
  const store = createRedisStore(setup.need('redis'), option.clock === 'local' ? { clock: setup.clock } : {})
  await warmUp(store, option.startupWait, setup)
  return { store, memory: false, prefix: option.prefix }
}

/**
 * Start-up: waits (bounded) until the store is connected with its scripts loaded, so the first requests are
 * decided by it rather than by the fallback. An unreachable store is logged and the gateway starts anyway; a
 * store that refuses the scripts fails the start.
 *
 * @example
 * ```ts
 * await warmUp(store, 2000, setup)
 * ```
 */
export async function warmUp(
  store: { readonly kind: string; warmUp?(waitMs: number): Promise<'ready' | 'unreachable'> },
  waitMs: number,
  setup: SetupContext,
): Promise<void> {
  if (store.warmUp === undefined || waitMs <= 0) return
  let state: 'ready' | 'unreachable'
  try {
    state = await store.warmUp(waitMs)
  } catch (error) {
    throw ratelimitErrors.storeRefused.create(
      `${setup.policy}: the ${store.kind} store refused its script: ${(error as Error).message}`,
      { cause: error },
    )
  }
  if (state === 'unreachable')
    setup.log.warn(
      { store: store.kind, waitedMs: waitMs },
      `${setup.policy}: store not reachable at start-up; deciding on the fallback until it is`,
    )
}
