/**
 * Soak run: the centralized reference gateway (metrics, trace context, access log, security headers, CORS,
 * request validation, per-ip rate limit, compression; JWT / API-key auth, per-principal rate limit and the
 * products cache on its routes) with its bundled demo services runs in a child process under steady autocannon
 * load for N minutes. The child samples itself every interval (RSS, heap, event-loop delay, open sockets and
 * handles); the parent counts responses and errors per interval, prints a table and a JSON summary, and exits
 * 0 (PASS) when RSS grew less than 5 % after the warm-up and no request failed.
 *
 * Usage: `pnpm --filter @gw/reliability soak -- --minutes 10 [--rate 400] [--connections 20] [--interval 10]
 * [--redis 127.0.0.1:6379]` (with --redis, rate limits and the cache use Redis under a unique key prefix; the
 * keys expire with their windows and TTLs)
 * (soak/run.mjs bundles this file with esbuild and runs it).
 */
import { fork } from 'node:child_process'
import { createHmac, randomBytes } from 'node:crypto'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Writable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'
import { startCentralizedGateway } from '../../apps/centralized/src/gateway.js'

interface Sample {
  t: number
  rssMb: number
  heapUsedMb: number
  heapTotalMb: number
  externalMb: number
  lagMeanMs: number
  lagP99Ms: number
  lagMaxMs: number
  sockets: number
  handles: number
  connections: number
}

interface Row extends Sample {
  requests: number
  ok: number
  errors: number
}

interface Options {
  minutes: number
  rate: number
  connections: number
  interval: number
  /** `host:port` of a Redis for the rate-limit and cache stores (keys under a unique prefix); memory stores without it. */
  redis: string | undefined
}

const SECRET = 'soak-secret-for-a-local-run-only-32b'
const SUBJECTS = 400
const LAG_RESOLUTION_MS = 10
/** Event-loop lag in ms: how late the histogram's 10 ms sampling timer fired (its interval subtracted). */
const lateness = (ns: number): number => Math.max(0, Math.round((ns / 1e6 - LAG_RESOLUTION_MS) * 100) / 100)
const mb = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10

function parseArgs(argv: string[]): Options {
  const usage = 'usage: soak [--minutes N] [--rate RPS] [--connections N] [--interval S] [--redis HOST:PORT]'
  const options: Options = { minutes: 2, rate: 400, connections: 20, interval: 10, redis: undefined }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') continue
    const raw = argv[i + 1]
    i++
    if (arg === '--redis') {
      if (!/^[\w.-]+:\d+$/.test(raw ?? '')) throw new Error(`${usage} (bad --redis '${raw}')`)
      options.redis = raw
      continue
    }
    const value = Number(raw)
    const key = arg?.replace(/^--/, '') as Exclude<keyof Options, 'redis'>
    if (
      !['minutes', 'rate', 'connections', 'interval'].includes(key) ||
      !Number.isFinite(value) ||
      value <= 0
    )
      throw new Error(`${usage} (bad '${arg}')`)
    options[key] = value
  }
  if (options.minutes > 120) throw new Error('--minutes is capped at 120')
  return options
}

