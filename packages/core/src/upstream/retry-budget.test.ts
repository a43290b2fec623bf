import { describe, expect, it } from 'vitest'
import { createManualClock } from '../testing/clock.js'
import { RetryBudget } from './retry-budget.js'

describe('retry budget', () => {
  it('allows the minimum per second with no traffic, then refuses', () => {
    const clock = createManualClock()
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 1, window: 10_000 }, clock.now)
    let allowed = 0
    for (let i = 0; i < 50; i++) if (budget.tryRetry()) allowed++
    expect(allowed).toBe(10)
  })

  it('caps retries at ratio x requests on top of the reserve', () => {
    const clock = createManualClock()
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0 }, clock.now)
    for (let i = 0; i < 100; i++) budget.recordRequest()
    let allowed = 0
    for (let i = 0; i < 100; i++) if (budget.tryRetry()) allowed++
    expect(allowed).toBe(20)
  })

  it('refills as old requests and retries leave the window', () => {
    const clock = createManualClock()
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 0, window: 10_000 }, clock.now)
    for (let i = 0; i < 10; i++) budget.recordRequest()
    for (let i = 0; i < 5; i++) expect(budget.tryRetry()).toBe(true)
    expect(budget.tryRetry()).toBe(false)
    clock.advance(5000)
    expect(budget.tryRetry()).toBe(false)
    for (let i = 0; i < 10; i++) budget.recordRequest()
    expect(budget.tryRetry()).toBe(true)
    clock.advance(10_000)
    expect(budget.tryRetry()).toBe(false)
    for (let i = 0; i < 4; i++) budget.recordRequest()
    expect(budget.tryRetry()).toBe(true)
  })

  it('limits amplification during an outage: every request failing gets at most ratio retries', () => {
    const clock = createManualClock()
    const budget = new RetryBudget({ ratio: 0.1, minPerSecond: 2 }, clock.now)
    let calls = 0
    for (let second = 0; second < 30; second++) {
      for (let r = 0; r < 100; r++) {
        budget.recordRequest()
        calls++
        for (let attempt = 0; attempt < 3 && budget.tryRetry(); attempt++) calls++
      }
      clock.advance(1000)
    }
    expect(calls / 3000).toBeLessThan(1.15)
    expect(calls / 3000).toBeGreaterThan(1.05)
  })
})
