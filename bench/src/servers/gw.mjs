// gw with no policies: one upstream, one catch-all route.
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { createGateway } = await importOrExit('@gw/core')

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
