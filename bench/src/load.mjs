// The load generator: one autocannon run, in its own process (pinned by the harness).
// Usage: node load.mjs '{"url":"http://127.0.0.1:1234/hello","connections":50,"pipelining":1,"duration":10}'
// Prints one JSON line with the figures the harness needs, then exits.
import autocannon from 'autocannon'
import { installWatchdog } from './servers/common.mjs'

installWatchdog()
const opts = JSON.parse(process.argv[2] ?? '{}')
if (typeof opts.url !== 'string' || !opts.url.startsWith('http://127.0.0.1:')) {
  process.stderr.write('load.mjs: url must be http://127.0.0.1:<port>/...\n')
  process.exit(2)
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
