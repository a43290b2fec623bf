// The load generator: one autocannon run, in its own process (pinned by the harness).
// Usage: node load.mjs '{"url":"http://127.0.0.1:1234/hello","connections":50,"pipelining":1,"duration":10}'
// https:// URLs are loaded over TLS by autocannon (HTTP/1.1, certificate not verified); with `"h2": true`
// autocannon is replaced by a node:http2 client (autocannon has no HTTP/2; node's client measured about 25 %
// faster than undici's allowH2 on this machine): `connections` concurrent request loops multiplexed as
// streams over one connection.
// Prints one JSON line with the figures the harness needs, then exits.
import { once } from 'node:events'
import { connect } from 'node:http2'
import autocannon from 'autocannon'
import { installWatchdog } from './servers/common.mjs'

installWatchdog()
const opts = JSON.parse(process.argv[2] ?? '{}')
if (typeof opts.url !== 'string' || !/^https?:\/\/127\.0\.0\.1:/.test(opts.url)) {
  process.stderr.write('load.mjs: url must be http(s)://127.0.0.1:<port>/...\n')
  process.exit(2)
}
if (opts.h2 === true) {
  process.stdout.write(JSON.stringify(await loadH2(opts)) + '\n')
  process.exit(0)
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
