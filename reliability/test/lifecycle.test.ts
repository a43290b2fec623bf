import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Agent, request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EchoUpstream, startEchoUpstream, startRawServer, waitFor } from './helpers/net.js'
import { freePort } from './helpers/redis.js'

const require = createRequire(import.meta.url)
const GW_BIN = join(dirname(require.resolve('@gw/cli/package.json')), 'dist', 'cli.js')
const BODY_BYTES = 64 * 1024

const dir = mkdtempSync(join(tmpdir(), 'gw-reliability-lifecycle-'))
const children: ChildProcess[] = []
let upstream: EchoUpstream
/** How long the upstream waits before it starts streaming a response. */
let hold = 400

beforeAll(async () => {
  upstream = await startEchoUpstream()
  upstream.respond = (_req, res, recorded) => {
    setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'x-path': recorded.url })
      let sent = 0
      const chunk = Buffer.alloc(8 * 1024, 120)
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer)
        res.write(chunk)
        sent += chunk.length
        if (sent >= BODY_BYTES) {
          clearInterval(timer)
          res.end()
        }
      }, 10)
    }, hold)
  }
})

afterAll(async () => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  await upstream?.close()
  rmSync(dir, { recursive: true, force: true })
})

function writeConfig(name: string, routes: string): string {
  const file = join(dir, name)
  writeFileSync(
    file,
    `server:\n  host: 127.0.0.1\n  drainTimeout: 20s\nupstreams:\n  up:\n    url: ${upstream.url}\nroutes:\n${routes}`,
  )
  return file
}

/** Starts `gw start` and resolves once `listening` lines for `workers` processes were printed. */
async function startGw(file: string, port: number, extra: string[] = [], workers = 1) {
  const child = spawn(process.execPath, [GW_BIN, 'start', file, '--port', String(port), ...extra], {
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  children.push(child)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const listening = () => stderr.match(/gw: listening on/g)?.length ?? 0
  const ok = await waitFor(() => listening() >= workers || child.exitCode !== null, 20_000, 50)
  if (!ok || child.exitCode !== null) throw new Error(`gw start did not come up: ${stderr}`)
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    workerPids: () => [...stderr.matchAll(/worker (\d+)\)/g)].map((m) => Number(m[1])),
  }
}

interface Outcome {
  status: number
  bytes: number
  error?: string
}

async function get(url: string, dispatcher: Agent): Promise<Outcome> {
  try {
    const res = await request(url, { dispatcher, headersTimeout: 30_000, bodyTimeout: 30_000 })
    let bytes = 0
    for await (const chunk of res.body) bytes += (chunk as Buffer).length
    return { status: res.statusCode, bytes }
  } catch (error) {
    return { status: 0, bytes: 0, error: (error as Error).message }
  }
}

