import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { Socket } from 'node:net'
import { coreErrors, renderProblem } from '../errors.js'
import type { Logger } from '../logger.js'
import { validHost } from './request-meta.js'
import type { RedirectHttpConfig } from './schema.js'

/**
 * Builds the `Location` of a redirect to HTTPS: always the `https` scheme, the configured host name or the
 * request's (already validated) Host without its port, the HTTPS port unless it is 443, and the request target
 * when it is in origin-form (anything else becomes `/`). Returns undefined without a usable host.
 *
 * @example
 * ```ts
 * httpsLocation('api.example.com:80', '/a?b=1', 8443, undefined) // 'https://api.example.com:8443/a?b=1'
 * ```
 */
export function httpsLocation(
  host: string | undefined,
  target: string,
  httpsPort: number,
  hostname: string | undefined,
): string | undefined {
  let name = hostname
  if (name === undefined) {
    if (host === undefined) return undefined
    name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]!
    if (name === '') return undefined
  }
  const path = target.charCodeAt(0) === 47 && target.charCodeAt(1) !== 47 ? target : '/'
  return `https://${name}${httpsPort === 443 ? '' : `:${httpsPort}`}${path}`
}

/**
 * Creates the plain-HTTP listener of `server.redirectHttp`: every request is answered with `308 Permanent
 * Redirect` to the same host and path over HTTPS; a missing or malformed Host gets a 400 problem. No request
 * reaches a route or an upstream, so nothing is served in clear text.
 *
 * @example
 * ```ts
 * const redirect = createRedirectServer({ port: 80 }, () => 443, log)
 * redirect.listen(80)
 * ```
 */
export function createRedirectServer(
  config: RedirectHttpConfig,
  httpsPort: () => number,
  log: Logger,
): Server {
  const server = createServer(
    { headersTimeout: 10_000, requestTimeout: 10_000, requireHostHeader: false },
    (req: IncomingMessage, res: ServerResponse) => {
      const location = httpsLocation(validHost(req), req.url ?? '/', httpsPort(), config.hostname)
      req.resume()
      if (location === undefined) {
        const problem = renderProblem(coreErrors.badHost.create('Missing, invalid or duplicate Host header'))
        res.writeHead(problem.status, { ...problem.headers, connection: 'close' })
        res.end(problem.body)
        return
      }
      res.writeHead(308, { location, 'content-length': 0, 'cache-control': 'no-store' })
      res.end()
    },
  )
  server.on('clientError', (error: Error & { code?: string }, socket: Socket) => {
    log.debug({ code: error.code }, 'redirect listener: malformed request')
    socket.destroy()
  })
  return server
}
