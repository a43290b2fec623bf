import { defineStoreContract } from '@gw/core/testing'
import { expect } from 'vitest'
import { evaluate, type LimitSpec, type LimitState } from '../algorithms.js'
import type { ConcurrencyStore, Decision, LimitCheck, RateLimitStore } from '../store/types.js'

const spec = (
  algorithm: LimitSpec['algorithm'],
  limit: number,
  windowMs: number,
  burst = limit,
): LimitSpec => ({
  algorithm,
  limit,
  windowMs,
  burst,
})

const one = (key: string, s: LimitSpec, cost = 1): LimitCheck[] => [{ key, spec: s, cost }]

async function admitted(store: RateLimitStore, checks: LimitCheck[], times: number): Promise<number> {
  let n = 0
  for (let i = 0; i < times; i++) if ((await store.consume(checks)).allowed) n++
  return n
}

/** A seeded generator so the golden sequences are the same on every run and for every store. */
function lcg(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

/**
 * The contract every {@link RateLimitStore} passes (memory and Redis run it; so can your own store). Stores are
 * created with the manual clock of the case and must read time from it.
 *
 * @example
 * ```ts
 * rateLimitStoreContract({ name: 'memory', create: ({ clock }) => createMemoryStore({ clock }) })
 * ```
 */
export const rateLimitStoreContract = defineStoreContract<RateLimitStore>('rate-limit store', {
  'fixed window admits exactly the limit, then denies until the window ends': async ({ store, clock }) => {
    clock.set(Date.UTC(2026, 0, 1, 0, 0, 0, 250))
    const s = spec('fixed-window', 5, 1000)
    const first = await store.consume(one('fw', s))
    expect(first).toEqual({
      allowed: true,
      outcomes: [{ allowed: true, remaining: 4, resetMs: 750, retryAfterMs: 0, nextMs: 750 }],
    })
    expect(await admitted(store, one('fw', s), 10)).toBe(4)
    const denied = await store.consume(one('fw', s))
    expect(denied.outcomes[0]).toEqual({
      allowed: false,
      remaining: 0,
      resetMs: 750,
      retryAfterMs: 750,
      nextMs: 750,
    })
    clock.advance(749)
    expect((await store.consume(one('fw', s))).allowed).toBe(false)
    clock.advance(1)
    expect(await admitted(store, one('fw', s), 10)).toBe(5)
  },
  'sliding window weighs the previous window by its remaining overlap': async ({ store, clock }) => {
    clock.set(Date.UTC(2026, 0, 1))
    const s = spec('sliding-window', 10, 1000)
    expect(await admitted(store, one('sw', s), 15)).toBe(10)
    clock.advance(1250)
    const d = await store.consume(one('sw', s))
    expect(d.outcomes[0]).toEqual({ allowed: true, remaining: 1, resetMs: 750, retryAfterMs: 0, nextMs: 50 })
    expect((await store.consume(one('sw', s))).allowed).toBe(true)
    const denied = await store.consume(one('sw', s))
    expect(denied.allowed).toBe(false)
    expect(denied.outcomes[0]!.retryAfterMs).toBe(50)
    clock.advance(50)
    expect((await store.consume(one('sw', s))).allowed).toBe(true)
    clock.advance(5000)
    expect(await admitted(store, one('sw', s), 15)).toBe(10)
  },
  'token bucket spends its burst, then refills at limit per window': async ({ store, clock }) => {
    const s = spec('token-bucket', 10, 1000, 5)
    expect(await admitted(store, one('tb', s), 8)).toBe(5)
    const denied = await store.consume(one('tb', s))
    expect(denied.outcomes[0]).toEqual({
      allowed: false,
      remaining: 0,
      resetMs: 500,
      retryAfterMs: 100,
      nextMs: 100,
    })
    clock.advance(100)
    expect(await admitted(store, one('tb', s), 3)).toBe(1)
    clock.advance(60_000)
    const full = await store.consume(one('tb', s))
    expect(full.outcomes[0]).toEqual({
      allowed: true,
      remaining: 4,
      resetMs: 100,
      retryAfterMs: 0,
      nextMs: 100,
    })
  },
  'GCRA admits the burst at once, then one request per emission interval': async ({ store, clock }) => {
    const s = spec('gcra', 10, 1000)
    expect(await admitted(store, one('gc', s), 20)).toBe(10)
    const denied = await store.consume(one('gc', s))
    expect(denied.outcomes[0]).toEqual({
      allowed: false,
      remaining: 0,
      resetMs: 1000,
      retryAfterMs: 100,
      nextMs: 100,
    })
    clock.advance(99)
    expect((await store.consume(one('gc', s))).allowed).toBe(false)
    clock.advance(1)
    expect(await admitted(store, one('gc', s), 5)).toBe(1)
  },
  'GCRA is exact when the emission interval is not a whole number of ms': async ({ store, clock }) => {
    clock.set(Date.UTC(2026, 0, 1, 12))
    const s = spec('gcra', 3, 1000)
    expect(await admitted(store, one('gc3', s), 10)).toBe(3)
    clock.advance(334)
    expect(await admitted(store, one('gc3', s), 10)).toBe(1)
  },
  'several limits are all-or-nothing: a denied request charges none of them': async ({ store }) => {
    const checks: LimitCheck[] = [
      { key: 'multi:a', spec: spec('fixed-window', 5, 60_000), cost: 1 },
      { key: 'multi:b', spec: spec('token-bucket', 2, 60_000), cost: 1 },
    ]
    expect(await admitted(store, checks, 2)).toBe(2)
    const denied = await store.consume(checks)
    expect(denied.allowed).toBe(false)
    expect(denied.outcomes.map((o) => o.allowed)).toEqual([true, false])
    const alone = await store.consume([checks[0]!])
    expect(alone.outcomes[0]!.remaining).toBe(2)
  },
  'cost is charged in full, and a cost above the limit is always denied': async ({ store }) => {
    for (const algorithm of ['fixed-window', 'sliding-window', 'token-bucket', 'gcra'] as const) {
      const s = spec(algorithm, 10, 60_000)
      expect(await admitted(store, one(`cost:${algorithm}`, s, 3), 5)).toBe(3)
      expect((await store.consume(one(`cost:${algorithm}`, s, 1))).allowed).toBe(true)
      expect((await store.consume(one(`cost:${algorithm}`, s, 1))).allowed).toBe(false)
      expect((await store.consume(one(`big:${algorithm}`, s, 11))).allowed).toBe(false)
    }
  },
  'keys are independent': async ({ store }) => {
    const s = spec('fixed-window', 1, 60_000)
    expect((await store.consume(one('ind:a', s))).allowed).toBe(true)
    expect((await store.consume(one('ind:b', s))).allowed).toBe(true)
    expect((await store.consume(one('ind:a', s))).allowed).toBe(false)
  },
  'a long-window quota (30 days) counts across days': async ({ store, clock }) => {
    const month = 30 * 86_400_000
    clock.set(Math.ceil(Date.UTC(2026, 0, 1) / month) * month)
    const s = spec('fixed-window', 3, month)
    expect(await admitted(store, one('month', s), 2)).toBe(2)
    clock.advance(10 * 86_400_000)
    const d = await store.consume(one('month', s))
    expect(d.outcomes[0]).toEqual({
      allowed: true,
      remaining: 0,
      resetMs: 20 * 86_400_000,
      retryAfterMs: 0,
      nextMs: 20 * 86_400_000,
    })
    expect((await store.consume(one('month', s))).allowed).toBe(false)
  },
  'decisions match the reference algorithms over a seeded random sequence': async ({ store, clock }) => {
    clock.set(Date.UTC(2026, 0, 1, 0, 0, 7, 13))
    const random = lcg(42)
    const specs = [
      spec('fixed-window', 7, 700),
      spec('sliding-window', 9, 1300),
      spec('token-bucket', 11, 900, 4),
      spec('gcra', 6, 1100, 3),
    ]
    const reference = new Map<string, LimitState>()
    for (let step = 0; step < 400; step++) {
      clock.advance(Math.floor(random() * 180))
      const s = specs[step % specs.length]!
      const checks: LimitCheck[] = [
        {
          key: `golden:${s.algorithm}:${Math.floor(random() * 2)}`,
          spec: s,
          cost: 1 + Math.floor(random() * 2),
        },
      ]
      if (random() < 0.3) checks.push({ key: 'golden:shared', spec: specs[1]!, cost: 1 })
      const expected: Decision = { allowed: true, outcomes: [] }
      const nexts: LimitState[] = []
      for (const check of checks) {
        const e = evaluate(check.spec, reference.get(check.key), clock.now() * 1000, check.cost)
        if (!e.allowed) expected.allowed = false
        expected.outcomes.push({
          allowed: e.allowed,
          remaining: e.remaining,
          resetMs: e.resetMs,
          retryAfterMs: e.retryAfterMs,
          nextMs: e.nextMs,
        })
        nexts.push(e.next)
      }
      if (expected.allowed) for (const [i, check] of checks.entries()) reference.set(check.key, nexts[i]!)
      expect(await store.consume(checks), `step ${step}`).toEqual(expected)
    }
  },
})

/**
 * The contract every {@link ConcurrencyStore} passes.
 *
 * @example
 * ```ts
 * concurrencyStoreContract({ name: 'memory', create: () => createMemoryConcurrencyStore() })
 * ```
 */
export const concurrencyStoreContract = defineStoreContract<ConcurrencyStore>('concurrency store', {
  'admits up to max in flight and frees a slot on release': async ({ store }) => {
    const slots = []
    for (let i = 0; i < 4; i++) slots.push(await store.acquire('cc:a', 3, 60_000))
    expect(slots.map((s) => s.acquired)).toEqual([true, true, true, false])
    expect(slots.map((s) => s.remaining)).toEqual([2, 1, 0, 0])
    await store.release('cc:a', slots[0]!.lease!)
    expect((await store.acquire('cc:a', 3, 60_000)).acquired).toBe(true)
    expect((await store.acquire('cc:b', 3, 60_000)).acquired).toBe(true)
  },
  'releasing every lease empties the key': async ({ store }) => {
    const a = await store.acquire('cc:c', 1, 60_000)
    await store.release('cc:c', a.lease!)
    const b = await store.acquire('cc:c', 1, 60_000)
    expect(b).toMatchObject({ acquired: true, remaining: 0 })
    await store.release('cc:c', b.lease!)
  },
})
