// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are gw config text with ${VAR} references
import type { ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { gw, listening, noStack, packages, project, spawnGw } from './helpers.js'

interface RedisClient {
  ping(): Promise<string>
  scan(cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>
  del(...keys: string[]): Promise<number>
  quit(): Promise<unknown>
  disconnect(): void
}
const { Redis } = createRequire(join(packages, 'ratelimit', 'package.json'))('ioredis') as {
  Redis: new (url: string, options: Record<string, unknown>) => RedisClient
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'
const redis = new Redis(REDIS_URL, { lazyConnect: false, maxRetriesPerRequest: 1, retryStrategy: () => null })
const redisUp = await redis.ping().then(
  () => true,
  () => false,
)
if (!redisUp) redis.disconnect()
const prefix = `gw-cli-test:${process.pid}:${Date.now()}:`

const GATEWAY_YAML = `server:
  port: 0
  host: 127.0.0.1
  drainTimeout: 2s
upstreams:
  api: { url: "\${UPSTREAM_URL}" }
resources:
  redis:
    url: \${REDIS_URL}
  metrics:
    defaultMetrics: false
policies:
  - policy: metrics
    options: { exposition: gateway, path: /metrics }
  - policy: rate-limit
    options:
      limit: 3
      window: 1m
      key: ip
      store: { type: redis, prefix: "\${RL_PREFIX}" }
routes:
  - id: api
    path: /api/*
    upstream: api
    stripPrefix: /api
`

async function keysWith(client: RedisClient, match: string): Promise<string[]> {
  const found: string[] = []
  let cursor = '0'
  for (let i = 0; i < 1000; i++) {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${match}*`, 'COUNT', 500)
    found.push(...keys)
    cursor = next
    if (cursor === '0') break
  }
  return found
}

describe.skipIf(!redisUp && process.env.CI !== 'true')('gw start with resources (Redis, Prometheus)', () => {
  let dir: string
  let upstream: Server
  let upstreamUrl: string
  let hits = 0
  const children: ChildProcess[] = []

  beforeAll(async () => {
    dir = project(['ratelimit', 'metrics'], { ioredis: true })
    writeFileSync(join(dir, 'gateway.yaml'), GATEWAY_YAML)
    upstream = createServer((req, res) => {
      hits++
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ url: req.url }))
    })
    upstream.listen(0, '127.0.0.1')
    await once(upstream, 'listening')
    upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
  })

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL')
    upstream?.close()
    if (redisUp) {
      const keys = await keysWith(redis, prefix)
      if (keys.length > 0) await redis.del(...keys)
      await redis.quit()
    }
    rmSync(dir, { recursive: true, force: true })
  })

  it('two gw processes share one Redis rate-limit count, serve /metrics, and close on SIGTERM', async () => {
    const env = { UPSTREAM_URL: upstreamUrl, REDIS_URL, RL_PREFIX: prefix, LOG_LEVEL: 'info' }
    const outputs = [
      { stdout: '', stderr: '' },
      { stdout: '', stderr: '' },
    ]
    const started = outputs.map((output) => {
      const child = spawnGw(['start', 'gateway.yaml'], { cwd: dir, env })
      children.push(child)
      return { child, url: listening(child, output) }
    })
    const urls = await Promise.all(started.map((s) => s.url))
    for (const output of outputs) {
      expect(output.stderr).toMatch(/; prometheus telemetry; redis 127\.0\.0\.1:6379\)\n$/)
    }
    expect(outputs[0]?.stdout).toContain('"msg":"redis connected"')

    const statuses: number[] = []
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${urls[i % 2]}/api/items/${i}`)
      statuses.push(res.status)
      await res.arrayBuffer()
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429])
    expect(hits).toBe(3)
    expect((await keysWith(redis, prefix)).length).toBeGreaterThan(0)

    const scrape = await fetch(`${urls[1]}/metrics`)
    expect(scrape.status).toBe(200)
    const text = await scrape.text()
    expect(text).toMatch(/^gw_http_requests_total\{[^}]*route="api"[^}]*status_class="4xx"[^}]*\} 1$/m)
    expect(text).toMatch(/^gw_http_requests_total\{[^}]*route="api"[^}]*status_class="2xx"[^}]*\} 1$/m)
    expect(text).toMatch(/^gw_upstream_request_duration_seconds_count\{[^}]*upstream="api"[^}]*\} 1$/m)
    expect(text).toMatch(/^gw_policy_decisions_total\{policy="rate-limit",outcome="deny"\} 1$/m)
    expect(text).not.toContain('process_cpu_user_seconds_total')

    for (const { child } of started) child.kill('SIGTERM')
    const codes = await Promise.all(started.map(async ({ child }) => (await once(child, 'exit'))[0]))
    expect(codes).toEqual([0, 0])
    for (const output of outputs) {
      expect(output.stdout).toContain('"msg":"redis closed"')
      expect(noStack(output.stderr)).toBe(true)
    }
  })

  it('fails with the resources path when ioredis is not installed', async () => {
    const bare = project(['ratelimit', 'metrics'])
    try {
      writeFileSync(join(bare, 'gateway.yaml'), GATEWAY_YAML)
      const run = await gw(['start', 'gateway.yaml'], {
        cwd: bare,
        env: { UPSTREAM_URL: upstreamUrl, REDIS_URL, RL_PREFIX: prefix, LOG_LEVEL: 'silent' },
      })
      expect(run).toMatchObject({
        code: 1,
        stderr:
          'gw: invalid configuration in gateway.yaml:\n  - resources.redis: install ioredis to connect to Redis (npm i ioredis)\n',
      })
    } finally {
      rmSync(bare, { recursive: true, force: true })
    }
  })
})

