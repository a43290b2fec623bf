import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A tiny toolkit for the bundled demo services: a method + path router, JSON and problem+json replies, and a
 * bounded JSON body reader. Demo services stand in for real microservices; they are deliberately plain
 * node:http so the gateway in front of them is the only interesting part.
 */

/** Path parameters of a matched demo route (`/users/:id` -> `{ id }`). */
export type Params = Record<string, string>

/** What a demo route handler receives. */
export interface DemoRequest {
  readonly req: IncomingMessage
  readonly res: ServerResponse
  readonly params: Params
  readonly query: URLSearchParams
}

/** A demo route: method, pattern with `:param` segments, handler. */
export interface DemoRoute {
  readonly method: string
  readonly pattern: string
  readonly handle: (request: DemoRequest) => void | Promise<void>
}

/** A started demo service. */
export interface DemoService {
  readonly name: string
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  close(): Promise<void>
}

/** A validation problem with one field of a request body. */
export interface FieldError {
  readonly field: string
  readonly message: string
}

const MAX_BODY_BYTES = 64 * 1024

/** Sends a JSON document. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  })
  res.end(text)
}

/** Sends an RFC 9457 problem document (`type: about:blank`, title = the status phrase). */
export function sendProblem(
  res: ServerResponse,
  status: number,
  detail: string,
  extensions: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify({
    type: 'about:blank',
    title: STATUS_CODES[status] ?? 'Error',
    status,
    detail,
    ...extensions,
  })
  res.writeHead(status, {
    'content-type': 'application/problem+json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  })
  res.end(text)
}

/** Sends a 422 listing every invalid field. */
export function sendValidationProblem(res: ServerResponse, errors: readonly FieldError[]): void {
  sendProblem(res, 422, 'The request body is invalid', { errors })
}

/**
 * Reads a JSON object body (at most 64 KiB). On failure it has already replied (415, 413 or 400) and returns
 * `undefined`.
 */
export async function readJsonObject(
  req: IncomingMessage,
  res: ServerResponse,
): Promise<Record<string, unknown> | undefined> {
  const type = req.headers['content-type'] ?? ''
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    sendProblem(res, 415, "Send the body as JSON with 'content-type: application/json'")
    return undefined
  }
  const raw = await collectBody(req)
  if (raw === 'aborted') {
    res.destroy()
    return undefined
  }
  if (raw === 'too-large') {
    sendProblem(res, 413, `The request body exceeds ${MAX_BODY_BYTES} bytes`, {}, { connection: 'close' })
    return undefined
  }
  let value: unknown
  try {
    value = JSON.parse(raw.toString('utf8'))
  } catch {
    sendProblem(res, 400, 'The request body is not valid JSON')
    return undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    sendProblem(res, 400, 'The request body must be a JSON object')
    return undefined
  }
  return value as Record<string, unknown>
}

/** Buffers a request body up to the limit; past it the rest is discarded unread. */
function collectBody(req: IncomingMessage): Promise<Buffer | 'too-large' | 'aborted'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData)
        req.resume()
        resolve('too-large')
        return
      }
      chunks.push(chunk)
    }
    req.on('data', onData)
    req.once('end', () => resolve(Buffer.concat(chunks)))
    req.once('error', () => resolve('aborted'))
    req.once('close', () => resolve('aborted')) // after 'end' this is a no-op: the promise is settled
  })
}

/** Parses a positive integer id from a path parameter; anything else is `undefined` (-> 404). */
export function parseId(value: string | undefined): number | undefined {
  if (value === undefined || !/^[1-9]\d{0,9}$/.test(value)) return undefined
  return Number(value)
}

/**
 * The `GET /<things>/:id` route of a collection: the item as JSON, or a 404 problem naming it.
 *
 * @example
 * ```ts
 * getByIdRoute('/users/:id', users, 'User')
 * ```
 */
