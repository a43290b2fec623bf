import { createManualClock } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { cacheStoreContract, testEntry } from './contract.js'
import { MemoryCacheStore } from './memory.js'
import { TieredCacheStore } from './tiered.js'

cacheStoreContract({ name: 'memory', create: ({ clock }) => new MemoryCacheStore({ clock }) })
cacheStoreContract({
  name: 'tiered (memory over memory)',
  create: ({ clock }) =>
    new TieredCacheStore(new MemoryCacheStore({ clock }), new MemoryCacheStore({ clock }), {
      clock,
      l1Ttl: 500,
    }),
})

describe('MemoryCacheStore bounds', () => {
  it('evicts least recently used entries beyond maxBytes and keeps indexes consistent', () => {
    const clock = createManualClock()
    const store = new MemoryCacheStore({ clock, maxBytes: 3000 })
    const body = Buffer.alloc(1000, 1)
    store.set(testEntry(clock.now(), { key: 'k/1', body, tags: ['t'] }))
    store.set(testEntry(clock.now(), { key: 'k/2', body, tags: ['t'] }))
    expect(store.get('k/1')).toHaveLength(1)
    store.set(testEntry(clock.now(), { key: 'k/3', body, tags: ['t'] }))
    expect(store.get('k/2')).toEqual([])
    expect(store.get('k/1')).toHaveLength(1)
    expect(store.bytes).toBeLessThanOrEqual(3000)
    expect(store.deleteTag('t')).toBe(2)
    expect(store.size).toBe(0)
  })

  it('refuses an entry larger than the whole store and drops the older copy', () => {
    const clock = createManualClock()
    const store = new MemoryCacheStore({ clock, maxBytes: 2000 })
    store.set(testEntry(clock.now(), { body: Buffer.alloc(10) }))
    store.set(testEntry(clock.now(), { body: Buffer.alloc(5000) }))
    expect(store.get('gw.test/products/1')).toEqual([])
  })

  it('bounds the number of entries', () => {
    const clock = createManualClock()
    const store = new MemoryCacheStore({ clock, maxEntries: 2 })
    for (const key of ['a', 'b', 'c']) store.set(testEntry(clock.now(), { key }))
    expect(store.size).toBe(2)
    expect(store.get('a')).toEqual([])
  })
})

describe('TieredCacheStore', () => {
  it('fills L1 from L2 for at most l1Ttl, then asks L2 again', async () => {
    const clock = createManualClock()
    const l1 = new MemoryCacheStore({ clock })
    const l2 = new MemoryCacheStore({ clock })
    const store = new TieredCacheStore(l1, l2, { clock, l1Ttl: 1000 })
    l2.set(testEntry(clock.now()))
    expect(await store.get('gw.test/products/1')).toHaveLength(1)
    expect(l1.get('gw.test/products/1')).toHaveLength(1)
    l2.delete('gw.test/products/1')
    expect(await store.get('gw.test/products/1')).toHaveLength(1)
    clock.advance(1001)
    expect(await store.get('gw.test/products/1')).toEqual([])
  })
})
