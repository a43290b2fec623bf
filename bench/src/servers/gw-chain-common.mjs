// gw with the chain scenario's policies (see ../lib/chain.mjs): metrics (@gw/metrics, RED metrics in prom-client,
// /metrics on its own listener), security headers (@gw/security), jwt HS256 (@gw/auth; verified-token cache
// on or off) and a per-ip rate limit (@gw/ratelimit, memory store), all with their defaults otherwise.
import { CHAIN_LIMIT, CHAIN_SECRET, chainHeaders } from '../lib/chain.mjs'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

const dist = (pkg) => new URL(`../../../packages/${pkg}/dist/index.js`, import.meta.url).href

/** Starts the gw chain server, with the jwt policy's verified-token cache on or off. */
export async function startGwChain(cacheEnabled) {
  installWatchdog()
  const { port, host, upstream } = serverEnv()
  const { createGateway } = await importOrExit('@gw/core')
  const { jwt } = await importOrExit(dist('auth'))
  const { rateLimit } = await importOrExit(dist('ratelimit'))
  const { securityHeaders } = await importOrExit(dist('security'))
  const { createPrometheusTelemetry, metrics } = await importOrExit(dist('metrics'))
  try {
    const gw = await createGateway({
      server: { port, host },
      telemetry: createPrometheusTelemetry(),
      upstreams: { up: { url: upstream } },
      policies: [
        metrics({ port: 0, host: '127.0.0.1' }),
        securityHeaders(),
        jwt({ algorithms: ['HS256'], secret: CHAIN_SECRET, cache: { enabled: cacheEnabled } }),
        rateLimit({ limit: CHAIN_LIMIT, window: '1m', key: 'ip' }),
      ],
      routes: [{ id: 'bench', path: '/*', upstream: 'up' }],
    })
    const address = await gw.listen()
    announceReady(address.port, { headers: chainHeaders() })
  } catch (err) {
    startFailed(err)
  }
}
