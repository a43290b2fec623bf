import { once } from 'node:events'
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type Server,
  type ServerResponse,
} from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { pipeline, Readable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { systemClock } from '../src/clock.js'
import { type GatewayError, renderProblem, toGatewayError } from '../src/errors.js'
import { Exchange, GwRequest, UNMATCHED_ROUTE } from '../src/exchange/exchange.js'
import { type Logger, noopLogger } from '../src/logger.js'
import type { GwResponse } from '../src/policy/types.js'
import type { Upstream } from '../src/upstream/types.js'

/** A node:http server on an ephemeral loopback port that counts connections and tracks sockets. */
export interface TestServer {
  readonly server: Server
  readonly url: string
  readonly port: number
  readonly connections: number
  close(): Promise<void>
}

/** Starts a node:http server on 127.0.0.1:0. */
export async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
  onConnection?: (socket: Socket, index: number) => void,
): Promise<TestServer> {
  const server = createServer(handler)
  const sockets = new Set<Socket>()
  let connections = 0
  server.on('connection', (socket: Socket) => {
    const index = connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    onConnection?.(socket, index)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    port,
    get connections() {
      return connections
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** A front server that builds an Exchange per request, calls `upstream.forward` and pipes the result. */
export interface Front extends TestServer {
  readonly exchanges: Exchange[]
  /** Responses `forward` resolved with (headers as returned, before node adds its own). */
  readonly responses: GwResponse[]
  /** Errors `forward` rejected with. */
  readonly failures: GatewayError[]
  /** Errors of response bodies while piping to the client. */
  readonly bodyErrors: Error[]
  /** Resolves once `forward` has settled `count` times. */
  settled(count: number): Promise<void>
}

/** Starts a front server for `upstream` (the realistic shape of the gateway's proxy terminal). */
export async function startFront(upstream: Upstream, log: Logger = noopLogger): Promise<Front> {
  const exchanges: Exchange[] = []
  const responses: GwResponse[] = []
  const failures: GatewayError[] = []
  const bodyErrors: Error[] = []
  let done = 0
  const waiters: { count: number; resolve: () => void }[] = []
  const settle = (): void => {
    done++
    for (const w of waiters.splice(0))
      if (done >= w.count) w.resolve()
      else waiters.push(w)
  }
  let seq = 0
  const front = await startServer((req, res) => {
    const request = new GwRequest({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: req,
      ip: req.socket.remoteAddress ?? '',
      protocol: 'http',
      host: req.headers.host ?? '',
    })
    const ex = new Exchange({
      id: `req-${++seq}`,
      request,
      route: UNMATCHED_ROUTE,
      upstreamPath: request.url,
      clock: systemClock,
      log,
    })
    exchanges.push(ex)
    res.on('close', () => {
      if (!res.writableFinished) ex.abort()
    })
    upstream.forward(ex).then(
      (response) => {
        responses.push({ ...response, headers: { ...response.headers } })
        settle()
        res.writeHead(response.status, response.headers as OutgoingHttpHeaders)
        if (response.body instanceof Readable) {
          pipeline(response.body, res, (error) => {
            if (error) bodyErrors.push(error)
          })
        } else {
          res.end(response.body ?? undefined)
        }
      },
      (error: unknown) => {
        const gwError = toGatewayError(error)
        failures.push(gwError)
        settle()
        if (res.destroyed) return
        const problem = renderProblem(gwError, ex.id)
        res.writeHead(problem.status, { ...problem.headers, 'x-error-code': gwError.code })
        res.end(problem.body)
      },
    )
  })
  return {
    server: front.server,
    url: front.url,
    port: front.port,
    get connections() {
      return front.connections
    },
    close: () => front.close(),
    exchanges,
    responses,
    failures,
    bodyErrors,
    settled: (count: number) =>
      done >= count ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ count, resolve })),
  }
}

/** A client response, body buffered. */
export interface ClientResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** Options of {@link send}. */
export interface SendOptions {
  method?: string
  headers?: OutgoingHttpHeaders
  body?: string | Readable
}

/** Sends one request without keep-alive and buffers the response. */
export function send(url: string, options: SendOptions = {}): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString(),
          }),
        )
      },
    )
    req.on('error', reject)
    if (options.body instanceof Readable) options.body.pipe(req)
    else req.end(options.body)
  })
}

/** A readable of `total` bytes made by repeating one shared chunk (allocates nothing per chunk). */
export function generated(total: number, chunkSize = 64 * 1024): Readable {
  const chunk = Buffer.alloc(chunkSize, 97)
  let left = total
  return new Readable({
    read() {
      if (left <= 0) {
        this.push(null)
        return
      }
      const n = Math.min(left, chunkSize)
      left -= n
      this.push(n === chunkSize ? chunk : chunk.subarray(0, n))
    },
  })
}

let collect: (() => void) | undefined

/** A full garbage collection (node's `gc`, enabled at runtime), so that samples measure live memory. */
function fullGc(): void {
  if (collect === undefined) {
    setFlagsFromString('--expose-gc')
    collect = runInNewContext('gc') as () => void
  }
  collect()
}

/**
 * Samples memory every 50 ms until stopped, collecting garbage before each sample so that unreclaimed socket
 * buffers do not count; returns the peak growth of RSS and of live JS + buffer memory, in bytes.
 */
export function watchMemory(): { stop(): { rss: number; live: number } } {
  const live = (): number => {
    const m = process.memoryUsage()
    return m.heapUsed + m.arrayBuffers
  }
  fullGc()
  const baseRss = process.memoryUsage.rss()
  const baseLive = live()
  let peakRss = baseRss
  let peakLive = baseLive
  const sample = (): void => {
    fullGc()
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
    peakLive = Math.max(peakLive, live())
  }
  const timer = setInterval(sample, 50)
  return {
    stop() {
      clearInterval(timer)
      sample()
      return { rss: peakRss - baseRss, live: peakLive - baseLive }
    },
  }
}

/** Resolves after `ms`. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** A logger that records every call, for asserting what was logged. */
export function captureLogger(): Logger & {
  records: { level: string; obj: unknown; msg: string | undefined }[]
} {
  const records: { level: string; obj: unknown; msg: string | undefined }[] = []
  const at =
    (level: string) =>
    (obj: unknown, msg?: string): void => {
      records.push({ level, obj, msg })
    }
  const log = {
    records,
    fatal: at('fatal'),
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    trace: at('trace'),
    child: () => log,
  }
  return log
}
