import { CircuitBreaker } from '@gw/core/resilience'
import { createManualClock } from '@gw/core/testing'
import { describe, expect, it } from 'vitest'
import { connect, ready, redisAvailable } from '../../test/helpers/redis.js'
import { STORE_FAILED, StoreGuard } from './guard.js'

function guardWith(timeoutMs: number, failures = 3) {
  const clock = createManualClock()
  const errors: unknown[] = []
  const breaker = new CircuitBreaker({ consecutiveFailures: failures, openDuration: 1000 }, clock.now)
  const guard = new StoreGuard({ timeoutMs, breaker, onError: (error) => errors.push(error) })
  return { guard, breaker, clock, errors }
}

function deferred<T>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

const busyWait = (ms: number) => {
  const end = performance.now() + ms
  while (performance.now() < end) {}
}

describe('store guard', () => {
  it('passes synchronous answers through synchronously and counts thrown errors as failures', () => {
    const { guard, errors } = guardWith(50)
    expect(guard.run((n: number) => n * 2, 21)).toBe(42)
    expect(
      guard.run(() => {
        throw new Error('boom')
      }, 0),
    ).toBe(STORE_FAILED)
    expect(errors).toHaveLength(1)
  })

  it('turns a call without an answer into STORE_FAILED after the timeout, then hands the late answer over', async () => {
    const { guard, errors } = guardWith(20)
    const answer = deferred<string>()
    const late: [string, string][] = []
    const result = guard.run(
      () => answer.promise,
      'call-1',
      (arg, value) => late.push([arg, value]),
    )
    expect(await result).toBe(STORE_FAILED)
    expect(String(errors[0])).toMatch(/timed out after 20 ms/)
    answer.resolve('charged')
    await answer.promise
    await Promise.resolve()
    expect(late).toEqual([['call-1', 'charged']])
    guard.close()
  })

  it('a late handler that throws is counted as an error, never an unhandled rejection', async () => {
    const { guard, errors } = guardWith(10)
    const answer = deferred<string>()
    const result = guard.run(
      () => answer.promise,
      0,
      () => {
        throw new TypeError('bad late answer')
      },
    )
    expect(await result).toBe(STORE_FAILED)
    answer.resolve('garbage')
    await new Promise((r) => setTimeout(r, 5))
    expect(errors.map(String)).toEqual([
      'Error: store call timed out after 10 ms',
      'TypeError: bad late answer',
    ])
    guard.close()
  })

  it('an answer within the timeout is returned, never handed to the late handler', async () => {
    const { guard } = guardWith(200)
    const late: string[] = []
    const result = guard.run(
      () => new Promise<string>((r) => setTimeout(() => r('ok'), 5)),
      'x',
      (_a, v) => late.push(v),
    )
    expect(await result).toBe('ok')
    await new Promise((r) => setTimeout(r, 250))
    expect(late).toEqual([])
    guard.close()
  })

  it('opens the breaker after consecutive failures: calls are skipped synchronously until one probe', async () => {
    const { guard, breaker, clock } = guardWith(10, 2)
    let calls = 0
    const hang = () => {
      calls++
      return new Promise<never>(() => {})
    }
    expect(await guard.run(hang, 0)).toBe(STORE_FAILED)
    expect(await guard.run(hang, 0)).toBe(STORE_FAILED)
    expect(breaker.state).toBe('open')
    expect(guard.run(hang, 0)).toBe(STORE_FAILED)
    expect(calls).toBe(2)
    clock.advance(1000)
    const probe = guard.run(hang, 0)
    const others = Array.from({ length: 20 }, () => guard.run(hang, 0))
    expect(others.every((r) => r === STORE_FAILED)).toBe(true)
    expect(calls).toBe(3)
    expect(await probe).toBe(STORE_FAILED)
    guard.close()
  })
})

const available = await redisAvailable()

describe.skipIf(!available)('store guard against a real Redis', () => {
  it('an answer that arrived while the process was busy past the timeout is not counted as a timeout', async () => {
    const redis = connect()
    await ready(redis)
    const { guard, errors } = guardWith(20)
    try {
      const results = []
      for (let i = 0; i < 5; i++) {
        const result = guard.run(() => redis.ping(), 0)
        // The event loop is blocked for 60 ms: Redis answers in well under that, so the reply waits in the
        // socket buffer while the 20 ms deadline passes. It must win over the deadline.
        busyWait(60)
        results.push(await result)
      }
      expect(results).toEqual(['PONG', 'PONG', 'PONG', 'PONG', 'PONG'])
      expect(errors).toEqual([])
    } finally {
      guard.close()
      redis.disconnect()
    }
  })
})
