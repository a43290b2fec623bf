import {
  createStateKey,
  definePolicy,
  type Exchange,
  type GatewayError,
  principalKey,
  type ResponseHeaders,
  type SetupContext,
} from '@gw/core'
import type { LimitOutcome, LimitSpec } from '../algorithms.js'
import { STORE_FAILED, StoreBreaker } from '../breaker.js'
import { ratelimitErrors } from '../errors.js'
import { policyItem, seconds } from '../headers.js'
import { isLoggableKey, type KeyFunction, keyFunction, keyPart } from '../keys.js'
import { createMemoryStore } from '../store/memory.js'
import type { Decision, LimitCheck, RateLimitStore } from '../store/types.js'
import { type RateLimitConfig, rateLimitSchema } from './schema.js'

interface Rule {
  readonly name: string
  readonly spec: LimitSpec
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

/** The headers of a denial as strings (a `GatewayError` carries string values). */
function headerStrings(headers: ResponseHeaders): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name in headers) out[name] = String(headers[name])
  return out
}

/** Joins one more structured-field list member onto a header another rate-limit entry may have set already. */
function appendMember(current: ResponseHeaders[string] | undefined, member: string): string {
  return current === undefined || current === '' ? member : `${String(current)}, ${member}`
}

/**
 * Rate limiting with four algorithms (fixed window, sliding window, token bucket, GCRA), several limits per
 * request checked in one store call, per-route cost, IETF `RateLimit` / `RateLimit-Policy` headers, and 429
 * problem+json with `Retry-After`. Counters live in memory (default) or Redis (shared, exact across processes).
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
    const { store, owned, prefix } = await openStore(config, setup)
    const id = config.id ?? setup.routeId ?? 'gateway'
    const single = config.limits.length === 1
    const rules: Rule[] = config.limits.map((limit) => ({
      name: limit.name,
      spec: { algorithm: limit.algorithm, limit: limit.limit, windowMs: limit.windowMs, burst: limit.burst },
      keyOf: keyFunction(limit.key, limit.header, limit.keyFn),
      loggable: isLoggableKey(limit.key),
      head: single ? `${prefix}{${id}:${limit.name}:` : `${prefix}{${id}}:${limit.name}:`,
      tail: single ? '}' : '',
      error: ratelimitErrors.limited.create(`Rate limit '${limit.name}' exceeded`),
    }))
    const policyHeader = config.limits.map((l) => policyItem(l.name, l.limit, l.windowMs)).join(', ')
    const { cost, onStoreError, headers: headerOptions } = config
    const withHeaders = headerOptions.ietf || headerOptions.legacy
    const telemetry = setup.telemetry
    const labels = { policy: setup.policy, route: setup.routeId ?? 'gateway' }
    const breaker = new StoreBreaker({
      timeoutMs: config.timeout,
      failures: config.breaker.failures,
      cooldownMs: config.breaker.cooldown,
      clock: setup.clock,
      onError: () => telemetry.count('ratelimit_store_errors', 1, labels),
      onOpen: (error) =>
        setup.log.warn(
          { err: error, store: store.kind, onStoreError, cooldownMs: config.breaker.cooldown },
          'rate-limit store failing: breaker open',
        ),
      onClose: () => setup.log.info({ store: store.kind }, 'rate-limit store recovered: breaker closed'),
    })
    const unavailable = ratelimitErrors.storeUnavailable.create('Rate limiting is temporarily unavailable', {
      headers: { 'retry-after': String(Math.max(1, seconds(config.breaker.cooldown))) },
      decision: { reason: 'store-unavailable' },
    })
    const consume = (checks: readonly LimitCheck[]) => store.consume(checks)
    const appliedKey = createStateKey<Applied>(`ratelimit.applied:${setup.routeId ?? '*'}`)

    const addHeaders = (ex: Exchange, target: ResponseHeaders, applied: Applied): void => {
      const { checks, outcomes } = applied
      if (headerOptions.ietf) {
        let value = ''
        for (let i = 0; i < checks.length; i++) {
          const o = outcomes[i]!
          value += `${i === 0 ? '' : ', '}"${checks[i]!.rule.name}";r=${o.remaining};t=${seconds(o.resetMs)}`
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

    const decide = (ex: Exchange, checks: Check[], decision: Decision | typeof STORE_FAILED) => {
      if (decision === STORE_FAILED) {
        if (onStoreError === 'open') return undefined
        throw unavailable
      }
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
      if (telemetry.enabled) telemetry.count('ratelimit_denied', 1, { ...labels, limit: check.rule.name })
      const out: ResponseHeaders = { 'retry-after': String(Math.max(1, seconds(retryMs))) }
      if (withHeaders) addHeaders(ex, out, applied)
      throw ratelimitErrors.limited.create(check.rule.error.message, {
        headers: headerStrings(out),
        decision: {
          rule: check.rule.name,
          key: check.rule.loggable ? check.value : undefined,
          reason: 'limit-exceeded',
        },
      })
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
        const decision = breaker.run(consume, checks)
        return decision instanceof Promise
          ? decision.then((d) => decide(ex, checks, d))
          : decide(ex, checks, decision)
      },
      onResponse: withHeaders
        ? (ex, res) => {
            const applied = ex.get(appliedKey)
            if (applied !== undefined) addHeaders(ex, res.headers, applied)
          }
        : undefined,
      close: owned ? () => store.close?.() ?? Promise.resolve() : undefined,
    }
  },
})

async function openStore(
  config: RateLimitConfig,
  setup: SetupContext,
): Promise<{ store: RateLimitStore; owned: boolean; prefix: string }> {
  const option = config.store
  if (!('type' in option)) return { store: option as RateLimitStore, owned: false, prefix: '' }
  if (option.type === 'memory') {
    return {
      store: createMemoryStore({ maxKeys: option.maxKeys, clock: setup.clock }),
      owned: true,
      prefix: '',
    }
  }
  const { createRedisStore } = await import('../redis/store.js')
  const store = createRedisStore(setup.need('redis'), option.clock === 'local' ? { clock: setup.clock } : {})
  return { store, owned: false, prefix: option.prefix }
}
