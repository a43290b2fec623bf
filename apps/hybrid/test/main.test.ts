import { type ChildProcess, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { eventually, requireRedis } from '@gw/core/testing'
import { Redis } from 'ioredis'
import { afterEach, describe, expect, it } from 'vitest'
import { DEMO_API_KEY } from '../src/edge.js'
import { get } from './helpers/http.js'

const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))
const available = await requireRedis({ host: '127.0.0.1', port: 6379 })
const prefix = `gw-hybrid-main-${randomUUID()}:`

let child: ChildProcess | undefined
const edgePids: number[] = []

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

afterEach(async () => {
  if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  child = undefined
  for (const pid of edgePids.splice(0)) if (alive(pid)) process.kill(pid, 'SIGKILL')
  const admin = new Redis({ host: '127.0.0.1', port: 6379 })
  const keys = await admin.keys(`${prefix}*`)
  if (keys.length > 0) await admin.del(...keys)
  await admin.quit()
})

function start(): { proc: ChildProcess; out: () => string } {
  const proc = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      EDGE_PORTS: '0,0',
      EDGE_METRICS_PORTS: '0,0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      REDIS_KEY_PREFIX: prefix,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
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

async function topology(out: () => string): Promise<{ urls: string[]; pids: number[] }> {
  await eventually(
    'the topology banner',
    () => (out().includes('Press Ctrl+C to stop.') ? true : undefined),
    20_000,
  )
  const edges = [...out().matchAll(/edge ([ab])\s+(http:\/\/127\.0\.0\.1:\d+)\s+\(pid (\d+)\)/g)]
  expect(edges.map((m) => m[1])).toEqual(['a', 'b'])
  const pids = edges.map((m) => Number(m[3]))
  edgePids.push(...pids)
  return { urls: edges.map((m) => m[2] as string), pids }
}

describe.skipIf(!available)('node dist/main.js (the whole topology in one command)', () => {
  it('prints both edge URLs, serves through each, and SIGTERM stops every process', async () => {
    expect(existsSync(MAIN), `${MAIN} is missing: pnpm --filter @gw/app-hybrid build`).toBe(true)
    const { proc, out } = start()
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)))
    const { urls, pids } = await topology(out)
    expect(out()).toMatch(/users\s+sidecar http:\/\/127\.0\.0\.1:\d+ -> service http:\/\/127\.0\.0\.1:\d+/)
    for (const url of urls) {
      const res = await get(`${url}/api/orders/1`, { 'x-api-key': DEMO_API_KEY })
      expect(res.status).toBe(200)
      expect(JSON.parse(res.body)).toMatchObject({ id: 1 })
    }
    proc.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(pids.filter(alive)).toEqual([])
  })

  it('when the parent is SIGKILLed, the edge replicas notice and exit on their own', async () => {
    const { proc, out } = start()
    const { pids } = await topology(out)
    proc.kill('SIGKILL')
    await eventually('the replicas to exit', () => (pids.some(alive) ? undefined : true), 15_000)
  })
})
