import { once } from 'node:events'
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http'
import { createServer } from 'node:net'
import { Writable } from 'node:stream'

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** A log destination that keeps every JSON line, parsed. */
export class LogCapture extends Writable {
  readonly lines: Record<string, unknown>[] = []

  override _write(
    chunk: Buffer | string,
    _encoding: BufferEncoding,
    done: (error?: Error | null) => void,
  ): void {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>)
    }
    done()
  }

  /** Access-log lines (`msg: "request completed"`). */
  access(): Record<string, unknown>[] {
    return this.lines.filter((line) => line.msg === 'request completed')
  }
}

/** What a {@link RecordingService} saw of one request. */
export interface SeenRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
}

/** A service that answers every request with JSON `{ ok, path }` and records what it received. */
export interface RecordingService {
  readonly url: string
  readonly port: number
  readonly seen: SeenRequest[]
  close(): Promise<void>
}

/** Starts a {@link RecordingService} on 127.0.0.1 (`port` 0: ephemeral). */
export async function startRecordingService(port = 0): Promise<RecordingService> {
  const seen: SeenRequest[] = []
  const server: Server = createHttpServer((req, res) => {
    seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers })
    req.resume()
    req.on('end', () => {
      const body = JSON.stringify({ ok: true, path: req.url })
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(body)
    })
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  const { port: bound } = server.address() as { port: number }
  return {
    url: `http://127.0.0.1:${bound}`,
    port: bound,
    seen,
    async close() {
      const closed = once(server, 'close')
      server.close()
      server.closeAllConnections()
      await closed
    },
  }
}

/** Polls `check` every 20 ms until it returns a value, at most `timeoutMs`; then throws with `what`. */
export async function eventually<T>(what: string, check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (let i = 0; i < Math.ceil(timeoutMs / 20) + 1; i++) {
    const value = check()
    if (value !== undefined) return value
    if (Date.now() > deadline) break
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** The JSON lines of a process's output (other lines skipped). */
export function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>]
      } catch {
        return []
      }
    })
}
