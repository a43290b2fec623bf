import { createStateKey, definePolicy, type Exchange, principalKey, type SetupContext } from '@gw/core'
import { STORE_FAILED, StoreBreaker } from '../breaker.js'
import { ratelimitErrors } from '../errors.js'
import { policyItem, seconds } from '../headers.js'
import { isLoggableKey, keyFunction, keyPart } from '../keys.js'
import { createMemoryConcurrencyStore } from '../store/memory.js'
import type { Acquisition, ConcurrencyStore } from '../store/types.js'
import { concurrencyLimitSchema } from './schema.js'

interface Held {
  key: string
  lease: string
  remaining: number
}

const heldKey = createStateKey<Held>('ratelimit.concurrency')

/**
 * Caps requests in flight per key. A slot is taken in `onRequest` and released in `onComplete`, which runs
 * exactly once per request: after the last byte, on client abort and on upstream error. Over the cap: 429
 * problem+json with `Retry-After: 1`.
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
    const { store, owned, prefix } = await openConcurrencyStore(config.store, setup)
    const id = config.id ?? setup.routeId ?? 'gateway'
    const head = `${prefix}{${id}:${config.name}:`
    const keyOf = keyFunction(config.key, config.header, config.keyFn)
    const loggable = isLoggableKey(config.key)
    const { max, lease: leaseMs, onStoreError, name } = config
    const telemetry = setup.telemetry
    const labels = { policy: setup.policy, route: setup.routeId ?? 'gateway' }
    const policyHeader = policyItem(name, max, undefined, 'concurrent-requests')
    const limitedDetail = `Concurrency limit '${name}' of ${max} reached`
    const limitedHeaders: Record<string, string> = { 'retry-after': '1' }
    if (config.headers) {
      limitedHeaders['ratelimit-policy'] = policyHeader
      limitedHeaders.ratelimit = `"${name}";r=0`
    }
    const unavailable = ratelimitErrors.storeUnavailable.create('Rate limiting is temporarily unavailable', {
      headers: { 'retry-after': String(Math.max(1, seconds(config.breaker.cooldown))) },
      decision: { reason: 'store-unavailable' },
    })
    const breaker = new StoreBreaker({
      timeoutMs: config.timeout,
      failures: config.breaker.failures,
      cooldownMs: config.breaker.cooldown,
      clock: setup.clock,
      onError: () => telemetry.count('ratelimit_store_errors', 1, labels),
      onOpen: (error) =>
        setup.log.warn(
          { err: error, store: store.kind, onStoreError },
          'concurrency store failing: breaker open',
        ),
      onClose: () => setup.log.info({ store: store.kind }, 'concurrency store recovered: breaker closed'),
    })
    const acquire = (key: string) => store.acquire(key, max, leaseMs)

    const decide = (ex: Exchange, key: string, value: string, slot: Acquisition | typeof STORE_FAILED) => {
      if (slot === STORE_FAILED) {
        if (onStoreError === 'open') return undefined
        throw unavailable
      }
      if (slot.acquired) {
        ex.set(heldKey, { key, lease: slot.lease!, remaining: slot.remaining })
        return undefined
      }
      if (telemetry.enabled) telemetry.count('ratelimit_denied', 1, { ...labels, limit: name })
      throw ratelimitErrors.concurrency.create(limitedDetail, {
        headers: limitedHeaders,
        decision: { rule: name, key: loggable ? value : undefined, reason: 'concurrency-exceeded' },
      })
    }

    return {
      onRequest(ex) {
        const value = keyOf(ex)
        if (value === undefined) return undefined
        const key = head + keyPart(value) + '}'
        const slot = breaker.run(acquire, key)
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
        try {
          const done = store.release(held.key, held.lease)
          if (done instanceof Promise)
            done.catch((error: unknown) =>
              setup.log.warn({ err: error }, 'concurrency slot release failed (lease will expire)'),
            )
        } catch (error) {
          setup.log.warn({ err: error }, 'concurrency slot release failed')
        }
      },
      close: owned ? () => store.close?.() ?? Promise.resolve() : undefined,
    }
  },
})

async function openConcurrencyStore(
  option: (typeof concurrencyLimitSchema)['_zod']['output']['store'],
  setup: SetupContext,
): Promise<{ store: ConcurrencyStore; owned: boolean; prefix: string }> {
  if (!('type' in option)) return { store: option as ConcurrencyStore, owned: false, prefix: '' }
  if (option.type === 'memory') return { store: createMemoryConcurrencyStore(), owned: true, prefix: '' }
  const { createRedisConcurrencyStore } = await import('../redis/store.js')
  const store = createRedisConcurrencyStore(
    setup.need('redis'),
    option.clock === 'local' ? { clock: setup.clock } : {},
  )
  return { store, owned: false, prefix: `${option.prefix}cc:` }
}
