import { execFileSync } from 'node:child_process'
import { Redis } from 'ioredis'
import { type RedisServer, startRedisServer } from './redis.js'

/** Starts a 3-master Redis Cluster on loopback ports (no replicas, no persistence) and waits until it serves. */
export async function startCluster(ports: number[]): Promise<{ stop(): Promise<void> }> {
  const servers: RedisServer[] = []
  try {
    for (const port of ports)
      servers.push(
        await startRedisServer(port, [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
        ]),
      )
    execFileSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((p) => `127.0.0.1:${p}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { stdio: 'pipe', timeout: 15_000 },
    )
    const deadline = Date.now() + 15_000
    for (const port of ports) {
      const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 })
      client.on('error', () => {})
      try {
        for (;;) {
          const info = await client.cluster('INFO')
          if (String(info).includes('cluster_state:ok')) break
          if (Date.now() > deadline) throw new Error('cluster did not become ok')
          await new Promise((r) => setTimeout(r, 100))
        }
      } finally {
        client.disconnect()
      }
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.stop()))
    throw error
  }
  return { stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) }
}
