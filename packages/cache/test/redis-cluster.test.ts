import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Cluster, Redis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'
import { RedisCacheStore } from '../src/redis/index.js'
import { cacheStoreContract } from '../src/store/contract.js'
import { uniquePrefix } from './redis-helpers.js'

const run = promisify(execFile)
const ports = [7301, 7302, 7303]
const servers: ChildProcess[] = []
let dir: string
let cluster: Cluster

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      if (await check()) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gw-cache-cluster-'))
  for (const port of ports) {
    servers.push(
      spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
        ],
        { stdio: 'ignore' },
      ),
    )
  }
  for (const port of ports) {
    await waitFor(async () => {
      const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 })
      probe.on('error', () => {})
      try {
        await probe.connect()
        return (await probe.ping()) === 'PONG'
      } finally {
        probe.disconnect()
      }
    }, `redis on ${port}`)
  }
  await run('redis-cli', [
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ])
  await waitFor(async () => {
    const { stdout } = await run('redis-cli', ['-p', String(ports[0]), 'cluster', 'info'])
    return stdout.includes('cluster_state:ok')
  }, 'cluster_state:ok')
  cluster = new Cluster(ports.map((port) => ({ host: '127.0.0.1', port })))
  await new Promise<void>((resolve, reject) => {
    cluster.once('ready', resolve)
    cluster.once('error', reject)
  })
}, 20_000)

afterAll(async () => {
  cluster?.disconnect()
  for (const server of servers) server.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

cacheStoreContract({
  name: 'redis cluster (3 masters)',
  create: ({ clock }) => new RedisCacheStore(cluster, { prefix: uniquePrefix(), clock, timeout: 2000 }),
})
