import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGateway, type Gateway } from '@gw/core'
import { type FakeUpstream, freePort, startFakeUpstream } from '@gw/core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPrometheusTelemetry, type MetricsServer, metrics, startMetricsServer } from '../src/index.js'

const hasPrometheus = spawnSync('prometheus', ['--version']).status === 0
const required = process.env.CI === 'true' || hasPrometheus

interface QueryResult {
  data: { result: { metric: Record<string, string>; value: [number, string] }[] }
}

describe.skipIf(!required)('a real Prometheus server scrapes the gateway', () => {
  let upstream: FakeUpstream
  let gw: Gateway
  let exporter: MetricsServer
  let prometheus: ChildProcess
  let dir: string
  let api: string
  const accepts: (string | undefined)[] = []
  let stderr = ''

  beforeAll(async () => {
    upstream = await startFakeUpstream()
    const telemetry = createPrometheusTelemetry()
    gw = await createGateway({
      server: { host: '127.0.0.1', port: 0 },
      telemetry,
      upstreams: { users: { url: upstream.url } },
      policies: [metrics({ exposition: 'none' })],
      routes: [{ id: 'users', path: '/api/users/*', upstream: 'users' }],
    })
    await gw.listen()
    exporter = await startMetricsServer(telemetry, { port: 0, host: '127.0.0.1' })
    exporter.server.on('request', (req) => accepts.push(req.headers.accept))
    for (let i = 0; i < 3; i++) await (await fetch(`${gw.url}/api/users/${i}`)).arrayBuffer()

    dir = mkdtempSync(join(tmpdir(), 'gw-metrics-prom-'))
    const config = join(dir, 'prometheus.yml')
    writeFileSync(
      config,
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 900ms',
        'scrape_configs:',
        '  - job_name: gw',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${exporter.address.port}']`,
        '',
      ].join('\n'),
    )
    const port = await freePort()
    api = `http://127.0.0.1:${port}`
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    prometheus.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
  })

  afterAll(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus.once('exit', resolve))
      prometheus.kill('SIGTERM')
      await exited
    }
    await exporter?.close()
    await gw?.close()
    await upstream?.close()
    if (dir) rmSync(dir, { recursive: true, force: true })
  })

  async function query(promql: string): Promise<QueryResult['data']['result']> {
    try {
      const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`)
      if (!res.ok) return []
      return ((await res.json()) as QueryResult).data.result
    } catch {
      return []
    }
  }

  it('ingests gw_http_requests_total with bounded labels and the duration histogram', async () => {
    let result: Awaited<ReturnType<typeof query>> = []
    for (let i = 0; i < 150 && result.length === 0; i++) {
      if (prometheus.exitCode !== null) throw new Error(`prometheus exited: ${stderr}`)
      result = await query('gw_http_requests_total{route="users"}')
      if (result.length === 0) await new Promise((r) => setTimeout(r, 100))
    }
    expect(result).toHaveLength(1)
    expect(result[0]!.metric).toMatchObject({
      job: 'gw',
      route: 'users',
      method: 'GET',
      status_class: '2xx',
      upstream: 'users',
    })
    expect(result[0]!.value[1]).toBe('3')
    const count = await query('sum(gw_http_request_duration_seconds_count{route="users"})')
    expect(count[0]?.value[1]).toBe('3')
    const up = await query('up{job="gw"}')
    expect(up[0]?.value[1]).toBe('1')
    const lag = await query('nodejs_eventloop_lag_seconds{job="gw"}')
    expect(lag).toHaveLength(1)
    expect(accepts.some((a) => a?.startsWith('application/openmetrics-text'))).toBe(true)
  })
})
