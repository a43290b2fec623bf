/**
 * The rate-limit fault rig: its own `redis-server` on a free loopback port, a delaying TCP proxy in its own
 * process in front of it, and N `gw start` processes (the @gw/cli binary, a config file, default rate-limit
 * settings) whose `resources.redis` points at the proxy. One route per algorithm, each with a limit of
 * `limit` per hour keyed by the `x-client` header, so every trial uses a fresh key. Used by the limits bench
 * (limits/bench.ts) and the limits tests (test/limits.test.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { type FakeUpstream, freePort, startFakeUpstream } from '@gw/core/testing'
import { type RedisServer, startRedisServer } from '../test/helpers/redis.js'

const require = createRequire(import.meta.url)
const GW_BIN = join(dirname(require.resolve('@gw/cli/package.json')), 'dist', 'cli.js')
const HERE = dirname(fileURLToPath(import.meta.url))
/** The proxy script, next to this file (or one level up when this file runs bundled from limits/.out/). */
const PROXY = existsSync(join(HERE, 'delay-proxy.mjs'))
  ? join(HERE, 'delay-proxy.mjs')
  : join(HERE, '..', 'delay-proxy.mjs')

/** The four algorithms, each on its own route `/<algorithm>/`. */
export const ALGORITHMS = ['fixed-window', 'sliding-window', 'token-bucket', 'gcra'] as const
export type Algorithm = (typeof ALGORITHMS)[number]

/** What a burst got back. */
export interface BurstResult {
  admitted: number
  limited: number
  /** Any other status, or a failed request (status 0). */
  other: number
}

/** The delaying proxy process. */
export interface DelayProxy {
  readonly port: number
  setDelay(ms: number): Promise<void>
  close(): Promise<void>
}

/** One `gw start` process. */
export interface GatewayProcess {
  readonly url: string
  readonly metricsUrl: string
  readonly child: ChildProcess
  stop(): Promise<void>
}

export interface LimitsRig {
  readonly limit: number
  readonly gateways: GatewayProcess[]
  readonly proxy: DelayProxy
  readonly redisPort: number
  /** Fires `total` requests at once, spread evenly over the gateways, all with the same `x-client` key. */
  burst(algorithm: Algorithm, client: string, total: number): Promise<BurstResult>
  /** Sends requests in waves (`waves` x `perWave`, one wave every `everyMs`), calling `between(i)` before wave i. */
  stream(
    algorithm: Algorithm,
    client: string,
    waves: number,
    perWave: number,
    everyMs: number,
    between?: (wave: number) => Promise<void>,
  ): Promise<BurstResult>
  /** Requests decided by the local fallback so far, summed over the gateways (their /metrics). */
  fallbackDecisions(): Promise<number>
  /** SIGKILLs redis-server (a crash; nothing is persisted). */
  killRedis(): Promise<void>
  /** Starts redis-server again on its port (empty). */
  startRedis(): Promise<void>
  /** Waits until every gateway decides with Redis again (breakers closed): a probe request per gateway and route. */
  settle(): Promise<void>
  close(): Promise<void>
}

export interface RigOptions {
  gateways?: number
  limit?: number
  /** Extra rate-limit options for every route (the defaults are what is measured; keep this empty for that). */
  extra?: Record<string, unknown>
}

/** Starts the proxy process in front of `targetPort`. */
export async function startDelayProxy(targetPort: number, delay = 0): Promise<DelayProxy> {
  const child = spawn(process.execPath, [PROXY, String(targetPort), String(delay)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: child.stdout! })
  const replies: ((line: string) => void)[] = []
  lines.on('line', (line) => replies.shift()?.(line))
  const exited = once(child, 'exit')
  const next = () =>
    Promise.race([
      new Promise<string>((resolve) => replies.push(resolve)),
      exited.then(() => {
        throw new Error(`delay proxy exited with ${child.exitCode}`)
      }),
    ])
  const port = (JSON.parse(await next()) as { port: number }).port
  return {
    port,
    async setDelay(ms) {
      const ack = next()
      child.stdin!.write(`delay ${ms}\n`)
      await ack
    },
    async close() {
      if (child.exitCode !== null) return
      child.stdin!.end()
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** Starts `gw start <file>` and resolves once it prints its listening line. */
async function startGateway(file: string, port: number, metricsPort: number): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [GW_BIN, 'start', file, '--port', String(port)], {
    env: { ...process.env, LOG_LEVEL: 'warn', METRICS_PORT: String(metricsPort) },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`gw start did not come up in 60 s: ${stderr}`)), 60_000)
    child.stderr!.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
      if (stderr.includes('gw: listening on')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`gw start exited with ${code}: ${stderr}`))
    })
  })
  await listening
  const exited = once(child, 'exit')
  return {
    url: `http://127.0.0.1:${port}`,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    },
  }
}

