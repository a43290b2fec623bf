// The load generator: one run, in its own process (pinned by the harness; children inherit the pinning).
// Usage: node load.mjs '{"url":"http://127.0.0.1:1234/hello","connections":50,"pipelining":1,"duration":10}'
// With `"tool": "wrk"` (the harness's default when Debian's wrk is installed) wrk runs one thread over
// `connections` keep-alive connections (pipelining is not supported there: the harness falls back to
// autocannon when it is above 1); its CPU time comes from this process's children times in /proc/self/stat.
// Otherwise autocannon 9 (programmatic API) runs in this process.
// https:// URLs are loaded over TLS by autocannon (HTTP/1.1, certificate not verified); with `"h2": true`
// autocannon is replaced by a node:http2 client (autocannon has no HTTP/2; node's client measured about 25 %
// faster than undici's allowH2 on this machine): `connections` concurrent request loops multiplexed as
// streams over one connection.
// Prints one JSON line with the figures the harness needs, then exits.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { connect } from 'node:http2'
import autocannon from 'autocannon'
import { installWatchdog } from './servers/common.mjs'

installWatchdog()
const opts = JSON.parse(process.argv[2] ?? '{}')
if (typeof opts.url !== 'string' || !/^https?:\/\/127\.0\.0\.1:/.test(opts.url)) {
  process.stderr.write('load.mjs: url must be http(s)://127.0.0.1:<port>/...\n')
  process.exit(2)
}
/** Clock ticks per second of /proc times (the usual 100 on Linux; the harness passes the real value). */
const CLK_TCK = Number(opts.clkTck) > 0 ? Number(opts.clkTck) : 100

if (opts.h2 === true) {
  process.stdout.write(JSON.stringify(await loadH2(opts)) + '\n')
  process.exit(0)
}
if (opts.tool === 'wrk') {
  process.stdout.write(JSON.stringify(await loadWrk(opts)) + '\n')
  process.exit(0)
}

/** One wrk run (-t1): the same figures as autocannon's, latencies in ms with microsecond resolution. */
async function loadWrk({ url, connections, duration, headers }) {
  const script = new URL('./lib/wrk-report.lua', import.meta.url).pathname
  const args = ['-t1', `-c${connections}`, `-d${duration}s`, '--timeout', '10s', '-s', script]
  for (const [name, value] of Object.entries(headers ?? {})) args.push('-H', `${name}: ${value}`)
  args.push(url)
  const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (c) => {
    out += c
  })
  child.stderr.setEncoding('utf8').on('data', (c) => {
    err += c
  })
  const [code] = await once(child, 'exit')
  const line = out.split('\n').find((l) => l.startsWith('{"wrk"'))
  if (code !== 0 || line === undefined) throw new Error(`wrk failed (${code}): ${err || out}`.slice(0, 500))
  const r = JSON.parse(line)
  const seconds = r.duration_us / 1e6
  const ms = (us) => us / 1000
  // Fields 16 and 17 of /proc/self/stat: user and system time of waited-for children (wrk).
  const stat = readFileSync('/proc/self/stat', 'utf8')
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const childSeconds = (Number(rest[13]) + Number(rest[14])) / CLK_TCK
  const cpu = process.cpuUsage()
  const e = r.errors
  return {
    tool: 'wrk',
    duration: seconds,
    rps: r.requests / seconds,
    requestsTotal: r.requests,
    latency: {
      average: ms(r.latency_us.mean),
      p50: ms(r.latency_us.p50),
      p90: ms(r.latency_us.p90),
      p99: ms(r.latency_us.p99),
      max: ms(r.latency_us.max),
    },
    throughputBytesPerSec: r.bytes / seconds,
    errors: e.connect + e.read + e.write,
    timeouts: e.timeout,
    non2xx: e.status,
    resets: 0,
    ok2xx: r.requests - e.status,
    cpuSeconds: (cpu.user + cpu.system) / 1e6 + childSeconds,
  }
}

/** The HTTP/2 load loop (node:http2 client, one session); returns the same figures as autocannon (ms). */
async function loadH2({ url, connections, duration, headers }) {
  const target = new URL(url)
  const session = connect(target.origin, { rejectUnauthorized: false })
  session.on('error', () => {})
  await once(session, 'connect')
  const requestHeaders = { ...headers, ':method': 'GET', ':path': target.pathname + target.search }
  const MAX_SAMPLES = 5_000_000
  const latencies = []
  let ok2xx = 0
  let non2xx = 0
  let errors = 0
  let bytes = 0
  const one = () =>
    new Promise((resolve) => {
      const stream = session.request(requestHeaders)
      let status = 0
      stream.on('response', (h) => {
        status = h[':status']
      })
      stream.on('data', (chunk) => {
        bytes += chunk.length
      })
      stream.on('end', () => resolve(status))
      stream.on('error', () => resolve(0))
    })
  const started = performance.now()
  const deadline = started + duration * 1000
  const loop = async () => {
    while (performance.now() < deadline && !session.destroyed) {
      const t0 = performance.now()
      const status = await one()
      if (status === 0) {
        errors++
        continue
      }
      if (status >= 200 && status < 300) ok2xx++
      else non2xx++
      if (latencies.length < MAX_SAMPLES) latencies.push(performance.now() - t0)
    }
  }
  await Promise.all(Array.from({ length: connections }, loop))
  const elapsed = (performance.now() - started) / 1000
  session.close()
  latencies.sort((a, b) => a - b)
  const at = (q) =>
    latencies.length === 0
      ? 0
      : Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))])
  const total = ok2xx + non2xx
  const cpu = process.cpuUsage()
  return {
    duration: elapsed,
    rps: total / elapsed,
    requestsTotal: total,
    latency: {
      average: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
      p50: at(0.5),
      p90: at(0.9),
      p99: at(0.99),
      max: Math.round(latencies.at(-1) ?? 0),
    },
    throughputBytesPerSec: bytes / elapsed,
    errors,
    timeouts: 0,
    non2xx,
    resets: 0,
    ok2xx,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  }
}

const result = await autocannon({
  url: opts.url,
  connections: opts.connections,
  pipelining: opts.pipelining,
  duration: opts.duration,
  headers: opts.headers ?? {},
  timeout: 10,
})

const { latency, requests, throughput } = result
// Whole-process CPU time (start-up included), so the harness can tell its own load from other processes'.
const cpu = process.cpuUsage()
process.stdout.write(
  JSON.stringify({
    tool: 'autocannon',
    duration: result.duration,
    rps: requests.average,
    requestsTotal: requests.total,
    latency: {
      average: latency.average,
      p50: latency.p50,
      p90: latency.p90,
      p99: latency.p99,
      max: latency.max,
    },
    throughputBytesPerSec: throughput.average,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    resets: result.resets,
    ok2xx: result['2xx'],
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  }) + '\n',
)
process.exit(0)
