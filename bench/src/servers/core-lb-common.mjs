// Shared by the core-lb-* benchmark cases: gw in front of three targets, one of them 50 ms slower, with the
// balancer under test. Target 1 is the harness upstream (BENCH_UPSTREAM); targets 2 and 3 are child processes
// running this file as a server (CORE_LB_TARGET_DELAY_MS set), answering with the same body.
// Run as a script (the harness does not), it is one such target server.
import { spawn } from 'node:child_process'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { UPSTREAM_BODY } from '../lib/upstream-body.mjs'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

const SELF = fileURLToPath(import.meta.url)
/** Extra latency of the slow target, in ms. */
export const SLOW_TARGET_DELAY_MS = 50

function startTargetProcess(delayMs) {
  const child = spawn(process.execPath, [SELF], {
    env: { ...process.env, BENCH_PORT: '0', CORE_LB_TARGET_DELAY_MS: String(delayMs) },
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  return new Promise((resolve, reject) => {
    let out = ''
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (chunk) => {
      out += chunk
      const line = out.split('\n').find((l) => l.startsWith('{'))
      if (line) resolve(`http://127.0.0.1:${JSON.parse(line).port}`)
    })
    child.once('exit', (code) => reject(new Error(`target exited with ${code}`)))
    process.once('exit', () => child.kill())
  })
}

/** Starts gw with three targets (one slow) and the given balancer, then tells the harness it is ready. */
export async function runBalancerCase(balancer) {
  installWatchdog()
  const { port, host, upstream } = serverEnv()
  const { createGateway } = await importOrExit('@gw/core')
  try {
    const [fast, slow] = await Promise.all([startTargetProcess(0), startTargetProcess(SLOW_TARGET_DELAY_MS)])
    const gw = await createGateway({
      server: { port, host },
      upstreams: {
        up: { targets: [{ url: upstream }, { url: fast }, { url: slow }], balancer: { type: balancer } },
      },
      routes: [{ path: '/*', upstream: 'up' }],
    })
    const address = await gw.listen()
    announceReady(address.port)
  } catch (err) {
    startFailed(err)
  }
}

if (process.argv[1] === SELF) {
  installWatchdog()
  const delay = Number(process.env.CORE_LB_TARGET_DELAY_MS ?? '0')
  const body = Buffer.from(UPSTREAM_BODY)
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length) }
  const server = http.createServer((req, res) => {
    req.resume()
    const answer = () => {
      res.writeHead(200, headers)
      res.end(body)
    }
    if (delay > 0) setTimeout(answer, delay)
    else answer()
  })
  server.keepAliveTimeout = 65_000
  server.on('error', startFailed)
  const { host } = serverEnv()
  server.listen(0, host, () => announceReady(server.address().port))
}
