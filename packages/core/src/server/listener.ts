import { once } from 'node:events'
import { type Stats, unwatchFile, watchFile } from 'node:fs'
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http'
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type Http2Session,
} from 'node:http2'
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { TLSSocket } from 'node:tls'
import type { Logger } from '../logger.js'
import { type LoadedCertificates, loadCertificates } from './certificates.js'
import { answerProtocolErrors, createHttpServer, httpServerOptions } from './http-server.js'
import { createRedirectServer } from './redirect.js'
import type { ServerConfig, TlsConfig } from './schema.js'

/** The server a gateway listens with: node:http, node:https (TLS, HTTP/1.1) or node:http2 (TLS, h2 + HTTP/1.1). */
export type GatewayServer = HttpServer | HttpsServer | Http2SecureServer

/** A request listener as node:http calls it; node:http2's compat objects are passed through the same one. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void

/** Concurrent streams an HTTP/2 client may open on one connection (SETTINGS_MAX_CONCURRENT_STREAMS). */
export const H2_MAX_CONCURRENT_STREAMS = 128

/** The gateway's listener(s), built from `server` options by {@link createListener}. */
export interface Listener {
  /** The main server (`'upgrade'` and other node events can be attached to it). */
  readonly server: GatewayServer
  /** `https` with `server.tls`, else `http`. */
  readonly scheme: 'http' | 'https'
  /** The plain-HTTP redirect listener of `server.redirectHttp`, if configured. */
  readonly redirect: HttpServer | undefined
  /** Listens on `port`/`host` (and the redirect listener on its own port) and resolves with the main address. */
  listen(port: number, host: string): Promise<AddressInfo>
  /**
   * Stops accepting connections. Open ones stay: HTTP/2 sessions get a GOAWAY and finish their open streams;
   * HTTP/1.1 connections (idle keep-alive ones, and accepted ones whose first request has not arrived yet) are
   * left for their next request, which the draining handler answers with `Connection: close`.
   */
  stopAccepting(): void
  /** Closes idle keep-alive connections; HTTP/2 sessions get a GOAWAY and finish their open streams. */
  closeIdleConnections(): void
  /** Destroys every remaining connection and session. */
  closeAllConnections(): void
  /**
   * Re-reads every certificate, key and CA file and swaps them in for new connections (existing ones keep
   * theirs). On any error (unreadable file, bad PEM, key not matching) the old certificates stay, the reason is
   * logged and the promise rejects with a `GW_ERR_CONFIG` error. Without TLS it resolves at once.
   */
  reloadCertificates(): Promise<void>
  /** Stops file watching and closes the redirect listener. */
  close(): Promise<void>
}

function tlsServerOptions(tls: TlsConfig, loaded: LoadedCertificates) {
  return {
    ...loaded.defaults,
    requestCert: tls.clientAuth !== 'none',
    rejectUnauthorized: tls.clientAuth === 'require',
    SNICallback: undefined as unknown,
  }
}

/**
 * Creates the gateway's listener from validated server options: node:http without `tls`; with `tls`, an HTTPS
 * server whose certificates come from files (SNI picks among `tls.certificates`), HTTP/2 by ALPN with HTTP/1.1
 * fallback (`http2`, default on) through the same request handler, and the optional plain-HTTP redirect
 * listener. Certificates are reloaded by `reloadCertificates()` and, with `tls.watch`, when their files change.
 * Throws a `GW_ERR_CONFIG` error with the option path when a certificate file cannot be used.
 *
 * @example
 * ```ts
 * const listener = createListener(serverSchema.parse({ port: 8443, tls: { cert: 'tls.crt', key: 'tls.key' } }), handler, log)
 * await listener.listen(8443, '0.0.0.0')
 * ```
 */
