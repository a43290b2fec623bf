import { describe, expect, it } from 'vitest'
import { ALGORITHMS, evaluate, type LimitSpec, type LimitState } from './algorithms.js'

function run(spec: LimitSpec, times: number[]): number[] {
  let state: LimitState | undefined
  const admitted: number[] = []
  for (const ms of times) {
    const e = evaluate(spec, state, ms * 1000, 1)
    if (e.allowed) {
      state = e.next
      admitted.push(ms)
    }
  }
  return admitted
}

describe('algorithm bounds (README)', () => {
  it('sliding window: at most limit per aligned window, and the documented worst case 2 x limit - 1 over a straddling span', () => {
    const spec: LimitSpec = { algorithm: 'sliding-window', limit: 10, windowMs: 1000, burst: 10 }
    const times = [
      ...Array.from({ length: 10 }, () => 999_999),
      ...Array.from({ length: 999 }, (_, i) => 1_000_000 + i),
    ]
    const admitted = run(spec, times)
    const inSpan = admitted.filter((t) => t >= 999_999 && t < 999_999 + 1000).length
    expect(inSpan).toBe(2 * spec.limit - 1)
    expect(admitted.filter((t) => t >= 1_000_000).length).toBeLessThanOrEqual(spec.limit)
  })

  it('fixed window never admits more than limit in an aligned window; GCRA and token bucket never exceed burst + rate x time', () => {
    const times = Array.from({ length: 5000 }, (_, i) => 2_000_000 + Math.floor(i / 2))
    const fixed = run({ algorithm: 'fixed-window', limit: 7, windowMs: 500, burst: 7 }, times)
    const perWindow = new Map<number, number>()
    for (const t of fixed) perWindow.set(Math.floor(t / 500), (perWindow.get(Math.floor(t / 500)) ?? 0) + 1)
    expect(Math.max(...perWindow.values())).toBe(7)
    for (const algorithm of ['gcra', 'token-bucket'] as const) {
      const admitted = run({ algorithm, limit: 10, windowMs: 1000, burst: 5 }, times)
      const elapsed = times.at(-1)! - times[0]!
      expect(admitted.length).toBeLessThanOrEqual(5 + Math.floor((10 * elapsed) / 1000))
      expect(admitted.length).toBeGreaterThanOrEqual(Math.floor((10 * elapsed) / 1000))
    }
  })
})

function lcg(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0
    return state / 2 ** 32
  }
}

describe('nextMs (the RateLimit t) and retryAfterMs mean what they say, for every algorithm', () => {
  for (const algorithm of ALGORITHMS) {
    it(`${algorithm}: after an allowed request, remaining + 1 units fit at exactly t, not 1 ms before; after a denied one, the request fits at exactly Retry-After = t`, () => {
      const random = lcg(algorithm.length * 7919)
      const windowed = algorithm === 'fixed-window' || algorithm === 'sliding-window'
      const spec: LimitSpec = { algorithm, limit: 7, windowMs: 3000, burst: windowed ? 7 : 4 }
      let state: LimitState | undefined
      let nowUs = 1_700_000_000_000_000
      const checked = { allowed: 0, denied: 0 }
      for (let step = 0; step < 600; step++) {
        nowUs += Math.floor(random() * 400) * 1000
        const cost = random() < 0.8 ? 1 : 2
        const e = evaluate(spec, state, nowUs, cost)
        const before = state
        if (e.allowed) {
          state = e.next
          const units = e.remaining + 1
          expect(e.nextMs, `step ${step}`).toBeGreaterThan(0)
          expect(evaluate(spec, state, nowUs + e.nextMs * 1000, units).allowed, `step ${step} at t`).toBe(
            true,
          )
          expect(
            evaluate(spec, state, nowUs + (e.nextMs - 1) * 1000, units).allowed,
            `step ${step} before t`,
          ).toBe(false)
          checked.allowed++
        } else {
          expect(e.nextMs).toBe(e.retryAfterMs)
          expect(
            evaluate(spec, before, nowUs + e.retryAfterMs * 1000, cost).allowed,
            `step ${step} at retry`,
          ).toBe(true)
          expect(evaluate(spec, before, nowUs + (e.retryAfterMs - 1) * 1000, cost).allowed).toBe(false)
          checked.denied++
        }
      }
      expect(checked.allowed).toBeGreaterThan(100)
      expect(checked.denied).toBeGreaterThan(50)
    })
  }
})
