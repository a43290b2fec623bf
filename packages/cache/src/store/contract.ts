import { defineStoreContract } from '@gw/core/testing'
import { expect } from 'vitest'
import type { CacheEntry, CacheStore } from './types.js'

/**
 * Builds an entry for store tests.
 *
 * @example
 * ```ts
 * const entry = testEntry(Date.now(), { key: 'gw.test/a' })
 * ```
 */
export function testEntry(now: number, overrides: Partial<CacheEntry> = {}): CacheEntry {
  return {
    key: 'gw.test/products/1',
    variant: '',
    parts: '',
    vary: [],
    status: 200,
    headers: { 'content-type': 'application/octet-stream', etag: '"v1"', 'set-cookie': ['a=1', 'b=2'] },
    body: Buffer.from([0, 1, 2, 255, 254, 0x7b, 0x7d, 10, 13]),
    requestTime: now - 5,
    responseTime: now,
    initialAge: 0,
    lifetime: 60_000,
    staleWhileRevalidate: 0,
    staleIfError: 0,
    noCache: false,
    mustRevalidate: false,
    authorizedReuse: false,
    tags: [],
    expiresAt: now + 60_000,
    ...overrides,
  }
}

/**
 * The contract every {@link CacheStore} passes (memory, Redis, tiered). Register it for an implementation in a
 * test file; stores built for it must use the given manual clock for expiry and an isolated key space.
 *
 * @example
 * ```ts
 * cacheStoreContract({ name: 'memory', create: ({ clock }) => new MemoryCacheStore({ clock }) })
 * ```
 */
export const cacheStoreContract = defineStoreContract<CacheStore>('cache store', {
  'returns no entries for an unknown key': async ({ store }) => {
    expect(await store.get('gw.test/nothing')).toEqual([])
  },
  'round-trips an entry with binary body and multi-value headers': async ({ store, clock }) => {
    const entry = testEntry(clock.now())
    await store.set(entry)
    const [found, ...rest] = await store.get(entry.key)
    expect(rest).toEqual([])
    expect(found).toBeDefined()
    expect(Buffer.compare(found!.body, entry.body)).toBe(0)
    expect({ ...found, body: undefined }).toEqual({ ...entry, body: undefined })
  },
  'keeps variants apart and replaces the same variant': async ({ store, clock }) => {
    const now = clock.now()
    await store.set(testEntry(now, { variant: 'a', body: Buffer.from('A1') }))
    await store.set(testEntry(now, { variant: 'b', body: Buffer.from('B1') }))
    await store.set(testEntry(now, { variant: 'a', body: Buffer.from('A2') }))
    const bodies = (await store.get('gw.test/products/1')).map((e) => e.body.toString()).sort()
    expect(bodies).toEqual(['A2', 'B1'])
  },
  'does not return entries past their expiry': async ({ store, clock }) => {
    const now = clock.now()
    await store.set(testEntry(now, { variant: 'short', expiresAt: now + 1000 }))
    await store.set(testEntry(now, { variant: 'long', expiresAt: now + 60_000 }))
    clock.advance(1500)
    expect((await store.get('gw.test/products/1')).map((e) => e.variant)).toEqual(['long'])
  },
  'ignores entries that are already expired': async ({ store, clock }) => {
    const now = clock.now()
    await store.set(testEntry(now, { expiresAt: now }))
    expect(await store.get('gw.test/products/1')).toEqual([])
  },
  'deletes every variant of a key and nothing else': async ({ store, clock }) => {
    const now = clock.now()
    await store.set(testEntry(now, { variant: 'a' }))
    await store.set(testEntry(now, { variant: 'b' }))
    await store.set(testEntry(now, { key: 'gw.test/products/10' }))
    expect(await store.delete('gw.test/products/1')).toBe(2)
    expect(await store.get('gw.test/products/1')).toEqual([])
    expect(await store.get('gw.test/products/10')).toHaveLength(1)
    expect(await store.delete('gw.test/products/1')).toBe(0)
  },
  'deletes by prefix, treating glob and brace characters literally': async ({ store, clock }) => {
    const now = clock.now()
    const keys = ['gw.test/a/1', 'gw.test/a/2?x={y}', 'gw.test/a*/3', 'gw.test/b/1', 'other.test/a/1']
    for (const key of keys) await store.set(testEntry(now, { key }))
    expect(await store.deletePrefix('gw.test/a/')).toBe(2)
    for (const key of keys) {
      const expected = key.startsWith('gw.test/a/') ? 0 : 1
      expect(await store.get(key), key).toHaveLength(expected)
    }
    expect(await store.deletePrefix('gw.test/a*')).toBe(1)
    expect(await store.get('gw.test/b/1')).toHaveLength(1)
  },
  'deletes by tag across keys': async ({ store, clock }) => {
    const now = clock.now()
    await store.set(testEntry(now, { key: 'gw.test/p/1', tags: ['product-1', 'all'] }))
    await store.set(testEntry(now, { key: 'gw.test/p/2', tags: ['product-2', 'all'] }))
    await store.set(testEntry(now, { key: 'gw.test/p/3', tags: [] }))
    expect(await store.deleteTag('product-1')).toBe(1)
    expect(await store.get('gw.test/p/1')).toEqual([])
    expect(await store.get('gw.test/p/2')).toHaveLength(1)
    expect(await store.deleteTag('all')).toBe(1)
    expect(await store.get('gw.test/p/2')).toEqual([])
    expect(await store.get('gw.test/p/3')).toHaveLength(1)
    expect(await store.deleteTag('unknown')).toBe(0)
  },
  'replacing an entry drops its old tags': async ({ store, clock }) => {
    const now = clock.now()
    await store.set(testEntry(now, { tags: ['old'] }))
    await store.set(testEntry(now, { tags: ['new'], body: Buffer.from('v2') }))
    await store.deleteTag('old')
    const found = await store.get('gw.test/products/1')
    expect(found.map((e) => e.body.toString())).toEqual(['v2'])
  },
})
