// gw + @gw/metrics `metrics` policy (RED metrics in prom-client, /metrics on a separate listener): the cost of
// metrics on the plain proxy. Compare with gw.mjs.
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { createGateway } = await importOrExit('@gw/core')
// bench/package.json does not depend on @gw/metrics: load its build (pnpm --filter @gw/metrics build).
const { createPrometheusTelemetry, metrics } = await importOrExit(
  new URL('../../../packages/metrics/dist/index.js', import.meta.url).href,
)

try {
  const telemetry = createPrometheusTelemetry()
  const gw = await createGateway({
    server: { port, host },
    telemetry,
    upstreams: { up: { url: upstream } },
    policies: [metrics({ port: 0, host: '127.0.0.1' })],
    routes: [{ id: 'bench', path: '/*', upstream: 'up' }],
  })
  const address = await gw.listen()
  announceReady(address.port)
} catch (err) {
  startFailed(err)
}
