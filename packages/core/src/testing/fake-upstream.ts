import { once } from 'node:events'
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

/** A request the fake upstream received. */
export interface RecordedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
  rawHeaders: string[]
  body: Buffer
}

/** Handles a request on the fake upstream (after its body was read). */
export type FakeUpstreamHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  recorded: RecordedRequest,
) => void | Promise<void>

/** A real HTTP server on 127.0.0.1 for integration tests. */
export interface FakeUpstream {
  readonly url: string
  readonly port: number
  /** Requests received, in order. */
  readonly requests: RecordedRequest[]
  /** Number of TCP connections accepted (keep-alive reuse shows as fewer connections than requests). */
  readonly connections: number
  /** Replaces the handler. */
  setHandler(handler: FakeUpstreamHandler): void
  close(): Promise<void>
}

/** Options of {@link startFakeUpstream}. */
export interface FakeUpstreamOptions {
  /** Buffer request bodies into `requests[i].body` (default true; turn off for huge streaming tests). */
  recordBodies?: boolean
  /** Port on 127.0.0.1 (default 0: ephemeral); a fixed one brings a "dead" upstream back at its old address. */
  port?: number
}

const echo: FakeUpstreamHandler = (_req, res, recorded) => {
  const body = JSON.stringify({
    method: recorded.method,
    url: recorded.url,
    headers: recorded.headers,
    bodyLength: recorded.body.length,
  })
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/**
 * A handler for a stand-in service whose answer shows what it was asked for: 200 JSON `{ ok: true, path }`
 * (`path` with the query string).
 *
 * @example
 * ```ts
 * const users = await startFakeUpstream(answerPath)
 * // GET /users/1?x=1 -> {"ok":true,"path":"/users/1?x=1"}
 * ```
 */
export const answerPath: FakeUpstreamHandler = (req, res) => {
  const body = JSON.stringify({ ok: true, path: req.url })
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/**
 * Starts a real upstream on an ephemeral loopback port that records what it receives; by default it echoes
 * the request as JSON.
 *
 * @example
 * ```ts
 * const upstream = await startFakeUpstream((req, res) => res.end('hi'))
 * const gw = await createGateway({ upstreams: { up: { url: upstream.url } }, routes: [{ path: '/*', upstream: 'up' }] })
 * afterAll(() => upstream.close())
 * ```
 */
export async function startFakeUpstream(
  handler: FakeUpstreamHandler = echo,
  options: FakeUpstreamOptions = {},
): Promise<FakeUpstream> {
  let current = handler
  let connections = 0
  const requests: RecordedRequest[] = []
  const sockets = new Set<Socket>()
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = []
    if (options.recordBodies !== false) for await (const chunk of req) chunks.push(chunk as Buffer)
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body: Buffer.concat(chunks),
    }
    requests.push(recorded)
    try {
      await current(req, res, recorded)
    } catch {
      if (!res.headersSent) res.writeHead(500)
      res.end()
    }
  })
  server.on('connection', (socket: Socket) => {
    connections++
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  server.listen(options.port ?? 0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    get connections() {
      return connections
    },
    setHandler(next) {
      current = next
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}
