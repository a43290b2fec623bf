import { describe, expect, it } from 'vitest'
import { createManualClock } from '../../testing/clock.js'
import { createTestExchange } from '../../testing/exchange.js'
import { balancerSchema } from '../schema.js'
import { ConsistentHashBalancer, compileHashKey, createBalancer, P2cEwmaBalancer } from './index.js'
import type { BalancedTarget, BalancerDeps } from './types.js'

interface FakeTarget extends BalancedTarget {
  inflight: number
  ewma: number
}

function target(url: string, weight = 1, ewma = 0, inflight = 0): FakeTarget {
  return { url, weight, inflight, ewma, decayedEwma: () => ewma }
}

/** Deterministic pseudo-random numbers (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function deps(seed = 1): BalancerDeps {
  const clock = createManualClock()
  return { now: clock.now, random: seeded(seed) }
}

function count(picks: (FakeTarget | undefined)[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const p of picks) if (p) out[p.url] = (out[p.url] ?? 0) + 1
  return out
}

describe('round-robin', () => {
  it('takes targets in turn and ignores weights', () => {
    const [a, b, c] = [target('a', 5), target('b'), target('c')]
    const rr = createBalancer<FakeTarget>({ type: 'round-robin' }, deps())
    rr.update([a, b, c])
    const picks = Array.from({ length: 6 }, () => rr.pick(undefined, undefined)?.url)
    expect(picks).toEqual(['a', 'b', 'c', 'a', 'b', 'c'])
  })

  it('avoids targets already tried by the request, unless all were', () => {
    const [a, b, c] = [target('a'), target('b'), target('c')]
    const rr = createBalancer<FakeTarget>({ type: 'round-robin' }, deps())
    rr.update([a, b, c])
    expect(rr.pick(undefined, [a, b])).toBe(c)
    expect(rr.pick(undefined, undefined)).toBe(a)
    expect(rr.pick(undefined, [a, b, c])).toBeDefined()
  })

  it('returns undefined without targets', () => {
    const rr = createBalancer<FakeTarget>({ type: 'round-robin' }, deps())
    rr.update([])
    expect(rr.pick(undefined, undefined)).toBeUndefined()
  })
})

describe('smooth weighted round-robin', () => {
  it('spreads 5/1/1 as nginx does: a a b a c a a', () => {
    const [a, b, c] = [target('a', 5), target('b'), target('c')]
    const wrr = createBalancer<FakeTarget>({ type: 'weighted-round-robin' }, deps())
    wrr.update([a, b, c])
    const picks = Array.from({ length: 7 }, () => wrr.pick(undefined, undefined)?.url)
    expect(picks).toEqual(['a', 'a', 'b', 'a', 'c', 'a', 'a'])
  })

  it('gives each target exactly its weight share per cycle', () => {
    const targets = [target('a', 3), target('b', 2), target('c', 1)]
    const wrr = createBalancer<FakeTarget>({ type: 'weighted-round-robin' }, deps())
    wrr.update(targets)
    const picks = Array.from({ length: 600 }, () => wrr.pick(undefined, undefined))
    expect(count(picks)).toEqual({ a: 300, b: 200, c: 100 })
  })

  it('keeps working after a target is removed and added back', () => {
    const [a, b, c] = [target('a', 2), target('b'), target('c')]
    const wrr = createBalancer<FakeTarget>({ type: 'weighted-round-robin' }, deps())
    wrr.update([a, b, c])
    wrr.pick(undefined, undefined)
    wrr.update([a, c])
    expect(count(Array.from({ length: 300 }, () => wrr.pick(undefined, undefined)))).toEqual({
      a: 200,
      c: 100,
    })
    wrr.update([a, b, c])
    expect(count(Array.from({ length: 400 }, () => wrr.pick(undefined, undefined)))).toEqual({
      a: 200,
      b: 100,
      c: 100,
    })
  })

  it('skips tried targets for a retry', () => {
    const [a, b] = [target('a', 10), target('b')]
    const wrr = createBalancer<FakeTarget>({ type: 'weighted-round-robin' }, deps())
    wrr.update([a, b])
    expect(wrr.pick(undefined, [a])).toBe(b)
  })
})

describe('least-connections', () => {
  it('picks the target with the fewest in-flight requests', () => {
    const [a, b, c] = [target('a', 1, 0, 5), target('b', 1, 0, 1), target('c', 1, 0, 3)]
    const lc = createBalancer<FakeTarget>({ type: 'least-connections' }, deps())
    lc.update([a, b, c])
    expect(lc.pick(undefined, undefined)).toBe(b)
    b.inflight = 9
    expect(lc.pick(undefined, undefined)).toBe(c)
  })

  it('scales by weight and spreads ties round-robin', () => {
    const [a, b] = [target('a', 2, 0, 3), target('b', 1, 0, 2)]
    const lc = createBalancer<FakeTarget>({ type: 'least-connections' }, deps())
    lc.update([a, b])
    expect(lc.pick(undefined, undefined)).toBe(a)
    const [x, y, z] = [target('x'), target('y'), target('z')]
    lc.update([x, y, z])
    const picks = Array.from({ length: 3 }, () => lc.pick(undefined, undefined)?.url)
    expect(new Set(picks)).toEqual(new Set(['x', 'y', 'z']))
  })

  it('keeps load even when requests are held in flight', () => {
    const targets = [target('a'), target('b'), target('c')]
    const lc = createBalancer<FakeTarget>({ type: 'least-connections' }, deps())
    lc.update(targets)
    for (let i = 0; i < 30; i++) lc.pick(undefined, undefined)!.inflight++
    expect(targets.map((t) => t.inflight)).toEqual([10, 10, 10])
  })
})

describe('p2c-ewma', () => {
  it('sends almost nothing to a target that is 50x slower', () => {
    const targets = [target('fast1', 1, 2), target('fast2', 1, 2), target('slow', 1, 100)]
    const p2c = createBalancer<FakeTarget>({ type: 'p2c-ewma', decay: 5000 }, deps(7))
    p2c.update(targets)
    const counts = count(Array.from({ length: 3000 }, () => p2c.pick(undefined, undefined)))
    expect(counts.slow ?? 0).toBe(0)
    expect(counts.fast1).toBeGreaterThan(1200)
    expect(counts.fast2).toBeGreaterThan(1200)
  })

  it('weighs latency by load: a busy fast target loses to an idle slower one', () => {
    const busy = target('busy', 1, 10, 20)
    const idle = target('idle', 1, 50, 0)
    const p2c = new P2cEwmaBalancer<FakeTarget>(deps(), 5000)
    p2c.update([busy, idle])
    expect(p2c.pick(undefined, undefined)).toBe(idle)
  })

  it('spreads evenly across equal targets', () => {
    const targets = [target('a', 1, 5), target('b', 1, 5), target('c', 1, 5)]
    const p2c = createBalancer<FakeTarget>({ type: 'p2c-ewma', decay: 5000 }, deps(3))
    p2c.update(targets)
    const counts = count(Array.from({ length: 3000 }, () => p2c.pick(undefined, undefined)))
    for (const n of Object.values(counts)) expect(n).toBeGreaterThan(850)
  })

  it('avoids tried targets', () => {
    const [a, b] = [target('a', 1, 1), target('b', 1, 1000)]
    const p2c = createBalancer<FakeTarget>({ type: 'p2c-ewma', decay: 5000 }, deps())
    p2c.update([a, b])
    expect(p2c.pick(undefined, [a])).toBe(b)
  })
})

describe('consistent hashing', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `user-${i}`)
  const make = (n: number): FakeTarget[] =>
    Array.from({ length: n }, (_, i) => target(`http://10.0.0.${i + 1}:8080`))
  const balancer = (algorithm: 'ring' | 'maglev') =>
    new ConsistentHashBalancer<FakeTarget>(
      balancerSchema.parse({ type: 'consistent-hash', key: { source: 'ip' }, algorithm }) as never,
      deps(),
    )

  for (const algorithm of ['ring', 'maglev'] as const) {
    it(`${algorithm}: spreads keys evenly`, () => {
      const targets = make(5)
      const ch = balancer(algorithm)
      ch.update(targets)
      const counts = count(keys.map((k) => ch.pickByKey(k)))
      for (const n of Object.values(counts)) {
        expect(n).toBeGreaterThan(4000 * 0.8)
        expect(n).toBeLessThan(4000 * 1.2)
      }
    })

    it(`${algorithm}: removing one of 10 targets moves about 1/10 of the keys`, () => {
      const targets = make(10)
      const ch = balancer(algorithm)
      ch.update(targets)
      const before = keys.map((k) => ch.pickByKey(k)!)
      const removed = targets[3]!
      ch.update(targets.filter((t) => t !== removed))
      const after = keys.map((k) => ch.pickByKey(k)!)
      const moved = keys.filter((_, i) => before[i] !== after[i]).length
      const owned = before.filter((t) => t === removed).length
      expect(after.includes(removed)).toBe(false)
      if (algorithm === 'ring') expect(moved).toBe(owned)
      else expect(moved).toBeLessThan(owned * 1.3)
      expect(moved / keys.length).toBeLessThan(0.15)
    })

    it(`${algorithm}: adding an 11th target moves about 1/11 of the keys, all to it`, () => {
      const targets = make(11)
      const ch = balancer(algorithm)
      ch.update(targets.slice(0, 10))
      const before = keys.map((k) => ch.pickByKey(k)!)
      ch.update(targets)
      const after = keys.map((k) => ch.pickByKey(k)!)
      const movedTo = after.filter((t, i) => t !== before[i])
      expect(movedTo.length / keys.length).toBeLessThan(0.14)
      expect(movedTo.length / keys.length).toBeGreaterThan(0.05)
      const toNew = movedTo.filter((t) => t === targets[10]).length
      if (algorithm === 'ring') expect(toNew).toBe(movedTo.length)
      else expect(toNew / movedTo.length).toBeGreaterThan(0.8)
    })

    it(`${algorithm}: honours weights`, () => {
      const targets = [target('http://a:1', 3), target('http://b:1', 1)]
      const ch = balancer(algorithm)
      ch.update(targets)
      const counts = count(keys.map((k) => ch.pickByKey(k)))
      const share = counts['http://a:1']! / keys.length
      expect(share).toBeGreaterThan(0.68)
      expect(share).toBeLessThan(0.82)
    })

    it(`${algorithm}: a retry goes to another target, the same one for the same key`, () => {
      const targets = make(4)
      const ch = balancer(algorithm)
      ch.update(targets)
      const first = ch.pickByKey('k-1')!
      const second = ch.pickByKey('k-1', [first])!
      expect(second).not.toBe(first)
      expect(ch.pickByKey('k-1', [first])).toBe(second)
    })
  }

  it('reads keys from a header, a cookie, the client ip and a route param', () => {
    const ex = createTestExchange({
      headers: { 'x-user': 'u7', cookie: 'theme=dark; session=abc123 ; x=1' },
      ip: '10.1.2.3',
      route: { params: { tenant: 'acme' } },
    })
    expect(compileHashKey({ source: 'header', name: 'x-user' })(ex)).toBe('u7')
    expect(compileHashKey({ source: 'cookie', name: 'session' })(ex)).toBe('abc123')
    expect(compileHashKey({ source: 'cookie', name: 'missing' })(ex)).toBeUndefined()
    expect(compileHashKey({ source: 'ip' })(ex)).toBe('10.1.2.3')
    expect(compileHashKey({ source: 'param', name: 'tenant' })(ex)).toBe('acme')
  })

  it('routes the same key to the same target and spreads keyless requests', () => {
    const targets = make(3)
    const ch = createBalancer<FakeTarget>(
      balancerSchema.parse({ type: 'consistent-hash', key: { source: 'header', name: 'x-user' } }),
      deps(),
    )
    ch.update(targets)
    const ex = (user?: string) => createTestExchange({ headers: user ? { 'x-user': user } : {} })
    const first = ch.pick(ex('alice'), undefined)
    for (let i = 0; i < 20; i++) expect(ch.pick(ex('alice'), undefined)).toBe(first)
    const keyless = count(Array.from({ length: 300 }, () => ch.pick(ex(), undefined)))
    expect(Object.keys(keyless)).toHaveLength(3)
  })

  it('rejects a Maglev table size that is not prime', () => {
    const result = balancerSchema.safeParse({
      type: 'consistent-hash',
      key: { source: 'ip' },
      algorithm: 'maglev',
      tableSize: 65_536,
    })
    expect(result.success).toBe(false)
  })
})
