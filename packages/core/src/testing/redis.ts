import { connect } from 'node:net'

/** Options of {@link requireRedis}. */
export interface RequireRedisOptions {
  /** Redis host (default `REDIS_HOST` or 127.0.0.1). */
  host?: string
  /** Redis port (default `REDIS_PORT` or 6379). */
  port?: number
  /** How long the probe waits for `+PONG` (default 1000 ms). */
  timeout?: number
}

/**
 * Whether a Redis server answers `PING` (one raw-socket round trip, no client library). Tests use it to decide
 * between running and skipping their Redis cases: outside CI a missing Redis returns `false` (skip); under
 * `CI=true` it throws, so a CI run without Redis fails instead of silently skipping.
 *
 * @example
 * ```ts
 * import { requireRedis } from '@gw/core/testing'
 *
 * const available = await requireRedis()
 * describe.skipIf(!available)('with a real Redis', () => {
 *   // ...
 * })
 * ```
 */
export async function requireRedis(options: RequireRedisOptions = {}): Promise<boolean> {
  const host = options.host ?? process.env.REDIS_HOST ?? '127.0.0.1'
  const port = options.port ?? Number(process.env.REDIS_PORT ?? 6379)
  const timeout = options.timeout ?? 1000
  const reply = await new Promise<string | Error>((resolve) => {
    const socket = connect({ host, port })
    let data = ''
    const done = (result: string | Error): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(result)
    }
    const timer = setTimeout(() => done(new Error(`no answer within ${timeout} ms`)), timeout)
    socket.setEncoding('utf8')
    socket.on('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk: string) => {
      data += chunk
      if (data.includes('\r\n')) done(data)
    })
    socket.on('error', (error) => done(error))
    socket.on('close', () => done(new Error(`connection closed after '${data}'`)))
  })
  if (typeof reply === 'string' && reply.startsWith('+PONG')) return true
  if (process.env.CI === 'true') {
    const why = reply instanceof Error ? reply.message : `unexpected reply '${reply.trim()}'`
    throw new Error(`Redis is required under CI=true at ${host}:${port} (${why})`, {
      cause: reply instanceof Error ? reply : undefined,
    })
  }
  return false
}
