import { once } from 'node:events'
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http'
import { type AddressInfo, connect, createServer, type Socket } from 'node:net'
import { createGateway, type Gateway, type GatewayOptions } from '@gw/core'

/** A gateway listening on 127.0.0.1 with an ephemeral port. */
export interface RunningGateway {
  readonly gateway: Gateway
  readonly port: number
  readonly url: string
}

/** Creates a gateway and listens on 127.0.0.1:0. */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const gateway = await createGateway(options)
  const { port } = await gateway.listen({ port: 0, host: '127.0.0.1' })
  return { gateway, port, url: `http://127.0.0.1:${port}` }
}

/** One TCP connection a raw server accepted, with every byte it received. */
export interface RawConnection {
  readonly socket: Socket
  readonly received: Buffer[]
  text(): string
}

/** A raw TCP server on 127.0.0.1 (for upstreams that misbehave below HTTP). */
export interface RawServer {
  readonly port: number
  readonly url: string
  readonly connections: RawConnection[]
  close(): Promise<void>
}

/**
 * Starts a raw TCP server. `onData` sees each connection and everything received on it so far, and decides
 * what to write (or whether to stall, reset or close).
 */
export function startRawServer(
  onData: (conn: RawConnection, chunk: Buffer) => void,
  onConnection?: (conn: RawConnection) => void,
): Promise<RawServer> {
  return startRawServerOn(0, onData, onConnection)
}

/** {@link startRawServer} on a given port (to bring a dead target back at the same address). */
export async function startRawServerOn(
  listenPort: number,
  onData: (conn: RawConnection, chunk: Buffer) => void,
  onConnection?: (conn: RawConnection) => void,
): Promise<RawServer> {
  const connections: RawConnection[] = []
  const server = createServer((socket) => {
    const conn: RawConnection = {
      socket,
      received: [],
      text: () => Buffer.concat(conn.received).toString('latin1'),
    }
    connections.push(conn)
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => {
      conn.received.push(chunk)
      onData(conn, chunk)
    })
    onConnection?.(conn)
  })
  server.listen(listenPort, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    connections,
    close: async () => {
      for (const conn of connections) conn.socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** Whether a raw request buffer holds at least one complete header block. */
export function hasHead(conn: RawConnection): boolean {
  return conn.text().includes('\r\n\r\n')
}

/** What a raw client saw: the bytes, whether the server closed, and whether the time limit cut it off. */
export interface RawReply {
  raw: string
  closed: boolean
  timedOut: boolean
}

/**
 * Sends bytes to 127.0.0.1:port and collects the reply until the server closes the connection or `timeout`
 * elapses (then the socket is destroyed and `timedOut` is set). `until` ends early when it returns true.
 */
export function rawExchange(
  port: number,
  payload: string | Buffer | readonly (string | Buffer)[],
  options: { timeout?: number; until?: (raw: string) => boolean; gap?: number } = {},
): Promise<RawReply> {
  const timeout = options.timeout ?? 3000
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let settled = false
    const finish = (closed: boolean, timedOut: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ raw: Buffer.concat(chunks).toString('latin1'), closed, timedOut })
    }
    const timer = setTimeout(() => finish(false, true), timeout)
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      if (options.until?.(Buffer.concat(chunks).toString('latin1'))) finish(false, false)
    })
    socket.on('error', () => finish(true, false))
    socket.on('close', () => finish(true, false))
    const parts = typeof payload === 'string' || Buffer.isBuffer(payload) ? [payload] : [...payload]
    const gap = options.gap ?? 0
    const writeNext = (i: number): void => {
      if (settled || i >= parts.length) return
      socket.write(parts[i]!)
      if (gap > 0) setTimeout(() => writeNext(i + 1), gap)
      else writeNext(i + 1)
    }
    socket.once('connect', () => writeNext(0))
  })
}

/** A parsed HTTP/1.1 response (framing by Content-Length or chunked). */
export interface ParsedResponse {
  status: number
  headers: Record<string, string>
  /** Header names in order, lowercase, with repeats. */
  names: string[]
  body: string
  /** False when the declared framing said more bytes than arrived. */
  complete: boolean
}

