// fastify 5 + @fastify/http-proxy 11 (reply-from over undici), out of the box.
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { default: Fastify } = await importOrExit('fastify')
const { default: httpProxy } = await importOrExit('@fastify/http-proxy')

try {
  const app = Fastify({ logger: false })
  await app.register(httpProxy, { upstream })
  await app.listen({ port, host })
  announceReady(app.server.address().port)
} catch (err) {
  startFailed(err)
}
