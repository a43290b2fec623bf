import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'

/**
 * A TCP port on 127.0.0.1 that was free a moment ago: for a listener a test starts later (a child process, a
 * metrics port) or for a connection that must be refused. Another process may take it in between; tests on
 * one machine rarely race for it.
 *
 * @example
 * ```ts
 * const deadUpstream = `http://127.0.0.1:${await freePort()}`
 * ```
 */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  server.close()
  await once(server, 'close')
  return port
}
