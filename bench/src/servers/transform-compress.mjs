// gw + @gw/transform compress (defaults: threshold 1024, gzip level 6, brotli quality 4) on a 16 KiB JSON body.
// The body is a local route reply, so the case measures compression, not the proxy. The load generator
// sends `Accept-Encoding: gzip` (BENCH_ACCEPT_ENCODING overrides it, e.g. `br`); with TRANSFORM_COMPRESS=off
// the same gateway runs without the policy, as the baseline.
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'
import { JSON_16K } from './transform-json16k.mjs'

installWatchdog()
const { port, host } = serverEnv()
const { createGateway } = await importOrExit('@gw/core')
const { compress } = await importOrExit(
  new URL('../../../packages/transform/dist/index.js', import.meta.url).href,
)

const body = JSON_16K

try {
  const gw = await createGateway({
    server: { port, host },
    policies: process.env.TRANSFORM_COMPRESS === 'off' ? [] : [compress()],
    routes: [
      {
        path: '/*',
        handler: () => ({
          status: 200,
          headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
          body,
        }),
      },
    ],
  })
  const address = await gw.listen()
  announceReady(address.port, { headers: { 'accept-encoding': process.env.BENCH_ACCEPT_ENCODING ?? 'gzip' } })
} catch (err) {
  startFailed(err)
}
