// Measures the sidecar's footprint: start-up time (spawn -> listening), RSS after start and after 10k requests.
// Usage (after `pnpm build`): pnpm --filter @gw/app-sidecar measure [-- --requests 10000 --runs 5]
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '16' },
  },
})
const REQUESTS = Number(values.requests)
const RUNS = Number(values.runs)
const CONCURRENCY = Number(values.concurrency)
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url))

function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kib = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1])
  return kib / 1024
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

const body = JSON.stringify({ id: 1, name: 'Widget', price: 9.99 })
const service = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
})
service.listen(0, '127.0.0.1')
await once(service, 'listening')
const serviceUrl = `http://127.0.0.1:${service.address().port}`

async function run() {
  const started = process.hrtime.bigint()
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      SERVICE_URL: serviceUrl,
      AUTH: 'none',
      PORT: '0',
      HOST: '127.0.0.1',
      PROMETHEUS_PORT: '0',
      RATE_LIMIT_MAX_REQUESTS: '100000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  const base = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 10 s:\n${out}`)), 10_000)
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      out += chunk
      const match = /gw sidecar listening on (http:\/\/\S+)/.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve(match[1])
      }
      if (out.length > 1_000_000) out = out.slice(-10_000)
    })
    child.once('exit', (code) => reject(new Error(`exited ${code}:\n${out}`)))
  })
  const startupMs = Number(process.hrtime.bigint() - started) / 1e6
  await new Promise((r) => setTimeout(r, 500))
  const rssStart = rssMiB(child.pid)
  let next = 0
  let failures = 0
  const t0 = process.hrtime.bigint()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < REQUESTS) {
        next++
        const res = await fetch(`${base}/products/1`)
        await res.arrayBuffer()
        if (res.status !== 200) failures++
      }
    }),
  )
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  await new Promise((r) => setTimeout(r, 500))
  const rssAfter = rssMiB(child.pid)
  child.kill('SIGTERM')
  await once(child, 'exit')
  return { startupMs, rssStart, rssAfter, rps: REQUESTS / seconds, failures }
}

const results = []
for (let i = 0; i < RUNS; i++) results.push(await run())
service.close()
const summary = {
  node: process.version,
  runs: RUNS,
  requests: REQUESTS,
  concurrency: CONCURRENCY,
  startupMsMedian: Math.round(median(results.map((r) => r.startupMs))),
  rssAfterStartMiBMedian: Number(median(results.map((r) => r.rssStart)).toFixed(1)),
  rssAfterRequestsMiBMedian: Number(median(results.map((r) => r.rssAfter)).toFixed(1)),
  requestsPerSecondMedian: Math.round(median(results.map((r) => r.rps))),
  failures: results.reduce((n, r) => n + r.failures, 0),
}
console.log(JSON.stringify(summary, null, 2))
if (summary.failures > 0) process.exitCode = 1
