import { once } from 'node:events'
import { type AddressInfo, createServer, type Server } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { requireRedis } from './redis.js'

const servers: Server[] = []
const ci = process.env.CI

async function fakeRedis(reply: string): Promise<number> {
  const server = createServer((socket) => socket.once('data', () => socket.end(reply)))
  servers.push(server)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

async function closedPort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

afterEach(async () => {
  if (ci === undefined) delete process.env.CI
  else process.env.CI = ci
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))))
})

describe('requireRedis', () => {
  it('is true when the server answers +PONG', async () => {
    expect(await requireRedis({ port: await fakeRedis('+PONG\r\n') })).toBe(true)
  })

  it('is false outside CI when nothing listens', async () => {
    delete process.env.CI
    expect(await requireRedis({ port: await closedPort() })).toBe(false)
  })

  it('is false outside CI when the server answers something else', async () => {
    delete process.env.CI
    expect(await requireRedis({ port: await fakeRedis('-NOAUTH Authentication required.\r\n') })).toBe(false)
  })

  it('throws under CI=true when nothing listens', async () => {
    process.env.CI = 'true'
    const port = await closedPort()
    await expect(requireRedis({ port })).rejects.toThrow(
      `Redis is required under CI=true at 127.0.0.1:${port}`,
    )
  })
})
