// The peer of transform-compress.mjs: fastify 5 + @fastify/compress (its defaults: threshold 1024, brotli
// quality 4, zlib default level) answering the same 16 KiB JSON body with the same Accept-Encoding.
// Needs @fastify/compress in bench/package.json; without it the harness skips this server (import failure).
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'
import { JSON_16K } from './transform-json16k.mjs'

installWatchdog()
const { port, host } = serverEnv()
const { default: Fastify } = await importOrExit('fastify')
const { default: fastifyCompress } = await importOrExit('@fastify/compress')

try {
  const app = Fastify({ logger: false })
  await app.register(fastifyCompress, { threshold: 1024 })
  app.get('/*', (_req, reply) => {
    reply.header('content-type', 'application/json').send(JSON_16K)
  })
  await app.listen({ port, host })
  announceReady(app.server.address().port, {
    headers: { 'accept-encoding': process.env.BENCH_ACCEPT_ENCODING ?? 'gzip' },
  })
} catch (err) {
  startFailed(err)
}
