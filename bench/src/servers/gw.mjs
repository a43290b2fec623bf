// gw with no policies: one upstream, one catch-all route.
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
// BENCH_GW_CORE may name another build of @gw/core (e.g. an older commit's dist/index.js) for before/after runs.
const { createGateway } = await importOrExit(process.env.BENCH_GW_CORE || '@gw/core')

try {
  const gw = await createGateway({
    server: { port, host },
    upstreams: { up: { url: upstream } },
    routes: [{ path: '/*', upstream: 'up' }],
  })
  const address = await gw.listen()
  announceReady(address.port)
} catch (err) {
  startFailed(err)
}
