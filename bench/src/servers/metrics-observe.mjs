// gw + the whole @gw/metrics stack: trace-context (traceparent created and forwarded), metrics (RED metrics,
// separate /metrics listener) and access-log (one JSON line per request, redaction). Lines are serialised by
// core's JSON-lines logger and written to the null device, so the number is the gateway's cost without disk I/O.
// Compare with gw.mjs; target <= 7% throughput cost.
import { createWriteStream } from 'node:fs'
import { devNull } from 'node:os'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { createConsoleLogger, createGateway } = await importOrExit('@gw/core')
// bench/package.json does not depend on @gw/metrics: load its build (pnpm --filter @gw/metrics build).
const { accessLog, createPrometheusTelemetry, metrics, traceContext } = await importOrExit(
  new URL('../../../packages/metrics/dist/index.js', import.meta.url).href,
)

try {
  const sink = createWriteStream(devNull)
  const logger = createConsoleLogger('info', {}, (line) => sink.write(line))
  const telemetry = createPrometheusTelemetry()
  const gw = await createGateway({
    server: { port, host },
    logger,
    telemetry,
    upstreams: { up: { url: upstream } },
    policies: [
      metrics({ port: 0, host: '127.0.0.1' }),
      traceContext({}),
      accessLog({ headers: ['user-agent'] }),
    ],
    routes: [{ id: 'bench', path: '/*', upstream: 'up' }],
  })
  const address = await gw.listen()
  announceReady(address.port)
} catch (err) {
  startFailed(err)
}
