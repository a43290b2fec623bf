import type { Readable } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Pool } from 'undici'
import { collectIssues, formatIssues } from '../config/format-issues.js'
import { coreErrors, GatewayError } from '../errors.js'
import type { Exchange, GwRequest } from '../exchange/exchange.js'
import type { Logger } from '../logger.js'
import type { GwResponse, ResponseHeaders } from '../policy/types.js'
import { normaliseIp } from '../server/request-meta.js'
import { hasRequestBody, shieldBody } from './body.js'
import { buildUpstreamHeaders, type ForwardingOptions, prepareResponseHeaders } from './headers.js'
import { mapUpstreamError } from './map-error.js'
import { backoffDelay, isIdempotentMethod } from './retry.js'
import { type UpstreamConfig, type UpstreamInput, upstreamSchema } from './schema.js'
import { createTarget, joinPath, type Target } from './target.js'
import { compileTrustProxy, type TrustProxy } from './trust-proxy.js'
import type { Upstream } from './types.js'

/** Start-up services and gateway-wide settings an upstream needs. */
export interface UpstreamDeps {
  /** Gateway logger; failures are logged at `warn` through the exchange logger with the upstream name. */
  log: Logger
  /** Pseudonym gw uses in `Via` (`server.via`), e.g. `gw`. */
  via: string
  /** Direct peers whose `X-Forwarded-*` / `Forwarded` headers are extended instead of replaced (`server.trustProxy`). */
  trustProxy?: TrustProxy
  /** Header carrying the request id upstream (`server.requestIdHeader`). Default `x-request-id`. */
  requestIdHeader?: string
  /** On `close()`, how long in-flight calls may take before the pools are destroyed. Default 2000 ms. */
  closeGrace?: number
}

/**
 * Creates the proxy terminal for one upstream: an undici `Pool` per target, header rewriting, error mapping
 * and retries. `forward` streams the client body up and resolves with the upstream status, headers
 * (hop-by-hop removed, `Via` added) and streamed body; it rejects with a {@link GatewayError}: 502 cannot
 * connect / reset / invalid response, 504 connect or headers timeout, 503 closed, 499
 * `GW_ERR_CLIENT_ABORTED` when the client went away. Idempotent requests without a body are retried
 * `config.retries` times after connection failures that happened before any response, with jittered
 * exponential backoff. A failure while the response body streams errors that body stream.
 *
 * @example
 * ```ts
 * const users = createUpstream('users', { url: 'http://127.0.0.1:3001', retries: 2 }, { log, via: 'gw' })
 * const res = await users.forward(ex) // { status, headers, body: Readable }
 * await users.close()
 * ```
 */
export function createUpstream(
  name: string,
  config: UpstreamInput | UpstreamConfig,
  deps: UpstreamDeps,
): Upstream {
  const parsed = upstreamSchema.safeParse(config)
  if (!parsed.success) {
    const issues = collectIssues(parsed.error, `upstreams.${name}`)
    throw coreErrors.config.create(`invalid upstream '${name}':\n${formatIssues(issues)}`, {
      extensions: { issues },
    })
  }
  return new ProxyUpstream(name, parsed.data, deps)
}

class ProxyUpstream implements Upstream {
  readonly name: string
  readonly #config: UpstreamConfig
  readonly #targets: readonly Target[]
  readonly #forwarding: ForwardingOptions
  readonly #closeGrace: number
  #closing: Promise<void> | undefined

  constructor(name: string, config: UpstreamConfig, deps: UpstreamDeps) {
    this.name = name
    this.#config = config
    this.#targets = [createTarget(config.url, config)]
    this.#forwarding = {
      via: '1.1 ' + deps.via,
      requestIdHeader: deps.requestIdHeader ?? 'x-request-id',
      preserveHost: config.preserveHost,
      isTrustedProxy: compileTrustProxy(deps.trustProxy),
    }
    this.#closeGrace = deps.closeGrace ?? 2000
    deps.log.debug({ upstream: name, origin: this.#targets[0]!.origin }, 'upstream created')
  }

  async forward(ex: Exchange): Promise<GwResponse> {
    if (ex.aborted) throw clientAborted(undefined)
    const request = ex.request
    const target = this.#pick()
    const headers = buildUpstreamHeaders(request, peerAddress(request), ex.id, this.#forwarding)
    const buffered = ex.bufferedBody
    let body: Readable | Buffer | null
    if (buffered !== undefined) {
      body = buffered
      headers['content-length'] = String(buffered.length)
    } else body = hasRequestBody(request.headers) ? shieldBody(request.body) : null
    const method = request.method
    const path = joinPath(target.basePath, ex.upstreamPath)
    const replayable = body === null || buffered !== undefined
    const retries = replayable && isIdempotentMethod(method) ? this.#config.retries : 0
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await target.pool.request({ method, path, headers, body, signal: ex.signal })
        const responseHeaders = prepareResponseHeaders(res.headers, this.#forwarding.via) as ResponseHeaders
        return { status: res.statusCode, headers: responseHeaders, body: res.body }
      } catch (error) {
        if (ex.aborted) throw this.#clientGone(ex, error)
        const failure = mapUpstreamError(error, this.name)
        if (failure.error.code === 'GW_ERR_CLIENT_ABORTED') throw this.#clientGone(ex, failure.error)
        if (failure.retriable && attempt < retries) {
          ex.log.warn(
            { upstream: this.name, code: failure.code, attempt: attempt + 1, retries },
            'upstream retry',
          )
          await this.#backoff(ex, attempt)
          continue
        }
        ex.log.warn(
          { upstream: this.name, code: failure.code, err: error, attempts: attempt + 1 },
          'upstream failed',
        )
        throw failure.error
      }
    }
  }

  close(): Promise<void> {
    this.#closing ??= Promise.all(this.#targets.map((t) => closePool(t.pool, this.#closeGrace))).then(
      () => {},
    )
    return this.#closing
  }

  #pick(): Target {
    return this.#targets[0]!
  }

  async #backoff(ex: Exchange, attempt: number): Promise<void> {
    try {
      await sleep(backoffDelay(this.#config.retryBackoff, attempt), undefined, { signal: ex.signal })
    } catch (error) {
      throw this.#clientGone(ex, error)
    }
    if (ex.aborted) throw this.#clientGone(ex, undefined)
  }

  #clientGone(ex: Exchange, cause: unknown): GatewayError {
    ex.log.debug({ upstream: this.name }, 'client went away before the upstream answered')
    return clientAborted(cause)
  }
}

function clientAborted(cause: unknown): GatewayError {
  if (cause instanceof GatewayError && cause.code === 'GW_ERR_CLIENT_ABORTED') return cause
  return coreErrors.clientAborted.create(undefined, cause === undefined ? undefined : { cause })
}

function peerAddress(request: GwRequest): string {
  const socket = (request.body as Readable & { socket?: { remoteAddress?: string } | null }).socket
  const address = socket?.remoteAddress
  return address === undefined ? request.ip : normaliseIp(address)
}

async function closePool(pool: Pool, grace: number): Promise<void> {
  const closed = pool.close().then(
    () => true,
    () => true,
  )
  const ac = new AbortController()
  const expired = sleep(grace, false, { signal: ac.signal, ref: false }).catch(() => false)
  const graceful = await Promise.race([closed, expired])
  ac.abort()
  if (!graceful) await pool.destroy(coreErrors.shuttingDown.create('Upstream pool closed')).catch(() => {})
}
