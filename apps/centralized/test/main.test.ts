import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { waitForOutput } from '@gw/core/testing'
import { afterEach, describe, expect, it } from 'vitest'

// The built entry: `turbo run test` builds first (test depends on build); run `pnpm build` before a bare `vitest`.
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))

let child: ChildProcess | undefined

afterEach(() => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  child = undefined
})

describe('node dist/main.js', () => {
  it('prints where it listens, serves traffic and exits 0 on SIGTERM', async () => {
    expect(
      existsSync(MAIN),
      `${MAIN} is missing: build the app first (pnpm --filter @gw/app-centralized build)`,
    ).toBe(true)
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      PROMETHEUS_PORT: '0',
    }
    for (const name of [
      'USERS_SERVICE_URL',
      'PRODUCTS_SERVICE_URL',
      'ORDERS_SERVICE_URL',
      'API_KEY_HEADER',
      'JWT_SECRET',
      'REDIS_HOST',
      'METRICS_ENABLED',
    ]) {
      delete env[name]
    }
    const proc = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    let stdout = ''
    let stderr = ''
    proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    )

    const [, base] = await waitForOutput(
      proc,
      /listening on (http:\/\/127\.0\.0\.1:\d+)/,
      () => stdout + stderr,
    )
    expect(stdout).toContain('demo key: gw_demo_centralized_key')
    expect(stdout).toContain(`curl -H 'x-api-key: gw_demo_centralized_key' ${base}/api/products`)
    expect(stdout).toContain(`curl -i ${base}/api/products`)
    expect(stdout).toMatch(/users\s+http:\/\/127\.0\.0\.1:\d+\s+\(bundled demo service\)/)
    expect(stdout).toMatch(/orders\s+http:\/\/127\.0\.0\.1:\d+\s+\(bundled demo service\)/)
    // pino JSON lines go to stdout too
    expect(stdout).toMatch(/"msg":"gateway listening"/)
    const [, metricsUrl] =
      /"url":"(http:\/\/[^"]+\/metrics)","msg":"metrics listener started"/.exec(stdout) ?? []
    expect(metricsUrl).toBeDefined()

    const health = await fetch(`${base}/health`)
    expect(health.status).toBe(200)
    expect(await health.json()).toMatchObject({ status: 'healthy' })
    expect((await fetch(`${base}/api/products/1`)).status).toBe(401)
    const products = await fetch(`${base}/api/products/1`, {
      headers: { 'x-api-key': 'gw_demo_centralized_key' },
    })
    expect(products.status).toBe(200)
    expect(await products.json()).toMatchObject({ id: 1 })
    const scrape = await fetch(metricsUrl!.replace('0.0.0.0', '127.0.0.1'))
    expect(await scrape.text()).toMatch(
      /gw_http_requests_total\{route="products",method="GET",status_class="2xx"/,
    )

    proc.kill('SIGTERM')
    const { code, signal } = await exited
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' })
    expect(stdout).toMatch(/"msg":"shutting down gracefully"/)
    expect(stdout).toMatch(/"msg":"gateway stopped"/)
  })

  it('exits 1 with a readable message when the configuration is invalid', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PORT: 'not-a-port',
      LOG_LEVEL: 'silent',
      PROMETHEUS_PORT: '0',
    }
    const proc = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    child = proc
    let stderr = ''
    proc.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)))
    expect(code).toBe(1)
    expect(stderr).toContain('failed to start')
    expect(stderr).toContain('server.port')
  })
})
