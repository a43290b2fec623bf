import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { answerPath, type FakeUpstream, freePort, startFakeUpstream, waitForOutput } from '@gw/core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { SIDECAR_ENV_VARS } from '../src/env.js'

// The built entry: `turbo run test` builds first; run `pnpm build` before a bare `vitest`.
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))

let child: ChildProcess | undefined
let svc: FakeUpstream | undefined

afterEach(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  child = undefined
  await svc?.close()
  svc = undefined
})

/** process.env without any variable the sidecar reads, plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  for (const name of Object.keys(SIDECAR_ENV_VARS)) delete env[name]
  return { ...env, ...extra }
}

function start(env: NodeJS.ProcessEnv): { proc: ChildProcess; out: () => string } {
  const proc = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  child = proc
  let out = ''
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
  })
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk
  })
  return { proc, out: () => out }
}

describe('node dist/main.js', () => {
  it('starts from environment variables, logs JSON access lines, and exits 0 on SIGTERM', async () => {
    expect(existsSync(MAIN), `${MAIN} is missing: pnpm --filter @gw/app-sidecar build`).toBe(true)
    svc = await startFakeUpstream(answerPath)
    const metricsPort = await freePort()
    const { proc, out } = start(
      cleanEnv({
        SERVICE_URL: svc.url,
        SERVICE_NAME: 'orders',
        AUTH: 'none',
        PORT: '0',
        HOST: '127.0.0.1',
        PROMETHEUS_PORT: String(metricsPort),
      }),
    )
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once('exit', (code, signal) => resolve({ code, signal })),
    )
    const [, base] = await waitForOutput(
      proc,
      /gw sidecar listening on (http:\/\/127\.0\.0\.1:\d+) -> orders/,
      out,
    )
    expect(out()).toContain(`-> orders at ${svc.url}`)
    const res = await fetch(`${base}/orders/1`, {
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    })
    expect(res.status).toBe(200)
    expect((await fetch(`${base}/health`)).status).toBe(200)
    const scrape = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text()
    expect(scrape).toContain(
      'gw_http_requests_total{route="orders",method="GET",status_class="2xx",upstream="orders"} 1',
    )

    proc.kill('SIGTERM')
    expect(await exited).toEqual({ code: 0, signal: null })
    const access = out()
      .split('\n')
      .filter((line) => line.includes('"msg":"request completed"'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(access).toEqual([
      expect.objectContaining({
        path: '/orders/1',
        status: 200,
        traceId: '0af7651916cd43dd8448eb211c80319c',
      }),
    ])
    expect(out()).toMatch(/"msg":"gateway stopped"/)
  })

  it('refuses to start, exit code 1, naming each bad variable', async () => {
    const { proc, out } = start(
      cleanEnv({ PORT: 'eighty', JWT_SECRET: 'too-short', RATE_LIMIT_WINDOW_MS: '1m', PROMETHEUS_PORT: '0' }),
    )
    const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)))
    expect(code).toBe(1)
    expect(out()).toContain('gw sidecar refused to start: invalid environment:')
    expect(out()).toContain('PORT: must be a whole number')
    expect(out()).toContain('JWT_SECRET: must be at least 32 bytes')
    expect(out()).toContain('RATE_LIMIT_WINDOW_MS: must be a whole number')
    expect(out()).not.toMatch(/\n\s+at /)
  })

  it('refuses to start without inbound authentication unless AUTH=none', async () => {
    const { proc, out } = start(cleanEnv({ PORT: '0', PROMETHEUS_PORT: '0' }))
    const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)))
    expect(code).toBe(1)
    expect(out()).toContain('AUTH: no inbound authentication configured')
  })
})
