import { describe, expect, it } from 'vitest'
import { noopLogger } from '../logger.js'
import { HealthChecker, type HealthState, statusPasses } from './health-check.js'
import { healthCheckSchema } from './schema.js'

function setup() {
  const targets: HealthState[] = [
    { url: 'a', healthy: true },
    { url: 'b', healthy: true },
  ]
  const up = new Map<HealthState, boolean>(targets.map((t) => [t, true]))
  let changes = 0
  const checker = new HealthChecker(
    healthCheckSchema.parse({ healthyThreshold: 2, unhealthyThreshold: 3 }),
    async (t) => up.get(t)!,
    () => targets,
    () => {
      changes++
    },
    noopLogger,
  )
  return { targets, up, checker, changes: () => changes }
}

describe('active health checks', () => {
  it('takes a target out after unhealthyThreshold failures and back after healthyThreshold passes', async () => {
    const { targets, up, checker, changes } = setup()
    const [a, b] = targets as [HealthState, HealthState]
    up.set(a, false)
    await checker.checkNow()
    await checker.checkNow()
    expect(a.healthy).toBe(true)
    await checker.checkNow()
    expect(a.healthy).toBe(false)
    expect(b.healthy).toBe(true)
    expect(changes()).toBe(1)
    up.set(a, true)
    await checker.checkNow()
    expect(a.healthy).toBe(false)
    await checker.checkNow()
    expect(a.healthy).toBe(true)
    expect(changes()).toBe(2)
  })

  it('needs consecutive results: a flapping target keeps its state', async () => {
    const { targets, up, checker, changes } = setup()
    const a = targets[0]!
    for (let i = 0; i < 6; i++) {
      up.set(a, i % 2 === 0)
      await checker.checkNow()
    }
    expect(a.healthy).toBe(true)
    expect(changes()).toBe(0)
  })

  it('joins a running round instead of overlapping', async () => {
    const { checker } = setup()
    const first = checker.checkNow()
    expect(checker.checkNow()).toBe(first)
    await first
  })

  it('passes 2xx/3xx by default, or the listed statuses', () => {
    expect(statusPasses(200, undefined)).toBe(true)
    expect(statusPasses(302, undefined)).toBe(true)
    expect(statusPasses(503, undefined)).toBe(false)
    expect(statusPasses(204, [204])).toBe(true)
    expect(statusPasses(200, [204])).toBe(false)
  })
})