export function getByIdRoute<T extends { id: number }>(
  pattern: string,
  items: readonly T[],
  noun: string,
  headers: Record<string, string> = {},
): DemoRoute {
  return {
    method: 'GET',
    pattern,
    handle({ res, params }) {
      const id = parseId(params.id)
      const item = items.find((candidate) => candidate.id === id)
      if (item === undefined) return sendProblem(res, 404, `${noun} ${params.id} not found`)
      sendJson(res, 200, item, headers)
    },
  }
}

/** A page of a list, from `?limit=` (1..100, default 20) and `?offset=` (default 0). */
export function paginate<T>(
  items: readonly T[],
  query: URLSearchParams,
): { items: T[]; total: number; limit: number; offset: number } {
  const limit = clampInt(query.get('limit'), 20, 1, 100)
  const offset = clampInt(query.get('offset'), 0, 0, Number.MAX_SAFE_INTEGER)
  return { items: items.slice(offset, offset + limit), total: items.length, limit, offset }
}

function clampInt(raw: string | null, fallback: number, min: number, max: number): number {
  if (raw === null || !/^\d+$/.test(raw)) return fallback
  return Math.min(max, Math.max(min, Number(raw)))
}

interface CompiledDemoRoute extends DemoRoute {
  readonly segments: readonly string[]
}

function matchSegments(segments: readonly string[], parts: readonly string[]): Params | undefined {
  if (segments.length !== parts.length) return undefined
  const params: Params = {}
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!
    const part = parts[i]!
    if (segment.startsWith(':')) {
      if (part === '') return undefined
      params[segment.slice(1)] = decodeURIComponent(part)
    } else if (segment !== part) return undefined
  }
  return params
}

/**
 * Starts a demo service on `host:port` (default 127.0.0.1, an ephemeral port). Unknown paths get a 404
 * problem, known paths with another method a 405 with `Allow`, handler failures a 500 problem.
 */
export async function startDemoService(
  name: string,
  routes: readonly DemoRoute[],
  options: { host?: string; port?: number } = {},
): Promise<DemoService> {
  const compiled: CompiledDemoRoute[] = routes.map((r) => ({ ...r, segments: r.pattern.split('/') }))
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://demo.invalid')
    const parts = url.pathname.split('/')
    const allowed: string[] = []
    for (const route of compiled) {
      let params: Params | undefined
      try {
        params = matchSegments(route.segments, parts)
      } catch {
        return sendProblem(res, 400, 'Malformed percent-encoding in the path')
      }
      if (params === undefined) continue
      if (route.method !== req.method) {
        allowed.push(route.method)
        continue
      }
      Promise.resolve(route.handle({ req, res, params, query: url.searchParams })).catch((error: unknown) => {
        process.emitWarning(`demo service ${name}: ${String(error)}`)
        if (!res.headersSent) sendProblem(res, 500, 'Unexpected error in the demo service')
        else res.destroy()
      })
      return
    }
    if (allowed.length > 0)
      return sendProblem(res, 405, `${req.method} is not supported here`, {}, { allow: allowed.join(', ') })
    sendProblem(res, 404, `No resource at ${url.pathname}`)
  })
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1')
  await once(server, 'listening')
  const address = server.address() as AddressInfo
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
  let closing: Promise<void> | undefined
  return {
    name,
    url: `http://${host}:${address.port}`,
    port: address.port,
    close() {
      closing ??= (async () => {
        const closed = once(server, 'close')
        server.close()
        server.closeAllConnections()
        await closed
      })()
      return closing
    },
  }
}

/** Validation helpers shared by the demo services. */
export const check = {
  string(body: Record<string, unknown>, field: string, errors: FieldError[], max = 200): string | undefined {
    const value = body[field]
    if (typeof value !== 'string' || value.trim() === '') {
      errors.push({ field, message: 'required, a non-empty string' })
      return undefined
    }
    if (value.length > max) {
      errors.push({ field, message: `at most ${max} characters` })
      return undefined
    }
    return value.trim()
  },
  integer(value: unknown, field: string, errors: FieldError[], min: number, max: number): number | undefined {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      errors.push({ field, message: `required, an integer from ${min} to ${max}` })
      return undefined
    }
    return value
  },
}
