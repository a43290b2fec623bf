// The chain scenario on fastify 5 with its usual plugins, defaults otherwise: @fastify/helmet (security
// headers), fastify-metrics (prom-client RED metrics, /metrics), @fastify/jwt (request.jwtVerify() in an
// onRequest hook), @fastify/rate-limit (per ip, memory store) and @fastify/http-proxy in front of the upstream.
import { CHAIN_LIMIT, CHAIN_SECRET, chainHeaders } from '../lib/chain.mjs'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { default: Fastify } = await importOrExit('fastify')
const { default: httpProxy } = await importOrExit('@fastify/http-proxy')
const { default: helmet } = await importOrExit('@fastify/helmet')
const { default: fastifyJwt } = await importOrExit('@fastify/jwt')
const { default: rateLimit } = await importOrExit('@fastify/rate-limit')
const { default: metricsPlugin } = await importOrExit('fastify-metrics')

try {
  const app = Fastify({ logger: false })
  await app.register(metricsPlugin, { endpoint: '/metrics' })
  await app.register(helmet)
  await app.register(fastifyJwt, { secret: CHAIN_SECRET })
  app.addHook('onRequest', (request) => request.jwtVerify())
  await app.register(rateLimit, { max: CHAIN_LIMIT, timeWindow: '1 minute' })
  await app.register(httpProxy, { upstream })
  await app.listen({ port, host })
  announceReady(app.server.address().port, { headers: chainHeaders() })
} catch (err) {
  startFailed(err)
}