describe('gw start with Prometheus telemetry, reloaded', () => {
  let dir: string
  const servers: Server[] = []
  let child: ChildProcess | undefined

  async function upstream(name: string): Promise<string> {
    const server = createServer((_req, res) => res.end(name))
    servers.push(server)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  const file = (url: string) =>
    `server: { port: 0, host: 127.0.0.1, drainTimeout: 1s }\nupstreams:\n  api: { url: "${url}" }\n` +
    'policies:\n  - { policy: metrics, options: { exposition: gateway } }\nroutes:\n  - { id: api, path: /api/*, upstream: api }\n'

  beforeAll(() => {
    dir = project(['metrics'])
  })
  afterAll(async () => {
    if (child?.exitCode === null) child.kill('SIGKILL')
    for (const server of servers) server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('applies a changed upstream on SIGHUP and times it under its new target', async () => {
    const first = await upstream('first')
    const second = await upstream('second')
    writeFileSync(join(dir, 'gateway.yaml'), file(first))
    child = spawnGw(['start', 'gateway.yaml'], { cwd: dir, env: { LOG_LEVEL: 'warn' } })
    const output = { stdout: '', stderr: '' }
    const url = await listening(child, output)
    expect(output.stderr).toContain('; prometheus telemetry')
    expect(await (await fetch(`${url}/api/x`)).text()).toBe('first')

    writeFileSync(join(dir, 'gateway.yaml'), file(second))
    child.kill('SIGHUP')
    let body = 'first'
    for (let i = 0; i < 50 && body === 'first'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      body = await (await fetch(`${url}/api/x`)).text()
    }
    expect(body).toBe('second')
    const text = await (await fetch(`${url}/metrics`)).text()
    expect(text).toContain(
      `gw_upstream_request_duration_seconds_count{upstream="api",target="${first}",status_class="2xx"} 1`,
    )
    expect(text).toMatch(
      new RegExp(
        `gw_upstream_request_duration_seconds_count\\{upstream="api",target="${second}",status_class="2xx"\\} [1-9]`,
      ),
    )
    child.kill('SIGTERM')
    expect((await once(child, 'exit'))[0]).toBe(0)
  })
})

describe('gw start --workers with the metrics policy', () => {
  let dir: string
  let server: Server
  let child: ChildProcess | undefined

  beforeAll(async () => {
    dir = project(['metrics'])
    server = createServer((_req, res) => res.end('ok'))
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
  })
  afterAll(() => {
    if (child?.exitCode === null) child.kill('SIGKILL')
    server.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('serves the series of every worker, summed, on the metrics port from the primary', async () => {
    const probe = createServer()
    probe.listen(0, '127.0.0.1')
    await once(probe, 'listening')
    const metricsPort = (probe.address() as AddressInfo).port
    probe.close()
    await once(probe, 'close')
    const upstreamUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    writeFileSync(
      join(dir, 'gateway.yaml'),
      `server: { port: 0, host: 127.0.0.1, drainTimeout: 1s }\nupstreams:\n  api: { url: "${upstreamUrl}" }\n` +
        `policies:\n  - { policy: metrics, options: { port: ${metricsPort}, host: 127.0.0.1 } }\n` +
        'routes:\n  - { id: api, path: /api/*, upstream: api }\n',
    )
    child = spawnGw(['start', 'gateway.yaml', '--workers', '2', '--port', '0'], {
      cwd: dir,
      env: { LOG_LEVEL: 'warn' },
    })
    const output = { stdout: '', stderr: '' }
    await listening(child, output)
    for (let i = 0; i < 100 && (output.stderr.match(/listening on/g) ?? []).length < 2; i++)
      await new Promise((resolve) => setTimeout(resolve, 50))
    const urls = [...output.stderr.matchAll(/listening on (http:\/\/127\.0\.0\.1:\d+) /g)].map((m) => m[1]!)
    expect(urls.length).toBe(2)
    for (let i = 0; i < 10; i++) await (await fetch(`${urls[i % 2]}/api/x`)).arrayBuffer()

    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`)
    expect(scrape.status).toBe(200)
    const text = await scrape.text()
    const total = [...text.matchAll(/^gw_http_requests_total\{[^}]*route="api"[^}]*\} (\d+)$/gm)].reduce(
      (sum, m) => sum + Number(m[1]),
      0,
    )
    expect(total).toBe(10)
    child.kill('SIGTERM')
    expect((await once(child, 'exit'))[0]).toBe(0)
  })
})
