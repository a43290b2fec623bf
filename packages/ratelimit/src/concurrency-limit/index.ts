import {
  createStateKey,
  definePolicy,
  type Exchange,
  type GwResponse,
  principalKey,
  renderProblem,
  type SetupContext,
} from '@gw/core'
import { CircuitBreaker } from '@gw/core/resilience'
import { ratelimitErrors } from '../errors.js'
import { policyItem, seconds } from '../headers.js'
import { isLoggableKey, keyFunction, keyPart } from '../keys.js'
import { warmUp } from '../rate-limit/index.js'
import { STORE_FAILED, StoreGuard } from '../store/guard.js'
import { createMemoryConcurrencyStore, type MemoryConcurrencyStore } from '../store/memory.js'
import type { Acquisition, ConcurrencyStore } from '../store/types.js'
import { concurrencyLimitSchema } from './schema.js'

interface Held {
  key: string
  lease: string
  remaining: number
  /** Taken from the local fallback store (the shared store was unavailable). */
  local: boolean
}

/** One acquire call of one request. */
interface Call {
  readonly key: string
}

const heldKey = createStateKey<Held>('ratelimit.concurrency')

/**
 * Caps requests in flight per key. A slot is taken in `onRequest` and released in `onComplete`, which runs
 * exactly once per request: after the last byte, on client abort and on upstream error. Over the cap: 429
 * problem+json with `Retry-After: 1`. While a shared store is slow or down, a local cap of
 * `ceil(max / fallback.instances)` per gateway process decides (`onStoreError: 'open'`).
 *
 * @example
 * ```ts
 * createGateway({ policies: [concurrencyLimit({ max: 20, key: 'principal' })], routes })
 * ```
 */
