// gw with the @gw/security stack a public API would run: security headers, CORS (an allowed Origin is sent),
// request validation and the attack filter at paranoia 1, one upstream, one catch-all route.
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { createGateway } = await importOrExit('@gw/core')
const { attackFilter, cors, requestValidation, securityHeaders } = await importOrExit(
  new URL('../../../packages/security/dist/index.js', import.meta.url).href,
)

const origin = 'http://bench.example'

try {
  const gw = await createGateway({
    server: { port, host },
    upstreams: { up: { url: upstream } },
    policies: [
      securityHeaders(),
      cors({ origins: [origin], exposedHeaders: ['x-request-id'] }),
      requestValidation({ maxBodySize: '1mb' }),
      attackFilter({ paranoia: 1 }),
    ],
    routes: [{ path: '/*', upstream: 'up' }],
  })
  const address = await gw.listen()
  announceReady(address.port, { headers: { origin } })
} catch (err) {
  startFailed(err)
}
