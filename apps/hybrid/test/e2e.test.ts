import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import {
  answerPath,
  eventually,
  type FakeUpstream,
  jsonLines,
  LogCapture,
  requireRedis,
  startFakeUpstream,
} from '@gw/core/testing'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_API_KEY, type Env } from '../src/edge.js'
import { type EdgeReplica, forkEdgeReplica } from '../src/replicas.js'
import { type ServiceTier, startServiceTier } from '../src/service-tier.js'
import { get, type Reply } from './helpers/http.js'

const REDIS_HOST = '127.0.0.1'
const REDIS_PORT = 6379
// The built replica entry: `turbo run test` builds first; run `pnpm build` before a bare `vitest`.
const EDGE_MAIN = fileURLToPath(new URL('../dist/edge-main.js', import.meta.url))
const KEY = { 'x-api-key': DEMO_API_KEY }

/** Under CI=true a missing Redis fails the suite instead of skipping it. */
const available = await requireRedis({ host: REDIS_HOST, port: REDIS_PORT })

/** Two replicas sharing `prefix` in Redis, forked from dist/edge-main.js with a minimal environment. */
async function replicas(
  tier: ServiceTier,
  prefix: string,
  extra: Env = {},
): Promise<[EdgeReplica, EdgeReplica]> {
  const env: Env = {
    PATH: process.env.PATH,
    ...tier.edgeEnv,
    PORT: '0',
    HOST: '127.0.0.1',
    PROMETHEUS_PORT: '0',
    LOG_LEVEL: 'info',
    REDIS_HOST,
    REDIS_PORT: String(REDIS_PORT),
    REDIS_KEY_PREFIX: prefix,
    RATE_LIMIT_MAX_REQUESTS: '100000',
    ...extra,
  }
  return Promise.all([
    forkEdgeReplica({ name: 'a', env, entry: EDGE_MAIN }),
    forkEdgeReplica({ name: 'b', env, entry: EDGE_MAIN }),
  ])
}

