import { describe, expect, it } from 'vitest'
import { createManualClock } from '../testing/clock.js'
import { circuitBreakerSchema } from '../upstream/schema.js'
import { CircuitBreaker } from './circuit-breaker.js'

function setup() {
  const clock = createManualClock(5_000_000)
  const breaker = new CircuitBreaker(
    circuitBreakerSchema.parse({
      failureRate: 0.5,
      minimumRequests: 10,
      window: '10s',
      openDuration: '30s',
      halfOpenRequests: 2,
    }),
    clock.now,
  )
  const call = (ok: boolean) => {
    const ticket = breaker.admit()
    if (ticket !== undefined) breaker.record(ticket, ok)
    return ticket
  }
  return { clock, breaker, call }
}

describe('circuit breaker', () => {
  it('stays closed below the minimum request count, whatever the failure rate', () => {
    const { breaker, call } = setup()
    for (let i = 0; i < 9; i++) call(false)
    expect(breaker.state).toBe('closed')
    call(false)
    expect(breaker.state).toBe('open')
  })

  it('opens when the failure rate in the window reaches the threshold', () => {
    const { breaker, call } = setup()
    for (let i = 0; i < 6; i++) call(true)
    for (let i = 0; i < 5; i++) call(false)
    expect(breaker.state).toBe('closed')
    call(false)
    expect(breaker.state).toBe('open')
    expect(breaker.admit()).toBeUndefined()
    expect(breaker.retryAfterMs()).toBe(30_000)
  })

  it('forgets outcomes that left the rolling window', () => {
    const { breaker, call, clock } = setup()
    for (let i = 0; i < 9; i++) call(false)
    clock.advance(11_000)
    for (let i = 0; i < 9; i++) call(true)
    call(false)
    expect(breaker.state).toBe('closed')
  })

  it('goes half-open after openDuration, lets probes through and closes when all pass', () => {
    const { breaker, call, clock } = setup()
    for (let i = 0; i < 10; i++) call(false)
    clock.advance(29_999)
    expect(breaker.admit()).toBeUndefined()
    expect(breaker.retryAfterMs()).toBe(1)
    clock.advance(1)
    expect(breaker.state).toBe('half-open')
    const p1 = breaker.admit()
    const p2 = breaker.admit()
    expect([p1, p2]).toEqual(['probe', 'probe'])
    expect(breaker.admit()).toBeUndefined()
    breaker.record(p1, true)
    expect(breaker.state).toBe('half-open')
    breaker.record(p2, true)
    expect(breaker.state).toBe('closed')
    for (let i = 0; i < 9; i++) call(false)
    expect(breaker.state).toBe('closed')
  })

  it('re-opens when a probe fails, for another full period', () => {
    const { breaker, call, clock } = setup()
    for (let i = 0; i < 10; i++) call(false)
    clock.advance(30_000)
    const probe = breaker.admit()
    breaker.record(probe, false)
    expect(breaker.state).toBe('open')
    expect(breaker.retryAfterMs()).toBe(30_000)
  })

  it('ignores late outcomes of calls admitted before it opened', () => {
    const { breaker, call } = setup()
    const early = breaker.admit()
    for (let i = 0; i < 10; i++) call(false)
    breaker.record(early, true)
    expect(breaker.state).toBe('open')
  })
})

describe('circuit breaker: consecutive failures (store guards)', () => {
  function streak() {
    const clock = createManualClock(1_000_000)
    const changes: string[] = []
    const breaker = new CircuitBreaker(
      {
        consecutiveFailures: 3,
        openDuration: 1000,
        onStateChange: (state, previous) => changes.push(`${previous}->${state}`),
      },
      clock.now,
    )
    return { clock, breaker, changes }
  }

  it('opens on the third failure in a row; a success in between resets the run', () => {
    const { breaker, changes } = streak()
    for (const ok of [false, false, true, false, false]) breaker.record(breaker.admit(), ok)
    expect(breaker.state).toBe('closed')
    breaker.record(breaker.admit(), false)
    expect(breaker.state).toBe('open')
    expect(changes).toEqual(['closed->open'])
  })

  it('lets exactly one probe through when half-open (the default), rejecting every concurrent call', () => {
    const { breaker, clock, changes } = streak()
    for (let i = 0; i < 3; i++) breaker.record(breaker.admit(), false)
    clock.advance(1000)
    const tickets = Array.from({ length: 50 }, () => breaker.admit())
    expect(tickets.filter((t) => t === 'probe')).toHaveLength(1)
    expect(tickets.filter((t) => t === undefined)).toHaveLength(49)
    breaker.record('probe', false)
    expect(breaker.state).toBe('open')
    clock.advance(1000)
    const probe = breaker.admit()
    breaker.record(probe, true)
    expect(breaker.state).toBe('closed')
    expect(changes).toEqual([
      'closed->open',
      'open->half-open',
      'half-open->open',
      'open->half-open',
      'half-open->closed',
    ])
    breaker.record(breaker.admit(), false)
    breaker.record(breaker.admit(), false)
    expect(breaker.state).toBe('closed')
  })

  it('needs a trip condition', () => {
    expect(() => new CircuitBreaker({ openDuration: 1000 }, () => 0)).toThrow(
      /failureRate or consecutiveFailures/,
    )
  })
})
