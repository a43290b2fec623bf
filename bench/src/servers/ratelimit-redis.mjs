// gw + rate-limit with the Redis store (REDIS_HOST / REDIS_PORT, default 127.0.0.1:6379): the same limit as
// ratelimit-memory.mjs, decided by one Lua script call per request. Keys live under a per-process prefix and
// expire within a minute. Check one command per request with `redis-cli INFO commandstats` (evalsha calls).
import { createRequire } from 'node:module'
import { announceReady, importOrExit, installWatchdog, serverEnv, startFailed } from './common.mjs'

installWatchdog()
const { port, host, upstream } = serverEnv()
const { createGateway } = await importOrExit('@gw/core')
const { rateLimit } = await importOrExit(
  new URL('../../../packages/ratelimit/dist/index.js', import.meta.url).href,
)
await importOrExit(new URL('../../../packages/ratelimit/dist/redis/index.js', import.meta.url).href)
const requireFromRatelimit = createRequire(
  new URL('../../../packages/ratelimit/package.json', import.meta.url),
)

try {
  const { Redis } = requireFromRatelimit('ioredis')
  const redis = new Redis({
    host: process.env.REDIS_HOST ?? '127.0.0.1',
    port: Number(process.env.REDIS_PORT ?? 6379),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  })
  redis.on('error', () => {})
  await new Promise((resolve) => redis.once('ready', resolve))
  const gw = await createGateway({
    server: { port, host },
    upstreams: { up: { url: upstream } },
    resources: { redis },
    policies: [
      rateLimit({
        limit: 1_000_000_000,
        window: '1m',
        key: 'ip',
        store: { type: 'redis', prefix: `gw-bench:ratelimit:${process.pid}:` },
        // A loaded benchmark box can be slower than the 50 ms default; a timeout would fail open and skip Redis.
        timeout: '1s',
      }),
    ],
    routes: [{ path: '/*', upstream: 'up' }],
  })
  const address = await gw.listen()
  announceReady(address.port)
} catch (err) {
  startFailed(err)
}