/** One GET on a fresh connection; the status, or 0 when the request failed. */
export function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', () => resolve({ status: 0, body }))
    })
    req.on('error', () => resolve({ status: 0, body: '' }))
    req.setTimeout(30_000, () => req.destroy())
    req.end()
  })
}

function tally(statuses: number[]): BurstResult {
  let admitted = 0
  let limited = 0
  for (const s of statuses) {
    if (s === 200) admitted++
    else if (s === 429) limited++
  }
  return { admitted, limited, other: statuses.length - admitted - limited }
}

function configFile(
  upstream: string,
  proxyPort: number,
  limit: number,
  extra: Record<string, unknown>,
): string {
  const routes = ALGORITHMS.map(
    (algorithm) => `  - path: /${algorithm}/*
    upstream: up
    policies:
      - policy: rate-limit
        options: ${JSON.stringify({
          id: algorithm,
          algorithm,
          limit,
          window: '1h',
          key: 'header',
          header: 'x-client',
          store: { type: 'redis', prefix: 'gw-limits-rig:' },
          ...extra,
        })}
`,
  ).join('')
  return `server:
  host: 127.0.0.1
upstreams:
  up:
    url: ${upstream}
resources:
  redis:
    host: 127.0.0.1
    port: ${proxyPort}
policies:
  - policy: metrics
    options: { port: "\${METRICS_PORT}" }
routes:
${routes}`
}

/** Starts redis-server, the proxy, an upstream and the gateway processes. */
export async function startLimitsRig(options: RigOptions = {}): Promise<LimitsRig> {
  const limit = options.limit ?? 20
  const count = options.gateways ?? 4
  const dir = mkdtempSync(join(tmpdir(), 'gw-limits-rig-'))
  const redisPort = await freePort()
  let redis: RedisServer | undefined = await startRedisServer(redisPort)
  const cleanups: (() => Promise<void>)[] = []
  try {
    const proxy = await startDelayProxy(redisPort)
    cleanups.push(() => proxy.close())
    const upstream: FakeUpstream = await startFakeUpstream((_req, res) => {
      res.end('ok')
    })
    cleanups.push(() => upstream.close())
    const file = join(dir, 'gateway.yaml')
    writeFileSync(file, configFile(upstream.url, proxy.port, limit, options.extra ?? {}))
    const gateways = await Promise.all(
      Array.from({ length: count }, async () => startGateway(file, await freePort(), await freePort())),
    )
    cleanups.push(async () => void (await Promise.all(gateways.map((g) => g.stop()))))
    const rig: LimitsRig = {
      limit,
      gateways,
      proxy,
      redisPort,
      async burst(algorithm, client, total) {
        const statuses = await Promise.all(
          Array.from({ length: total }, (_v, i) =>
            get(`${gateways[i % gateways.length]!.url}/${algorithm}/x`, { 'x-client': client }),
          ),
        )
        return tally(statuses.map((r) => r.status))
      },
      async stream(algorithm, client, waves, perWave, everyMs, between) {
        const pending: Promise<{ status: number }>[] = []
        let n = 0
        for (let wave = 0; wave < waves; wave++) {
          await between?.(wave)
          for (let i = 0; i < perWave; i++)
            pending.push(
              get(`${gateways[n++ % gateways.length]!.url}/${algorithm}/x`, { 'x-client': client }),
            )
          await new Promise((r) => setTimeout(r, everyMs))
        }
        return tally((await Promise.all(pending)).map((r) => r.status))
      },
      async fallbackDecisions() {
        let total = 0
        for (const gateway of gateways) {
          const { body } = await get(gateway.metricsUrl)
          for (const line of body.split('\n'))
            if (/^\w*ratelimit_fallback_decisions\w*[{ ]/.test(line)) total += Number(line.split(' ').at(-1))
        }
        return total
      },
      async killRedis() {
        await redis?.kill()
        redis = undefined
      },
      async startRedis() {
        redis = await startRedisServer(redisPort)
      },
      async settle() {
        // The breakers (cooldown 1 s) must have let a probe through and closed on every gateway and route.
        for (let round = 0; round < 3; round++) {
          await new Promise((r) => setTimeout(r, 1100))
          await Promise.all(
            gateways.flatMap((g) =>
              ALGORITHMS.map((a) =>
                get(`${g.url}/${a}/x`, { 'x-client': `settle-${round}-${Math.random()}` }),
              ),
            ),
          )
        }
      },
      async close() {
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
        await redis?.kill()
        rmSync(dir, { recursive: true, force: true })
      },
    }
    return rig
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {})
    await redis?.kill()
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
}

/** Busy-loop processes that keep the CPUs saturated until stopped. */
export function starveCpu(processes: number): { stop(): Promise<void> } {
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }),
  )
  return {
    async stop() {
      await Promise.all(
        children.map((child) => {
          if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
          const exited = once(child, 'exit')
          child.kill('SIGKILL')
          return exited
        }),
      )
    },
  }
}