export function createListener(config: ServerConfig, handler: RequestListener, log: Logger): Listener {
  const tls = config.tls
  if (tls === undefined) {
    const server = createHttpServer(config, handler, log)
    return {
      server,
      scheme: 'http',
      redirect: undefined,
      listen: (port, host) => listenOn(server, port, host),
      stopAccepting: () => closeKeepingIdle(server),
      closeIdleConnections: () => server.closeIdleConnections(),
      closeAllConnections: () => server.closeAllConnections(),
      reloadCertificates: () => Promise.resolve(),
      close: () => Promise.resolve(),
    }
  }

  let certificates = loadCertificates(tls)
  const options = tlsServerOptions(tls, certificates)
  options.SNICallback = (servername: string, cb: (error: Error | null, ctx?: unknown) => void) =>
    cb(null, certificates.select(servername))
  const http2 = config.http2 ?? true
  const sessions = new Set<Http2Session>()
  const sockets = new Set<TLSSocket>()
  let server: HttpsServer | Http2SecureServer
  if (http2) {
    const h2 = createSecureServer(
      {
        ...(options as object),
        allowHTTP1: true,
        settings: {
          maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS,
          maxHeaderListSize: config.maxHeaderSize,
        },
      },
      handler as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void,
    )
    applyHttp1Limits(h2, config)
    h2.on('session', (session: Http2Session) => trackSession(session, sessions, config.keepAliveTimeout))
    h2.on('sessionError', (error: Error & { code?: string }) =>
      log.debug({ code: error.code, err: error }, 'HTTP/2 session error'),
    )
    server = h2
  } else {
    server = createHttpsServer({ ...httpServerOptions(config), ...(options as object) }, handler)
    server.maxRequestsPerSocket = config.maxRequestsPerSocket
  }
  if (config.maxConnections > 0) server.maxConnections = config.maxConnections
  answerProtocolErrors(server, log)
  server.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
    log.debug({ code: error.code, reason: error.message }, 'TLS handshake failed')
    socket.destroy()
  })
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })

  const reloadCertificates = async (): Promise<void> => {
    let next: LoadedCertificates
    try {
      next = loadCertificates(tls)
    } catch (error) {
      log.error({ err: error }, 'certificate reload failed; keeping the current certificates')
      throw error
    }
    server.setSecureContext(tlsServerOptions(tls, next))
    certificates = next
    log.info({ files: next.files.length }, 'certificates reloaded')
  }

  const watched: string[] = []
  let debounce: NodeJS.Timeout | undefined
  if (tls.watch) {
    const changed = (current: Stats, previous: Stats): void => {
      if (current.mtimeMs === previous.mtimeMs && current.size === previous.size) return
      clearTimeout(debounce)
      debounce = setTimeout(() => void reloadCertificates().catch(() => {}), tls.watchInterval)
      debounce.unref()
    }
    for (const file of certificates.files) {
      watchFile(file, { interval: tls.watchInterval, persistent: false }, changed)
      watched.push(file)
    }
  }

  let httpsPort = 443
  const redirectConfig = config.redirectHttp
  const redirect =
    redirectConfig === undefined
      ? undefined
      : createRedirectServer(redirectConfig, () => redirectConfig.httpsPort ?? httpsPort, log)

  return {
    server,
    scheme: 'https',
    redirect,
    async listen(port, host) {
      const address = await listenOn(server, port, host)
      httpsPort = address.port
      if (redirect !== undefined && redirectConfig !== undefined)
        await listenOn(redirect, redirectConfig.port, redirectConfig.host ?? host)
      return address
    },
    stopAccepting() {
      if (server.listening) closeKeepingIdle(server)
      for (const session of sessions) if (!session.closed) session.close()
    },
    closeIdleConnections() {
      if ('closeIdleConnections' in server) server.closeIdleConnections()
      for (const session of sessions) if (!session.closed) session.close()
    },
    closeAllConnections() {
      for (const session of sessions) session.destroy()
      for (const socket of sockets) socket.destroy()
    },
    reloadCertificates,
    async close() {
      clearTimeout(debounce)
      for (const file of watched.splice(0)) unwatchFile(file)
      if (redirect?.listening) {
        const closed = once(redirect, 'close')
        redirect.close()
        redirect.closeAllConnections()
        await closed
      }
    },
  }
}

/**
 * `server.close()` without the idle-connection sweep node:http (and an `allowHTTP1` HTTP/2 server) runs first:
 * an idle keep-alive connection closed by the server races the client's next request on it (the client sees
 * ECONNRESET), so the drain gives those connections a grace period instead.
 */
function closeKeepingIdle(server: GatewayServer): void {
  if (!server.listening) return
  const own = server as { closeIdleConnections?: () => void }
  own.closeIdleConnections = noop
  try {
    server.close()
  } finally {
    delete own.closeIdleConnections
  }
}

function noop(): void {}

async function listenOn(server: GatewayServer, port: number, host: string): Promise<AddressInfo> {
  server.listen(port, host)
  await once(server, 'listening')
  return server.address() as AddressInfo
}

/**
 * The HTTP/1.1 side of an `allowHTTP1` server reads its limits from the server object, as node:http's does: the
 * same timeouts, connection-checking interval, header size and Host rules as the plain listener.
 */
function applyHttp1Limits(server: Http2SecureServer, config: ServerConfig): void {
  const { noDelay: _noDelay, ...limits } = httpServerOptions(config)
  Object.assign(server, limits, { maxRequestsPerSocket: config.maxRequestsPerSocket })
}

/** Counts a session's open streams and closes it (GOAWAY) after `idle` ms without streams or traffic. */
function trackSession(session: Http2Session, sessions: Set<Http2Session>, idle: number): void {
  sessions.add(session)
  let open = 0
  session.on('stream', (stream) => {
    open++
    stream.once('close', () => open--)
  })
  session.once('close', () => sessions.delete(session))
  if (idle > 0)
    session.setTimeout(idle, () => {
      if (open === 0 && !session.closed) session.close()
    })
}
