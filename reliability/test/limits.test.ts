import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ALGORITHMS, type LimitsRig, startLimitsRig, starveCpu } from '../limits/rig.js'

const haveRedisServer = spawnSync('redis-server', ['--version']).status === 0
if (!haveRedisServer && process.env.CI === 'true')
  throw new Error('redis-server is required under CI=true (the limits tests start their own)')

const LIMIT = 20
const GATEWAYS = 4
const BURST = 200
/** Default `fallback.instances` is 4: each gateway admits at most ceil(limit / 4) per key on its own. */
const LOCAL = Math.ceil(LIMIT / 4)
/** The README's bound while Redis is slow or down: what Redis admitted (at most the limit) plus every local share. */
const BOUND = LIMIT + GATEWAYS * LOCAL

let run = 0
const client = (name: string) => `${name}-${process.pid}-${run++}`

// Every assertion is an invariant of the design, never a timing: a burst decided entirely by Redis admits
// exactly the limit; one that the fallback touched (a store error or timeout on a busy machine) stays within the
// documented bound. The fallback count comes from each gateway's /metrics.
describe.skipIf(!haveRedisServer)(
  `rate limits with default settings: ${GATEWAYS} gw start processes on one Redis, bursts of ${BURST} against a limit of ${LIMIT}`,
  () => {
    let rig: LimitsRig

    beforeAll(async () => {
      rig = await startLimitsRig({ gateways: GATEWAYS, limit: LIMIT })
    }, 180_000)

    afterAll(async () => {
      await rig?.close()
    }, 60_000)

    it('healthy Redis on a CPU-starved machine: exactly the limit for every algorithm whenever Redis decided every request, never above the bound', async () => {
      const starved = starveCpu(availableParallelism() * 2)
      const outcomes: string[] = []
      try {
        for (const algorithm of ALGORITHMS) {
          const before = await rig.fallbackDecisions()
          const result = await rig.burst(algorithm, client('healthy'), BURST)
          const fallback = (await rig.fallbackDecisions()) - before
          outcomes.push(`${algorithm}: ${result.admitted} admitted, ${fallback} decided by the fallback`)
          expect(result.other, algorithm).toBe(0)
          expect(result.admitted + result.limited).toBe(BURST)
          if (fallback === 0) expect(result.admitted, algorithm).toBe(LIMIT)
          else expect(result.admitted, algorithm).toBeLessThanOrEqual(BOUND)
        }
      } finally {
        await starved.stop()
        console.info(outcomes.join('\n'))
      }
    }, 180_000)

    it(`slow Redis (every reply 300 ms late, past the 100 ms timeout): at most ${BOUND} for every algorithm`, async () => {
      await rig.proxy.setDelay(300)
      try {
        for (const algorithm of ALGORITHMS) {
          const result = await rig.burst(algorithm, client('slow'), BURST)
          expect(result.other, algorithm).toBe(0)
          expect(result.admitted, algorithm).toBeGreaterThan(0)
          expect(result.admitted, algorithm).toBeLessThanOrEqual(BOUND)
        }
      } finally {
        await rig.proxy.setDelay(0)
      }
    }, 120_000)

    it(`Redis down: each gateway admits its local share, ${GATEWAYS} x ${LOCAL} in all; back up: exact again`, async () => {
      await rig.killRedis()
      try {
        for (const algorithm of ALGORITHMS) {
          const before = await rig.fallbackDecisions()
          const result = await rig.burst(algorithm, client('down'), BURST)
          expect(result.other, algorithm).toBe(0)
          expect(result.admitted, algorithm).toBe(GATEWAYS * LOCAL)
          // Every request was decided locally: this also proves the rig reads the fallback counter it relies on.
          expect((await rig.fallbackDecisions()) - before, algorithm).toBe(BURST)
        }
      } finally {
        await rig.startRedis()
      }
      await rig.settle()
      for (const algorithm of ALGORITHMS) {
        const before = await rig.fallbackDecisions()
        const result = await rig.burst(algorithm, client('back'), BURST)
        const fallback = (await rig.fallbackDecisions()) - before
        if (fallback === 0) expect(result.admitted, algorithm).toBe(LIMIT)
        else expect(result.admitted, algorithm).toBeLessThanOrEqual(BOUND)
      }
    }, 180_000)

    it(`Redis killed and restarted mid-burst (its counters are lost): at most 2 x ${LIMIT} + ${GATEWAYS} x ${LOCAL}`, async () => {
      for (const algorithm of ALGORITHMS) {
        const result = await rig.stream(algorithm, client('restart'), 40, 5, 100, async (wave) => {
          if (wave === 2) await rig.killRedis()
          if (wave === 15) await rig.startRedis()
        })
        expect(result.other, algorithm).toBe(0)
        expect(result.admitted, algorithm).toBeLessThanOrEqual(2 * LIMIT + GATEWAYS * LOCAL)
        await rig.settle()
      }
    }, 240_000)
  },
)
