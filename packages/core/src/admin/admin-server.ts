import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { coreErrors, GatewayError, renderProblem, toGatewayError } from '../errors.js'
import type { Logger } from '../logger.js'
import type { AdminHandler, AdminReply, AdminRequest } from '../policy/admin.js'
import type { ManagedUpstream, Upstream } from '../upstream/types.js'
import { AdminMountTable, BUILT_IN_ADMIN_ENDPOINTS } from './mounts.js'
import { redactConfig } from './redact.js'
import type { AdminConfig } from './schema.js'
import type { ReloadResult, RouteSummary } from './types.js'

/** What the admin listener reads from the gateway, always the current pipeline. */
export interface AdminContext {
  readonly log: Logger
  routes(): readonly RouteSummary[]
  upstreams(): ReadonlyMap<string, Upstream>
  /** The effective options (redacted before they are sent). */
  config(): unknown
  /** The current pipeline's mounts (policies mount there at setup). */
  mounts(): AdminMountTable | undefined
  /** Runs the configured reload source; absent: `POST /reload` answers 409. */
  reload: (() => Promise<ReloadResult>) | undefined
}

/** The running admin listener. */
export interface AdminServer {
  /** Mounts that live as long as the gateway (app code: `gateway.admin.mount`). */
  readonly persistent: AdminMountTable
  /** `http://host:port` once listening. */
  readonly url: string
  listen(): Promise<AddressInfo>
  close(): Promise<void>
}

const BODY_LIMIT = 1_048_576
const CONFIG_CODES = new Set(['GW_ERR_CONFIG', 'GW_ERR_POLICY_ORDER', 'GW_ERR_MISSING_RESOURCE'])

/**
 * Creates the admin listener: a plain node:http server, separate from the gateway's (user policies never
 * run here), that authenticates every request with the admin key in constant time and serves the
 * built-in endpoints plus mounted ones as JSON; errors are problem+json (401, 404, 405, 409, 413, 422).
 *
 * @example
 * ```ts
 * const admin = createAdminServer({ port: 9901, host: '127.0.0.1', apiKey }, context)
 * await admin.listen()
 * ```
 */
