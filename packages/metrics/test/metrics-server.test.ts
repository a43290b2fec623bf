import { request } from 'node:http'
import { createRecordingLogger } from '@gw/core/testing'
import { Gauge } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { createPrometheusTelemetry, startMetricsServer } from '../src/index.js'

function head(url: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'HEAD' }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString()
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('metrics listener', () => {
  it('answers HEAD with the headers and no body, ignoring the query string', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    const server = await startMetricsServer(telemetry, { port: 0, host: '127.0.0.1' })
    try {
      const res = await head(server.url + '/metrics?debug=1')
      expect(res.status).toBe(200)
      expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8')
      expect(Number(res.headers['content-length'])).toBeGreaterThan(0)
      expect(res.headers['cache-control']).toBe('no-store')
      expect(res.body).toBe('')
    } finally {
      await server.close()
    }
  })

  it('turns a failing collector into a coded 500 without internals, and logs it', async () => {
    const telemetry = createPrometheusTelemetry({ defaultMetrics: false })
    new Gauge({
      name: 'app_broken',
      help: 'A collector that fails.',
      registers: [telemetry.registry],
      collect() {
        throw new Error('secret internal detail')
      },
    })
    const log = createRecordingLogger()
    const server = await startMetricsServer(telemetry, { port: 0, host: '127.0.0.1', path: '/prom', log })
    try {
      const res = await fetch(server.url + '/prom')
      expect(res.status).toBe(500)
      const body = await res.text()
      expect(body).toBe('GW_ERR_METRICS_SCRAPE: metrics collection failed\n')
      expect(log.entries.find((r) => r.msg === 'metrics collection failed')?.fields.code).toBe(
        'GW_ERR_METRICS_SCRAPE',
      )
    } finally {
      await server.close()
    }
  })
})
