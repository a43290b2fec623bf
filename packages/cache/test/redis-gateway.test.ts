import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGateway, type Gateway } from '@gw/core'
import { type FakeUpstream, startFakeUpstream } from '@gw/core/testing'
import { Redis } from 'ioredis'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { cache } from '../src/index.js'
import { cleanPrefix, connectRedis, uniquePrefix } from './redis-helpers.js'

let redis: Redis
const prefix = uniquePrefix()
const running: { close(): Promise<void> }[] = []

beforeAll(async () => {
  redis = await connectRedis()
})
afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.close()
})
afterAll(async () => {
  await cleanPrefix(redis, prefix)
  redis.disconnect()
})

function get(url: string, host: string): Promise<{ body: Buffer; headers: IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { host } }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () => resolve({ body: Buffer.concat(chunks), headers: res.headers }))
    })
    req.on('error', reject)
    req.end()
  })
}

async function gateway(upstream: FakeUpstream, client: Redis, store: 'redis' | 'tiered'): Promise<Gateway> {
  const gw = await createGateway({
    upstreams: { up: { url: upstream.url } },
    resources: { redis: client },
    routes: [{ path: '/*', upstream: 'up', policies: [cache({ store, redis: { prefix, timeout: 500 } })] }],
  })
  await gw.listen({ port: 0, host: '127.0.0.1' })
  running.push(gw)
  return gw
}

describe('redis store through real gateways', () => {
  it('shares binary responses between two gateways', async () => {
    const payload = Buffer.from([0, 255, 1, 254, 10, 13, 0x7b])
    const upstream = await startFakeUpstream((_req, res) => {
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': payload.length,
        'cache-control': 'max-age=60',
      })
      res.end(payload)
    })
    running.push(upstream)
    const a = await gateway(upstream, redis, 'redis')
    const b = await gateway(upstream, redis, 'tiered')
    const host = 'shared.test'
    const first = await get(`${a.url}/bin`, host)
    expect(first.body.equals(payload)).toBe(true)
    const key = `${prefix}e:{shared.test/bin}`
    for (let i = 0; i < 500 && (await redis.exists(key)) === 0; i++)
      await new Promise((r) => setTimeout(r, 10))
    const fromB = await get(`${b.url}/bin`, host)
    expect(fromB.body.equals(payload)).toBe(true)
    expect(fromB.headers['cache-status']).toContain('hit')
    expect(upstream.requests).toHaveLength(1)
  })
})

describe('redis killed', () => {
  const port = 7391
  let server: ChildProcess | undefined
  let dir: string

  afterAll(() => {
    if (server && server.exitCode === null) server.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  })

  it('keeps serving from the upstream without errors when Redis dies', async () => {
    dir = mkdtempSync(join(tmpdir(), 'gw-cache-redis-'))
    server = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      { stdio: 'ignore' },
    )
    const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, lazyConnect: true })
    client.on('error', () => {})
    for (let i = 0; i < 50; i++) {
      try {
        await client.connect()
        break
      } catch {
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    expect(await client.ping()).toBe('PONG')
    let n = 0
    const upstream = await startFakeUpstream((_req, res) => {
      n++
      res.writeHead(200, { 'cache-control': 'max-age=60', 'content-length': String(`v${n}`.length) })
      res.end(`v${n}`)
    })
    running.push(upstream)
    const gw = await gateway(upstream, client, 'redis')
    expect(await (await fetch(`${gw.url}/k`)).text()).toBe('v1')
    const hit = await fetch(`${gw.url}/k`)
    expect(await hit.text()).toBe('v1')
    expect(hit.headers.get('cache-status')).toContain('hit')

    server.kill('SIGKILL')
    await new Promise((r) => server!.once('exit', r))
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.url}/k`)
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(`v${i + 2}`)
    }
    client.disconnect()
  })
})