export const concurrencyLimit = definePolicy({
  name: 'concurrency-limit',
  stage: 'limit',
  description: 'Caps in-flight requests per ip, header, principal, route or a function.',
  schema: concurrencyLimitSchema,
  state: (config) =>
    config.enabled && (config.key === 'principal' || config.key === 'consumer')
      ? { requires: [principalKey] }
      : {},
  async create(config, setup) {
    if (!config.enabled) return {}
    const { store, memory, prefix } = await openConcurrencyStore(config.store, setup)
    const id = config.id ?? setup.routeId ?? 'gateway'
    const head = `${prefix}{${id}:${config.name}:`
    const keyOf = keyFunction(config.key, config.header, config.keyFn)
    const loggable = isLoggableKey(config.key)
    const { max, lease: leaseMs, onStoreError, name } = config
    const localMax = Math.ceil(max / config.fallback.instances)
    const report = setup.mode === 'report'
    const telemetry = setup.telemetry
    const labels = { policy: setup.policy, route: setup.routeId ?? 'gateway' }
    const policyHeader = policyItem(name, max, undefined, 'concurrent-requests')
    const limited = ratelimitErrors.concurrency.create(`Concurrency limit '${name}' of ${max} reached`)
    const unavailable = ratelimitErrors.storeUnavailable.create('Rate limiting is temporarily unavailable', {
      headers: { 'retry-after': String(Math.max(1, seconds(config.breaker.cooldown))) },
    })
    const fallback: MemoryConcurrencyStore | undefined =
      memory || onStoreError === 'closed' ? undefined : createMemoryConcurrencyStore()
    const guard = new StoreGuard({
      timeoutMs: config.timeout,
      breaker: new CircuitBreaker(
        {
          consecutiveFailures: config.breaker.failures,
          openDuration: config.breaker.cooldown,
          halfOpenRequests: 1,
          onStateChange: (state, previous) => {
            if (previous === 'closed')
              setup.log.warn({ store: store.kind, onStoreError }, 'concurrency store failing: breaker open')
            else if (state === 'closed')
              setup.log.info({ store: store.kind }, 'concurrency store recovered: breaker closed')
          },
        },
        setup.clock.now,
      ),
      onError: () => telemetry.count('ratelimit_store_errors', 1, labels),
    })
    const acquire = (call: Call) => store.acquire(call.key, max, leaseMs)
    const release = (key: string, lease: string): void => {
      try {
        const done = store.release(key, lease)
        if (done instanceof Promise)
          done.catch((error: unknown) =>
            setup.log.warn({ err: error }, 'concurrency slot release failed (lease will expire)'),
          )
      } catch (error) {
        setup.log.warn({ err: error }, 'concurrency slot release failed')
      }
    }
    /** A slot the store granted after the call timed out: the request does not hold it, so give it back. */
    const late = (call: Call, slot: Acquisition): void => {
      if (slot.acquired) release(call.key, slot.lease!)
    }

    const decide = (ex: Exchange, key: string, value: string, answer: Acquisition | typeof STORE_FAILED) => {
      let slot: Acquisition
      let local = false
      if (answer === STORE_FAILED) {
        if (fallback === undefined) {
          const { status, headers, body } = renderProblem(unavailable, ex.id)
          return { respond: { status, headers, body } as GwResponse }
        }
        slot = fallback.acquire(key, localMax)
        local = true
        telemetry.count('ratelimit_fallback_decisions', 1, labels)
      } else slot = answer
      if (slot.acquired) {
        ex.set(heldKey, { key, lease: slot.lease!, remaining: slot.remaining, local })
        return undefined
      }
      if (telemetry.enabled) {
        telemetry.count('ratelimit_denied', 1, { ...labels, limit: name })
        telemetry.decision(ex, {
          policy: setup.policy,
          rule: name,
          ...(loggable ? { key: value } : {}),
          outcome: report ? 'report' : 'deny',
          reason: local ? 'fallback-concurrency-exceeded' : 'concurrency-exceeded',
        })
      }
      const { status, headers, body } = renderProblem(limited, ex.id)
      const out: GwResponse['headers'] = headers
      out['retry-after'] = '1'
      if (config.headers) {
        out['ratelimit-policy'] = policyHeader
        out.ratelimit = `"${name}";r=0`
      }
      return { respond: { status, headers: out, body } }
    }

    return {
      onRequest(ex) {
        const value = keyOf(ex)
        if (value === undefined) return undefined
        const key = head + keyPart(value) + '}'
        if (memory) return decide(ex, key, value, (store as MemoryConcurrencyStore).acquire(key, max))
        const slot = guard.run(acquire, { key }, late)
        return slot instanceof Promise
          ? slot.then((s) => decide(ex, key, value, s))
          : decide(ex, key, value, slot)
      },
      onResponse: config.headers
        ? (ex, res) => {
            const held = ex.get(heldKey)
            if (held === undefined) return
            res.headers['ratelimit-policy'] = policyHeader
            res.headers.ratelimit = `"${name}";r=${held.remaining}`
          }
        : undefined,
      onComplete(ex) {
        const held = ex.get(heldKey)
        if (held === undefined) return
        if (held.local) fallback!.release(held.key, held.lease)
        else release(held.key, held.lease)
      },
      async close() {
        guard.close()
        if (memory) await store.close?.()
        await fallback?.close?.()
      },
    }
  },
})

async function openConcurrencyStore(
  option: (typeof concurrencyLimitSchema)['_zod']['output']['store'],
  setup: SetupContext,
): Promise<{ store: ConcurrencyStore; memory: boolean; prefix: string }> {
  if (!('type' in option)) return { store: option as ConcurrencyStore, memory: false, prefix: '' }
  if (option.type === 'memory') return { store: createMemoryConcurrencyStore(), memory: true, prefix: '' }
  const { createRedisConcurrencyStore } = await import('../redis/store.js')
  const store = createRedisConcurrencyStore(
    setup.need('redis'),
    option.clock === 'local' ? { clock: setup.clock } : {},
  )
  await warmUp(store, option.startupWait, setup)
  return { store, memory: false, prefix: `${option.prefix}cc:` }
}