/**
 * Splits a raw byte stream into the HTTP/1.1 responses it holds (for pipelining tests). Stops at the first
 * incomplete response (its `complete` is false).
 */
export function parseResponses(raw: string): ParsedResponse[] {
  const out: ParsedResponse[] = []
  let rest = raw
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n')
    if (end < 0) break
    const lines = rest.slice(0, end).split('\r\n')
    const status = Number(lines[0]?.split(' ')[1])
    const headers: Record<string, string> = {}
    const names: string[] = []
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      const name = line.slice(0, colon).toLowerCase()
      names.push(name)
      headers[name] = line.slice(colon + 1).trim()
    }
    rest = rest.slice(end + 4)
    const noBody = status === 204 || status === 304 || (status >= 100 && status < 200)
    if (noBody) {
      out.push({ status, headers, names, body: '', complete: true })
      continue
    }
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      let body = ''
      let complete = false
      for (;;) {
        const lineEnd = rest.indexOf('\r\n')
        if (lineEnd < 0) break
        const size = Number.parseInt(rest.slice(0, lineEnd), 16)
        if (Number.isNaN(size)) break
        if (size === 0) {
          const trailerEnd = rest.indexOf('\r\n\r\n', lineEnd)
          if (trailerEnd < 0) break
          rest = rest.slice(trailerEnd + 4)
          complete = true
          break
        }
        if (rest.length < lineEnd + 2 + size + 2) break
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size)
        rest = rest.slice(lineEnd + 2 + size + 2)
      }
      out.push({ status, headers, names, body, complete })
      if (!complete) break
      continue
    }
    if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length'])
      const body = rest.slice(0, length)
      const complete = body.length === length
      out.push({ status, headers, names, body, complete })
      rest = rest.slice(length)
      if (!complete) break
      continue
    }
    out.push({ status, headers, names, body: rest, complete: true })
    break
  }
  return out
}

/** A request an {@link EchoUpstream} parsed, plus the raw bytes of its connection. */
export interface EchoedRequest {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  rawHeaders: string[]
  body: string
}

/** A node:http upstream that records parsed requests and the raw bytes of every connection. */
export interface EchoUpstream {
  readonly url: string
  readonly port: number
  readonly requests: EchoedRequest[]
  /** Raw bytes received per connection, in order of connection. */
  readonly raw: Buffer[][]
  /** URLs of requests whose connection closed before their body was complete (the client side aborted). */
  readonly aborted: string[]
  /** Replaces the response (default: 200 JSON echo). */
  respond: (req: IncomingMessage, res: ServerResponse, recorded: EchoedRequest) => void
  rawText(): string
  reset(): void
  close(): Promise<void>
}

/** Starts an echo upstream on 127.0.0.1 that records what reaches it, byte for byte. */
export async function startEchoUpstream(): Promise<EchoUpstream> {
  const sockets = new Set<Socket>()
  const upstream: EchoUpstream = {
    url: '',
    port: 0,
    requests: [],
    raw: [],
    aborted: [],
    respond: (_req, res, recorded) => {
      const body = JSON.stringify(recorded)
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    },
    rawText: () => upstream.raw.map((chunks) => Buffer.concat(chunks).toString('latin1')).join(''),
    reset: () => {
      upstream.requests.length = 0
      upstream.raw.length = 0
      upstream.aborted.length = 0
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('close', () => {
      if (!req.complete) upstream.aborted.push(req.url ?? '')
    })
    req.on('end', () => {
      const recorded: EchoedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        rawHeaders: req.rawHeaders,
        body: Buffer.concat(chunks).toString('latin1'),
      }
      upstream.requests.push(recorded)
      upstream.respond(req, res, recorded)
    })
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    const chunks: Buffer[] = []
    upstream.raw.push(chunks)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  Object.assign(upstream, { port, url: `http://127.0.0.1:${port}` })
  return upstream
}

/** Polls `check` every `interval` ms until it is true or `timeout` elapses (bounded wait, no timing assertion). */
export async function waitFor(check: () => boolean, timeout = 5000, interval = 20): Promise<boolean> {
  const deadline = Date.now() + timeout
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, interval))
  }
  return check()
}
