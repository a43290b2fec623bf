// gw with the @gw/cache Redis store (REDIS_HOST / REDIS_PORT, default 127.0.0.1:6379) on the catch-all route:
// every hit is one HGETALL round trip to Redis. Keys live under a per-process prefix and expire with their
// TTL (the 300 s default TTL) after the run.
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { createGateway } = await importOrExit('@gw/core')
const { cache } = await importOrExit(new URL('../../../packages/cache/dist/index.js', import.meta.url).href)
const { Redis } = await importOrExit(
  new URL('../../../packages/cache/node_modules/ioredis/built/index.js', import.meta.url).href,
)

const prefix = `gw-bench:cache:${process.pid}:`
const redis = new Redis({
  host: process.env.REDIS_HOST ?? '127.0.0.1',
  port: Number(process.env.REDIS_PORT ?? 6379),
})
process.on('exit', () => redis.disconnect())

try {
  const gw = await createGateway({
    server: { port, host },
    upstreams: { up: { url: upstream } },
    resources: { redis },
    routes: [
      {
        path: '/*',
        upstream: 'up',
        policies: [cache({ store: 'redis', defaultTtl: 300, redis: { prefix } })],
      },
    ],
  })
  const address = await gw.listen()
  announceReady(address.port)
} catch (err) {
  startFailed(err)
}
