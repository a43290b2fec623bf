import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, requireRedis } from '@gw/core/testing'

export { freePort }

/** A private redis-server on a loopback port, without persistence; never the shared one on 6379. */
export interface RedisServer {
  readonly port: number
  readonly process: ChildProcess
  /** SIGKILL (a crash, not a shutdown) and wait for the exit. */
  kill(): Promise<void>
}

/** Starts `redis-server --port <port>` and waits (bounded) until it answers PING. */
export async function startRedisServer(port: number): Promise<RedisServer> {
  if (port === 6379) throw new Error('tests must not take over the shared Redis port')
  const dir = mkdtempSync(join(tmpdir(), `gw-reliability-redis-${port}-`))
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: 'ignore' },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const deadline = Date.now() + 5000
  while (!(await requireRedis({ port, host: '127.0.0.1', timeout: 200 }).catch(() => false))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL')
      rmSync(dir, { recursive: true, force: true })
      throw new Error(`redis-server on ${port} did not start`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return {
    port,
    process: child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL')
        await exited
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A TCP proxy that delays every chunk in both directions by `delay` ms (changeable at runtime). */
export interface DelayProxy {
  readonly port: number
  delay: number
  close(): Promise<void>
}

/** Starts a delaying TCP proxy on 127.0.0.1 in front of `targetPort`. */
export async function startDelayProxy(targetPort: number, delay: number): Promise<DelayProxy> {
  const sockets = new Set<Socket>()
  const proxy: DelayProxy = {
    port: 0,
    delay,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  const pipeDelayed = (from: Socket, to: Socket): void => {
    // In order, also when the delay drops: a chunk never overtakes one still waiting (that would splice replies).
    let last = 0
    from.on('data', (chunk: Buffer) => {
      const now = performance.now()
      last = Math.max(now + proxy.delay, last)
      if (last <= now) to.write(chunk)
      else setTimeout(() => to.writable && to.write(chunk), last - now)
    })
    from.on('close', () => setTimeout(() => to.destroy(), Math.max(0, last - performance.now())))
    from.on('error', () => to.destroy())
  }
  const server: Server = createServer((client) => {
    const upstream = connect(targetPort, '127.0.0.1')
    sockets.add(client).add(upstream)
    client.on('close', () => sockets.delete(client))
    upstream.on('close', () => sockets.delete(upstream))
    pipeDelayed(client, upstream)
    pipeDelayed(upstream, client)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  Object.assign(proxy, { port: (server.address() as AddressInfo).port })
  return proxy
}
