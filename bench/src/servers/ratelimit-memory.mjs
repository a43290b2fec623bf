// gw + rate-limit with the memory store: one catch-all route, a per-ip fixed window high enough never to deny,
// so the run measures the cost of a decision and its headers.
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { createGateway } = await importOrExit('@gw/core')
const { rateLimit } = await importOrExit(
  new URL('../../../packages/ratelimit/dist/index.js', import.meta.url).href,
)

try {
  const gw = await createGateway({
    server: { port, host },
    upstreams: { up: { url: upstream } },
    policies: [rateLimit({ limit: 1_000_000_000, window: '1m', key: 'ip' })],
    routes: [{ path: '/*', upstream: 'up' }],
  })
  const address = await gw.listen()
  announceReady(address.port)
} catch (err) {
  startFailed(err)
}
