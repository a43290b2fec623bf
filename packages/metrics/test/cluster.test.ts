import cluster, { type Worker } from 'node:cluster'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { createPrometheusTelemetry, reportToClusterPrimary, startClusterMetricsServer } from '../src/index.js'
import { sampleValue } from './helpers.js'

const workers: Worker[] = []
afterAll(async () => {
  await Promise.all(
    workers.map(async (worker) => {
      if (worker.isDead()) return
      const exited = once(worker, 'exit')
      worker.kill()
      await exited
    }),
  )
})

describe('node:cluster aggregation', () => {
  it('sums the series of every worker on the primary listener', async () => {
    cluster.setupPrimary({
      exec: fileURLToPath(new URL('./fixtures/cluster-worker.mjs', import.meta.url)),
      silent: true,
    })
    for (const n of [2, 3]) {
      const worker = cluster.fork({ GW_TEST_REQUESTS: String(n) })
      workers.push(worker)
      await once(worker, 'message')
    }
    const server = await startClusterMetricsServer({ port: 0, host: '127.0.0.1' })
    try {
      const res = await fetch(server.url + '/metrics')
      expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
      const text = await res.text()
      expect(sampleValue(text, 'gw_http_requests_total', { route: 'users' })).toBe(5)
      expect(
        sampleValue(text, 'gw_http_request_duration_seconds_bucket', { route: 'users', le: '0.1' }),
      ).toBe(5)
      expect(sampleValue(text, 'gw_http_request_duration_seconds_count', { route: 'users' })).toBe(5)
    } finally {
      await server.close()
    }
  })

  it('reportToClusterPrimary is a no-op outside a worker', () => {
    expect(cluster.isWorker).toBe(false)
    expect(() => reportToClusterPrimary(createPrometheusTelemetry({ defaultMetrics: false }))).not.toThrow()
  })
})