export function createAdminServer(config: AdminConfig, ctx: AdminContext): AdminServer {
  const expected = digest(config.apiKey)
  const persistent = new AdminMountTable(
    (key) => BUILT_IN_ADMIN_ENDPOINTS.includes(key) || (ctx.mounts()?.has(key) ?? false),
  )
  const builtIns: Record<string, AdminHandler> = {
    'GET /routes': () => ({ body: { routes: ctx.routes() } }),
    'GET /upstreams': () => ({
      body: { upstreams: [...ctx.upstreams()].map(([name, upstream]) => upstreamSnapshot(name, upstream)) },
    }),
    'GET /config': () => ({ body: redactConfig(ctx.config()) }),
    'POST /reload': async () => {
      if (ctx.reload === undefined)
        throw coreErrors.reloadUnavailable.create(
          'This gateway has no reload source (start it with gw start)',
        )
      try {
        return { body: { reloaded: true, ...(await ctx.reload()) } }
      } catch (error) {
        if (error instanceof GatewayError && CONFIG_CODES.has(error.code)) {
          const issues = error.extensions?.issues ?? [{ path: '(config)', message: error.message }]
          throw coreErrors.reloadInvalid.create(error.message, { extensions: { issues } })
        }
        throw error
      }
    },
  }

  const server = createServer({ requireHostHeader: false, headersTimeout: 10_000, requestTimeout: 30_000 })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const id = randomUUID()
    serve(req, res, id).catch((error: unknown) => send(res, id, problem(error, ctx.log, id)))
  })

  async function serve(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const raw = req.url ?? '/'
    const method = req.method ?? 'GET'
    if (!authorized(req, expected)) {
      req.resume()
      ctx.log.warn(
        { method, url: raw.slice(0, 200), ip: req.socket.remoteAddress },
        'admin request refused: missing or wrong key',
      )
      throw coreErrors.adminUnauthorized.create(
        'Present the admin key as Authorization: Bearer <key> or x-admin-key',
        { headers: { 'www-authenticate': 'Bearer realm="gw-admin"' } },
      )
    }
    if (raw.charCodeAt(0) !== 47 || raw.startsWith('//')) {
      req.resume()
      throw coreErrors.badRequest.create('Admin request targets are paths')
    }
    const target = new URL(raw, 'http://admin.invalid')
    const path = target.pathname
    const key = `${method} ${path}`
    const mounts = ctx.mounts()
    const handler = builtIns[key] ?? persistent.find(method, path) ?? mounts?.find(method, path)
    if (handler === undefined) {
      req.resume()
      const allowed = [
        ...BUILT_IN_ADMIN_ENDPOINTS.filter((k) => k.endsWith(` ${path}`)).map((k) => k.split(' ')[0]!),
        ...persistent.methods(path),
        ...(mounts?.methods(path) ?? []),
      ]
      if (allowed.length === 0) throw coreErrors.notFound.create(`No admin endpoint ${path}`)
      throw coreErrors.methodNotAllowed.create(`${method} is not allowed on ${path}`, {
        headers: { allow: allowed.join(', ') },
      })
    }
    const log = ctx.log.child({ requestId: id })
    const request: AdminRequest = {
      method,
      path,
      query: target.searchParams,
      headers: req.headers,
      id,
      log,
      json: () => readJson(req),
    }
    const reply = await handler(request)
    req.resume()
    log.info({ method, path, status: reply.status ?? 200 }, 'admin request')
    send(res, id, reply)
  }

  let url = ''
  return {
    persistent,
    get url() {
      return url
    },
    async listen() {
      server.listen(config.port, config.host)
      await once(server, 'listening')
      const address = server.address() as AddressInfo
      url = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
      ctx.log.info({ url }, 'admin listener started')
      return address
    },
    async close() {
      if (!server.listening) return
      const closed = once(server, 'close')
      server.close()
      server.closeIdleConnections()
      server.closeAllConnections()
      await closed
    },
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function authorized(req: IncomingMessage, expected: Buffer): boolean {
  const header = req.headers.authorization
  const bearer =
    typeof header === 'string' && /^bearer\s+/i.test(header)
      ? header.replace(/^bearer\s+/i, '').trim()
      : undefined
  const raw = req.headers['x-admin-key']
  const direct = typeof raw === 'string' ? raw : undefined
  const viaBearer = bearer !== undefined && timingSafeEqual(digest(bearer), expected)
  const viaHeader = direct !== undefined && timingSafeEqual(digest(direct), expected)
  return viaBearer || viaHeader
}

function upstreamSnapshot(name: string, upstream: Upstream): Record<string, unknown> {
  if (!('targets' in upstream) || typeof (upstream as ManagedUpstream).targets !== 'function')
    return { name, managed: false }
  const managed = upstream as ManagedUpstream
  const targets = managed.targets()
  return {
    name,
    managed: true,
    circuit: managed.circuitState,
    inflight: targets.reduce((sum, t) => sum + t.inflight, 0),
    healthy: targets.filter((t) => t.healthy && !t.ejected).length,
    targets: targets.map((t) => ({ ...t, ewma: Math.round(t.ewma * 100) / 100 })),
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > BODY_LIMIT)
    throw coreErrors.bodyTooLarge.create(`Admin bodies are limited to ${BODY_LIMIT} bytes`)
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > BODY_LIMIT)
      throw coreErrors.bodyTooLarge.create(`Admin bodies are limited to ${BODY_LIMIT} bytes`)
    chunks.push(chunk)
  }
  if (size === 0) return undefined
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown
  } catch {
    throw coreErrors.badRequest.create('The body is not valid JSON')
  }
}

function problem(
  error: unknown,
  log: Logger,
  id: string,
): { status: number; headers: Record<string, string>; raw: string } {
  const gwError = toGatewayError(error)
  if (gwError.status >= 500) log.error({ err: error, requestId: id }, 'admin endpoint failed')
  const { status, headers, body } = renderProblem(gwError, id)
  return { status, headers, raw: body }
}

function send(
  res: ServerResponse,
  id: string,
  reply: AdminReply | { status: number; headers: Record<string, string>; raw: string },
): void {
  if (res.headersSent || res.destroyed) return
  let body: string
  let headers: Record<string, string>
  if ('raw' in reply) {
    body = reply.raw
    headers = reply.headers
  } else {
    const text = typeof reply.body === 'string'
    body = text ? (reply.body as string) : JSON.stringify(reply.body ?? {})
    headers = {
      'content-type': text ? 'text/plain; charset=utf-8' : 'application/json',
      'cache-control': 'no-store',
      ...reply.headers,
    }
    headers['content-length'] = String(Buffer.byteLength(body))
  }
  headers['x-request-id'] = id
  res.writeHead(reply.status ?? 200, headers)
  res.end(body)
}