function jwt(subject: string): string {
  const b64 = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: subject, iat: now, exp: now + 86_400 })}`
  return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  return port
}

/** Child: run the gateway and report a sample every interval over IPC. */
async function child(intervalMs: number, redis: string | undefined): Promise<void> {
  const [redisHost, redisPort] = redis?.split(':') ?? []
  const app = await startCentralizedGateway({
    env: {
      LOG_LEVEL: 'silent',
      JWT_SECRET: SECRET,
      RATE_LIMIT_MAX_REQUESTS: '1000000000',
      CACHE_TTL_SECONDS: '5',
      PROMETHEUS_PORT: String(await freePort()),
      ...(redis === undefined ? {} : { REDIS_HOST: redisHost, REDIS_PORT: redisPort }),
    },
    redisKeyPrefix: `gw-soak:${randomBytes(6).toString('hex')}:`,
    port: 0,
    host: '127.0.0.1',
    logDestination: new Writable({ write: (_chunk, _enc, done) => done() }),
  })
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS })
  lag.enable()
  const started = Date.now()
  const sample = async (): Promise<Sample> => {
    const memory = process.memoryUsage()
    const resources = process.getActiveResourcesInfo()
    const connections = await new Promise<number>((resolve) =>
      app.gateway.server.getConnections((error, count) => resolve(error ? -1 : count)),
    )
    const s: Sample = {
      t: Math.round((Date.now() - started) / 1000),
      rssMb: mb(memory.rss),
      heapUsedMb: mb(memory.heapUsed),
      heapTotalMb: mb(memory.heapTotal),
      externalMb: mb(memory.external),
      lagMeanMs: lateness(lag.mean),
      lagP99Ms: lateness(lag.percentile(99)),
      lagMaxMs: lateness(lag.max),
      sockets: resources.filter((r) => r === 'TCPSocketWrap').length,
      handles: resources.length,
      connections,
    }
    lag.reset()
    return s
  }
  process.send?.({ type: 'ready', url: app.url.replace('0.0.0.0', '127.0.0.1') })
  const timer = setInterval(() => {
    sample().then((s) => process.send?.({ type: 'sample', sample: s }))
  }, intervalMs)
  process.on('message', (message: { type?: string }) => {
    if (message.type !== 'stop') return
    clearInterval(timer)
    app.close().then(() => process.exit(0))
  })
}

/** Parent: start the child, drive load, collect samples, judge. */
async function parent(options: Options): Promise<number> {
  const intervalMs = options.interval * 1000
  const gw = fork(fileURLToPath(import.meta.url), ['--child', String(intervalMs), options.redis ?? ''], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const samples: Sample[] = []
  let crashed: string | undefined
  const exited = new Promise<void>((resolve) =>
    gw.once('exit', (code, signal) => {
      if (code !== 0) crashed = `gateway process exited early (code ${code}, signal ${signal})`
      resolve()
    }),
  )
  const first = await Promise.race([once(gw, 'message'), exited.then(() => undefined)])
  if (first === undefined) throw new Error(crashed ?? 'gateway process exited before it was ready')
  const [ready] = first as [{ type: string; url: string }]
  gw.on('message', (message: { type: string; sample?: Sample }) => {
    if (message.type === 'sample' && message.sample) samples.push(message.sample)
  })

  const paths = [
    '/api/products',
    '/api/products/1',
    '/api/products/2',
    '/api/users/1',
    '/api/orders',
    '/api/users',
  ]
  const requests = Array.from({ length: SUBJECTS }, (_v, i) => ({
    method: 'GET' as const,
    path: paths[i % paths.length]!,
    headers: { authorization: `Bearer ${jwt(`soak-user-${i}`)}`, 'accept-encoding': 'gzip' },
  }))
  let window = { requests: 0, ok: 0, errors: 0 }
  const windows: (typeof window)[] = []
  const statuses = new Map<number, number>()
  let finished: (result: autocannon.Result) => void = () => {}
  let failed: (error: Error) => void = () => {}
  const done = new Promise<autocannon.Result>((resolve, reject) => {
    finished = resolve
    failed = reject
  })
  const instance = autocannon(
    {
      url: ready.url,
      connections: options.connections,
      overallRate: options.rate,
      duration: options.minutes * 60,
      timeout: 10,
      requests,
    },
    (error, result) => (error ? failed(error) : finished(result)),
  )
  instance.on('response', (_client: unknown, status: number) => {
    window.requests++
    statuses.set(status, (statuses.get(status) ?? 0) + 1)
    if (status >= 200 && status < 300) window.ok++
    else window.errors++
  })
  instance.on('reqError', () => {
    window.requests++
    window.errors++
  })
  const roll = setInterval(() => {
    windows.push(window)
    window = { requests: 0, ok: 0, errors: 0 }
  }, intervalMs)
  const result = await done
  clearInterval(roll)
  windows.push(window)
  if (gw.connected) gw.send({ type: 'stop' })
  await exited

  const rows: Row[] = samples.map((s, i) => ({ ...s, ...(windows[i] ?? { requests: 0, ok: 0, errors: 0 }) }))
  const warmupS = options.minutes >= 2 ? 60 : Math.round((options.minutes * 60) / 3)
  const measured = rows.filter((r) => r.t >= warmupS)
  const baseline = measured[0]
  const last = measured[measured.length - 1]
  const growth = baseline && last ? (last.rssMb - baseline.rssMb) / baseline.rssMb : Number.NaN
  const errors = rows.reduce((sum, r) => sum + r.errors, 0) + result.errors + result.timeouts
  const pass =
    crashed === undefined && Number.isFinite(growth) && growth < 0.05 && errors === 0 && measured.length >= 2

  const header = [
    't(s)',
    'req',
    'ok',
    'err',
    'rss MB',
    'heap MB',
    'ext MB',
    'lag mean',
    'lag p99',
    'lag max',
    'sockets',
    'handles',
    'conns',
  ]
  const lines = rows.map((r) =>
    [
      r.t,
      r.requests,
      r.ok,
      r.errors,
      r.rssMb,
      r.heapUsedMb,
      r.externalMb,
      r.lagMeanMs,
      r.lagP99Ms,
      r.lagMaxMs,
      r.sockets,
      r.handles,
      r.connections,
    ].map(String),
  )
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const format = (cells: string[]): string => `| ${cells.map((c, i) => c.padStart(widths[i]!)).join(' | ')} |`
  process.stdout.write(`${format(header)}\n| ${widths.map((w) => `${'-'.repeat(w - 1)}:`).join(' | ')} |\n`)
  for (const line of lines) process.stdout.write(`${format(line)}\n`)
  const summary = {
    verdict: pass ? 'PASS' : 'FAIL',
    ...(crashed === undefined ? {} : { crashed }),
    minutes: options.minutes,
    rate: options.rate,
    connections: options.connections,
    stores: options.redis === undefined ? 'memory' : `redis ${options.redis}`,
    requests: result.requests.total,
    rps: Math.round(result.requests.average),
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
    statuses: Object.fromEntries(statuses),
    errors,
    warmupSeconds: warmupS,
    rssMb: { baseline: baseline?.rssMb, last: last?.rssMb, max: Math.max(...rows.map((r) => r.rssMb)) },
    rssGrowthPercent: Math.round(growth * 1000) / 10,
    heapUsedMb: { baseline: baseline?.heapUsedMb, last: last?.heapUsedMb },
    eventLoopLagP99MaxMs: Math.max(...rows.map((r) => r.lagP99Ms)),
    socketsMax: Math.max(...rows.map((r) => r.sockets)),
  }
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n${summary.verdict}\n`)
  return pass ? 0 : 1
}

if (process.argv[2] === '--child') await child(Number(process.argv[3]), process.argv[4] || undefined)
else process.exitCode = await parent(parseArgs(process.argv.slice(2)))
