import { describe, expect, it } from 'vitest'
import { createManualClock } from '../testing/clock.js'
import { OutlierDetector, type OutlierState } from './outlier.js'
import { outlierDetectionSchema } from './schema.js'

const state = (): OutlierState => ({ consecutiveFailures: 0, ejections: 0, ejectedUntil: 0, restoredAt: 0 })

function setup(options: Record<string, unknown> = {}, n = 3) {
  const clock = createManualClock(1_000_000)
  const config = outlierDetectionSchema.parse({
    consecutiveFailures: 3,
    baseEjectionTime: '10s',
    maxEjectionTime: '35s',
    ...options,
  })
  const detector = new OutlierDetector(config, clock.now)
  const targets = Array.from({ length: n }, state)
  const fail = (t: OutlierState, times: number) => {
    let ejected = false
    for (let i = 0; i < times; i++) ejected = detector.record(t, false, targets) || ejected
    return ejected
  }
  return { clock, detector, targets, fail }
}

describe('outlier detection', () => {
  it('ejects after N consecutive failures; a success in between resets the count', () => {
    const { detector, targets, fail, clock } = setup()
    const t = targets[0]!
    expect(fail(t, 2)).toBe(false)
    detector.record(t, true, targets)
    expect(fail(t, 2)).toBe(false)
    expect(fail(t, 1)).toBe(true)
    expect(t.ejectedUntil).toBe(clock.now() + 10_000)
  })

  it('restores after the ejection period; repeated ejections last longer, up to the cap', () => {
    const { detector, targets, fail, clock } = setup()
    const t = targets[0]!
    const periods: number[] = []
    for (let round = 0; round < 5; round++) {
      expect(fail(t, 3)).toBe(true)
      const period = t.ejectedUntil - clock.now()
      periods.push(period)
      clock.advance(period - 1)
      expect(detector.restoreExpired(targets)).toBe(false)
      clock.advance(1)
      expect(detector.restoreExpired(targets)).toBe(true)
      expect(t.ejectedUntil).toBe(0)
    }
    expect(periods).toEqual([10_000, 20_000, 30_000, 35_000, 35_000])
  })

  it('forgets old ejections: the multiplier decays by one per base period spent healthy', () => {
    const { detector, targets, fail, clock } = setup()
    const t = targets[0]!
    fail(t, 3)
    clock.advance(10_000)
    detector.restoreExpired(targets)
    fail(t, 3)
    expect(t.ejectedUntil - clock.now()).toBe(20_000)
    clock.advance(20_000)
    detector.restoreExpired(targets)
    clock.advance(25_000)
    fail(t, 3)
    expect(t.ejectedUntil - clock.now()).toBe(10_000)
  })

  it('caps the share of ejected targets and never ejects the last one', () => {
    const { targets, fail, detector } = setup({ maxEjectionPercent: 50 }, 4)
    expect(detector.maxEjected(4)).toBe(2)
    expect(fail(targets[0]!, 3)).toBe(true)
    expect(fail(targets[1]!, 3)).toBe(true)
    expect(fail(targets[2]!, 3)).toBe(false)
    expect(targets[2]!.ejectedUntil).toBe(0)
    const all = setup({ maxEjectionPercent: 100 }, 2)
    expect(all.fail(all.targets[0]!, 3)).toBe(true)
    expect(all.fail(all.targets[1]!, 3)).toBe(false)
    const single = setup({ maxEjectionPercent: 100 }, 1)
    expect(single.fail(single.targets[0]!, 10)).toBe(false)
  })

  it('ejects at least one target even with a small percentage', () => {
    const { detector } = setup({ maxEjectionPercent: 10 }, 3)
    expect(detector.maxEjected(3)).toBe(1)
  })

  it('tracks the next expiry across several ejected targets', () => {
    const { detector, targets, fail, clock } = setup({ maxEjectionPercent: 100 }, 3)
    fail(targets[0]!, 3)
    clock.advance(4000)
    fail(targets[1]!, 3)
    expect(detector.nextExpiry).toBe(targets[0]!.ejectedUntil)
    clock.advance(6000)
    expect(detector.restoreExpired(targets)).toBe(true)
    expect(targets[0]!.ejectedUntil).toBe(0)
    expect(targets[1]!.ejectedUntil).toBeGreaterThan(0)
    expect(detector.nextExpiry).toBe(targets[1]!.ejectedUntil)
  })
})