describe.skipIf(!available)(
  'hybrid: two edge replicas (processes) sharing Redis -> sidecars -> services',
  () => {
    const runId = randomUUID()
    const prefixes = [`gw-hybrid-e2e-${runId}:`, `gw-hybrid-e2e-${runId}-limit:`]
    const sidecarLogs = new LogCapture()
    let users: FakeUpstream
    let tier: ServiceTier
    let edges: EdgeReplica[] = []
    let a: EdgeReplica
    let b: EdgeReplica

    beforeAll(async () => {
      expect(existsSync(EDGE_MAIN), `${EDGE_MAIN} is missing: pnpm --filter @gw/app-hybrid build`).toBe(true)
      users = await startFakeUpstream(answerPath)
      tier = await startServiceTier({
        env: { LOG_LEVEL: 'info', USERS_SERVICE_URL: users.url },
        logDestination: sidecarLogs,
      })
      ;[a, b] = await replicas(tier, prefixes[0] as string)
      edges = [a, b]
    })

    afterAll(async () => {
      await Promise.allSettled(edges.map((edge) => edge.stop(5000)))
      await tier?.close()
      await users?.close()
      const admin = new Redis({ host: REDIS_HOST, port: REDIS_PORT })
      for (const prefix of prefixes) {
        const keys = await admin.keys(`${prefix}*`)
        if (keys.length > 0) await admin.del(...keys)
      }
      await admin.quit()
    })

    it('a request crosses edge -> sidecar -> service with the trace id the client sent', async () => {
      const traceId = randomUUID().replaceAll('-', '')
      const res = await get(`${a.url}/api/users/1`, {
        ...KEY,
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
        'user-agent': 'hybrid-e2e',
      })
      expect(res.status).toBe(200)
      expect(res.headers['x-trace-id']).toBe(traceId)
      expect(res.headers.via).toBe('1.1 gw-sidecar, 1.1 gw-edge')

      const seen = users.requests.find((s) => String(s.headers.traceparent).includes(traceId))
      expect(seen?.url).toBe('/users/1')
      const [, seenTrace, seenSpan] = String(seen?.headers.traceparent).split('-')
      expect(seenTrace).toBe(traceId)
      expect(seenSpan).not.toBe('00f067aa0ba902b7')
      expect(seen?.headers['x-api-key']).toBeUndefined()

      const edgeLine = await eventually('the edge access-log line', () =>
        jsonLines(a.output()).find((l) => l.msg === 'request completed' && l.traceId === traceId),
      )
      expect(edgeLine).toMatchObject({ name: 'gw-edge-a', path: '/api/users/1', route: 'users', status: 200 })
      const sidecarLine = sidecarLogs.withMessage('request completed').find((l) => l.traceId === traceId)
      expect(sidecarLine).toMatchObject({ name: 'gw-sidecar-users', path: '/users/1', status: 200 })
      expect(sidecarLine?.spanId).not.toBe(edgeLine.spanId)
    })

    it('without a traceparent the edge starts the trace, and the sidecar and service continue it', async () => {
      const res = await get(`${b.url}/api/users/2`, KEY)
      expect(res.status).toBe(200)
      const traceId = res.headers['x-trace-id'] as string
      expect(traceId).toMatch(/^[0-9a-f]{32}$/)
      expect(
        users.requests.filter((s) => String(s.headers.traceparent).split('-')[1] === traceId),
      ).toHaveLength(1)
      expect(sidecarLogs.withMessage('request completed').filter((l) => l.traceId === traceId)).toHaveLength(
        1,
      )
      await eventually('the edge access-log line', () =>
        jsonLines(b.output()).find((l) => l.msg === 'request completed' && l.traceId === traceId),
      )
    })

    it('the edge authenticates: no key is a 401 problem that never reaches the sidecar', async () => {
      const before = sidecarLogs.withMessage('request completed').length
      const res = await get(`${a.url}/api/users/1`)
      expect(res.status).toBe(401)
      expect(res.headers['content-type']).toBe('application/problem+json')
      expect(res.headers['x-frame-options']).toBe('DENY')
      expect(sidecarLogs.withMessage('request completed').length).toBe(before)
    })

    it('a global rate limit holds exactly across both replicas (20 per window, 40 requests alternating)', async () => {
      const [c, d] = await replicas(tier, prefixes[1] as string, {
        RATE_LIMIT_MAX_REQUESTS: '20',
        RATE_LIMIT_WINDOW_MS: '3600000',
        // Token bucket: 20 at once, then one token per 3 minutes: no window boundary can fall inside the test.
        RATE_LIMIT_ALGORITHM: 'token-bucket',
      })
      edges.push(c, d)
      const replies: { edge: string; reply: Reply }[] = []
      for (let i = 0; i < 40; i++) {
        const edge = i % 2 === 0 ? c : d
        replies.push({ edge: edge.name, reply: await get(`${edge.url}/api/users/1`, KEY) })
      }
      const allowed = replies.filter((r) => r.reply.status === 200)
      const limited = replies.filter((r) => r.reply.status === 429)
      expect(allowed).toHaveLength(20)
      expect(limited).toHaveLength(20)
      expect(new Set(allowed.map((r) => r.edge))).toEqual(new Set(['a', 'b']))
      expect(replies.slice(0, 20).every((r) => r.reply.status === 200)).toBe(true)
      const denied = limited[0]?.reply
      expect(denied?.headers['content-type']).toBe('application/problem+json')
      expect(Number(denied?.headers['retry-after'])).toBeGreaterThan(0)
      expect(denied?.headers.ratelimit).toMatch(/^"edge-per-ip";r=0;t=\d+$/)
      await Promise.all([c.stop(5000), d.stop(5000)])
    })

    it('the shared cache: a product response cached via edge a is a hit via edge b', async () => {
      // Behind a load balancer both replicas see the same public Host (part of the cache key).
      const headers = { ...KEY, host: `shop-${runId}.example` }
      const first = await get(`${a.url}/api/products/1`, headers)
      expect(first.status).toBe(200)
      expect(first.headers['cache-status']).toMatch(/fwd=uri-miss.*stored/)
      const second = await get(`${b.url}/api/products/1`, headers)
      expect(second.status).toBe(200)
      expect(second.headers['cache-status']).toMatch(/^gw; hit/)
      expect(JSON.parse(second.body)).toEqual(JSON.parse(first.body))
    })

    it('killing one replica (SIGKILL) loses no request of a client that retries on the other', async () => {
      const targets = [a, b]
      const total = 40
      let next = 0
      let done = 0
      let failovers = 0
      let killed: Promise<void> | undefined
      const statuses: number[] = []
      // The retrying client: on a connection error, try the other replica (bounded attempts).
      const call = async (first: number): Promise<number> => {
        let lastError: unknown
        for (let attempt = 0; attempt < 4; attempt++) {
          const edge = targets[(first + attempt) % 2] as EdgeReplica
          try {
            return (await get(`${edge.url}/api/users/3`, KEY)).status
          } catch (error) {
            lastError = error
            failovers++
          }
        }
        throw lastError
      }
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < total) {
            const i = next++
            statuses[i] = await call(i % 2)
            done++
            if (done === 10 && killed === undefined) {
              a.process.kill('SIGKILL')
              killed = new Promise((resolve) => a.process.once('exit', () => resolve()))
            }
          }
        }),
      )
      await killed
      expect(a.process.signalCode).toBe('SIGKILL')
      expect(statuses).toHaveLength(total)
      expect(statuses.every((s) => s === 200)).toBe(true)
      expect(failovers).toBeGreaterThanOrEqual(5)
      expect((await get(`${b.url}/api/users/3`, KEY)).status).toBe(200)
    })
  },
)
