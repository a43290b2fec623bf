import { execFileSync } from 'node:child_process'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCluster } from './helpers/cluster.js'
import { buildGatewayFixture, burst, type GatewayProcess, startGatewayProcess } from './helpers/processes.js'
import { testPrefix } from './helpers/redis.js'

const PORTS = [7201, 7202, 7203]
const LIMIT = 40
const BURST = 200

function hasRedisServer(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'pipe' })
    return true
  } catch (error) {
    if (process.env.CI === 'true') throw new Error('redis-server is required under CI=true', { cause: error })
    return false
  }
}

describe.skipIf(!hasRedisServer())(
  '4 gateway processes on a 3-node Redis Cluster: admitted == limit exactly',
  () => {
    let cluster: { stop(): Promise<void> } | undefined
    let upstream: FakeUpstream
    let gateways: GatewayProcess[] = []
    let urls: string[]

    beforeAll(async () => {
      cluster = await startCluster(PORTS)
      upstream = await startFakeUpstream((_req, res) => {
        res.end('ok')
      })
      const script = buildGatewayFixture()
      const env = {
        UPSTREAM: upstream.url,
        REDIS_NODES: PORTS.map((p) => `127.0.0.1:${p}`).join(','),
        REDIS_CLUSTER: '1',
        PREFIX: testPrefix(),
        LIMIT: String(LIMIT),
      }
      gateways = await Promise.all([0, 1, 2, 3].map(() => startGatewayProcess(script, env)))
      urls = gateways.map((g) => g.url)
    }, 120_000)

    afterAll(async () => {
      await Promise.all(gateways.map((g) => g.stop()))
      await upstream?.close()
      await cluster?.stop()
    })

    for (const path of ['fw', 'tb', 'gcra']) {
      it(`${path}: ${BURST} concurrent requests admit exactly ${LIMIT}`, async () => {
        expect(await burst(urls, `/${path}/x`, BURST)).toEqual({
          admitted: LIMIT,
          limited: BURST - LIMIT,
          other: 0,
          otherStatuses: [],
        })
      })
    }

    it('two limits with different keys share one slot through the policy hash tag', async () => {
      const [a, b] = await Promise.all([
        burst(urls, '/multi/x', BURST / 2, { 'x-client': 'a' }),
        burst(urls, '/multi/x', BURST / 2, { 'x-client': 'b' }),
      ])
      expect(a.admitted + b.admitted).toBe(LIMIT)
      expect(a.other + b.other).toBe(0)
    })
  },
)
