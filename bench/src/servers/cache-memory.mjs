// gw with the @gw/cache memory store on the catch-all route: after the first request every
// `GET /bench/hello?x=1` is a cache hit (the bench upstream sends no freshness information, so the operator
// opt-in default TTL, CACHE_TTL_SECONDS, makes its responses cacheable).
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { createGateway } = await importOrExit('@gw/core')
const { cache } = await importOrExit(new URL('../../../packages/cache/dist/index.js', import.meta.url).href)

try {
  const gw = await createGateway({
    server: { port, host },
    upstreams: { up: { url: upstream } },
    routes: [{ path: '/*', upstream: 'up', policies: [cache({ store: 'memory', defaultTtl: 300 })] }],
  })
  const address = await gw.listen()
  announceReady(address.port)
} catch (err) {
  startFailed(err)
}
