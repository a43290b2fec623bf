import v8 from 'node:v8'
import vm from 'node:vm'
import { createManualClock } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { concurrencyStoreContract, rateLimitStoreContract } from '../testing/index.js'
import { createMemoryConcurrencyStore, createMemoryStore } from './memory.js'

rateLimitStoreContract({ name: 'memory', create: ({ clock }) => createMemoryStore({ clock }) })
concurrencyStoreContract({ name: 'memory', create: () => createMemoryConcurrencyStore() })

describe('memory store bounds', () => {
  it('1,000,000 distinct keys keep at most maxKeys entries and stay under the documented memory bound', () => {
    const store = createMemoryStore({ maxKeys: 100_000 })
    const spec = { algorithm: 'sliding-window', limit: 10, windowMs: 60_000, burst: 10 } as const
    const checks = [{ key: '', spec, cost: 1 }]
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as () => void
    gc()
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 1_000_000; i++) {
      checks[0] = {
        key: `gw:rl:{gateway:default:10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${i}}`,
        spec,
        cost: 1,
      }
      if (!store.consume(checks).allowed) throw new Error(`key ${i} was denied`)
    }
    gc()
    const grown = process.memoryUsage().heapUsed - before
    expect(store.size).toBe(100_000)
    // README: about 450 bytes per key with ~60-character keys, so the default 100,000 keys stay under 64 MB.
    expect(grown).toBeLessThan(64 * 1024 * 1024)
    // About 2 s on an idle core; the cap leaves room for a heavily shared CI machine.
  }, 60_000)

  it('is synchronous and does not charge a denied request', () => {
    const store = createMemoryStore({ clock: createManualClock() })
    const spec = { algorithm: 'gcra', limit: 2, windowMs: 1000, burst: 2 } as const
    const checks = [{ key: 'k', spec, cost: 1 }]
    expect(store.consume(checks)).not.toBeInstanceOf(Promise)
    store.consume(checks)
    expect(store.consume(checks).allowed).toBe(false)
    expect(store.consume(checks).outcomes[0]!.retryAfterMs).toBe(500)
  })

  it('concurrency store forgets keys at zero', () => {
    const store = createMemoryConcurrencyStore()
    const slot = store.acquire('k', 2)
    expect(store.size).toBe(1)
    store.release('k', slot.lease!)
    expect(store.size).toBe(0)
  })
})