describe('lifecycle of a `gw start` process under load', () => {
  it('SIGTERM under load: every request that started before the signal gets its full response; exit 0', async () => {
    const gw = await startGw(
      writeConfig('sigterm.yaml', '  - path: /*\n    upstream: up\n'),
      await freePort(),
    )
    const agent = new Agent({ connections: 64 })
    try {
      hold = 400
      const before = upstream.requests.length
      const inflight = Array.from({ length: 40 }, (_v, i) => get(`${gw.url}/drain/${i}`, agent))
      expect(await waitFor(() => upstream.requests.length - before === 40, 10_000)).toBe(true)
      const exited = once(gw.child, 'exit')
      gw.child.kill('SIGTERM')
      const outcomes = await Promise.all(inflight)
      const [code] = await exited
      expect(outcomes.filter((o) => o.status !== 200 || o.bytes !== BODY_BYTES)).toEqual([])
      expect(code).toBe(0)
    } finally {
      await agent.close()
    }
  })

  it('SIGTERM with an open WebSocket and idle keep-alive connections: the process still exits (0) after draining', async () => {
    const ws = await startRawServer((conn) => {
      if (conn.text().includes('\r\n\r\n') && conn.received.length === 1)
        conn.socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n',
        )
    })
    const file = join(dir, 'ws.yaml')
    writeFileSync(
      file,
      `server:\n  host: 127.0.0.1\n  drainTimeout: 1s\nupstreams:\n  ws:\n    url: ${ws.url}\n  up:\n    url: ${upstream.url}\nroutes:\n  - path: /ws\n    upstream: ws\n  - path: /*\n    upstream: up\n`,
    )
    const gw = await startGw(file, await freePort())
    const sockets: Socket[] = []
    try {
      const upgrade = connect(Number(new URL(gw.url).port), '127.0.0.1')
      sockets.push(upgrade)
      upgrade.on('error', () => {})
      let head = ''
      upgrade.on('data', (chunk: Buffer) => {
        head += chunk.toString('latin1')
      })
      await once(upgrade, 'connect')
      upgrade.write(
        'GET /ws HTTP/1.1\r\nHost: gw.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n',
      )
      expect(await waitFor(() => head.startsWith('HTTP/1.1 101'), 10_000)).toBe(true)
      hold = 10
      for (let i = 0; i < 5; i++) {
        const idle = connect(Number(new URL(gw.url).port), '127.0.0.1')
        sockets.push(idle)
        idle.on('error', () => {})
        await once(idle, 'connect')
        idle.write('GET /idle HTTP/1.1\r\nHost: gw.test\r\n\r\n')
      }
      const exited = once(gw.child, 'exit')
      gw.child.kill('SIGTERM')
      const result = await Promise.race([
        exited,
        new Promise((r) => setTimeout(() => r('still running'), 20_000)),
      ])
      expect(result).toEqual([0, null])
    } finally {
      for (const socket of sockets) socket.destroy()
      await ws.close()
    }
  })

  it('config reload (SIGHUP) under load: no request lost, new routes apply to new requests', async () => {
    const file = writeConfig('reload.yaml', '  - path: /old/*\n    upstream: up\n')
    const gw = await startGw(file, await freePort())
    const agent = new Agent({ connections: 32 })
    try {
      hold = 50
      const outcomes: Outcome[] = []
      let reloaded = false
      for (let batch = 0; batch < 8; batch++) {
        const wave = Array.from({ length: 10 }, (_v, i) => get(`${gw.url}/old/${batch}-${i}`, agent))
        if (batch === 3) {
          writeConfig(
            'reload.yaml',
            '  - path: /old/*\n    upstream: up\n  - path: /new/*\n    upstream: up\n',
          )
          gw.child.kill('SIGHUP')
          reloaded = true
        }
        outcomes.push(...(await Promise.all(wave)))
      }
      expect(reloaded).toBe(true)
      expect(outcomes.filter((o) => o.status !== 200 || o.bytes !== BODY_BYTES)).toEqual([])
      let fresh: Outcome = { status: 0, bytes: 0 }
      for (let i = 0; i < 50 && fresh.status !== 200; i++) {
        fresh = await get(`${gw.url}/new/x`, agent)
        if (fresh.status !== 200) await new Promise((r) => setTimeout(r, 100))
      }
      expect(fresh.status).toBe(200)
    } finally {
      await agent.close()
      gw.child.kill('SIGTERM')
      await once(gw.child, 'exit')
    }
  })

  it('cluster mode: a crashed worker is replaced and the listener keeps serving', async () => {
    const gw = await startGw(
      writeConfig('cluster.yaml', '  - path: /*\n    upstream: up\n'),
      await freePort(),
      ['--workers', '2'],
      2,
    )
    const agent = new Agent({ connections: 8, pipelining: 0 })
    try {
      hold = 10
      const [victim] = gw.workerPids()
      expect(victim).toBeGreaterThan(0)
      process.kill(victim!, 'SIGKILL')
      const replaced = await waitFor(
        () => gw.workerPids().filter((pid) => pid !== victim).length >= 2,
        20_000,
        100,
      )
      expect(replaced, gw.stderr()).toBe(true)
      const outcomes: Outcome[] = []
      for (let batch = 0; batch < 5; batch++)
        outcomes.push(
          ...(await Promise.all(
            Array.from({ length: 8 }, (_v, i) => get(`${gw.url}/c/${batch}-${i}`, agent)),
          )),
        )
      expect(outcomes.filter((o) => o.status !== 200 || o.bytes !== BODY_BYTES)).toEqual([])
    } finally {
      await agent.close()
      gw.child.kill('SIGTERM')
      await once(gw.child, 'exit')
    }
  })
})
