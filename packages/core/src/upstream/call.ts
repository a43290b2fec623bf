import { Readable } from 'node:stream'
import type { Dispatcher } from 'undici'
import type { Clock } from '../clock.js'
import { coreErrors, GatewayError } from '../errors.js'
import type { ClientAbortHook, Exchange } from '../exchange/exchange.js'
import { type BodySink, type DirectBodyResponse, kBytesSent, kSendBody } from '../policy/direct-body.js'
import type { GwResponse, ResponseBody, ResponseHeaders } from '../policy/types.js'
import type { CircuitTicket } from '../resilience/circuit-breaker.js'
import { normaliseIp } from '../util/ip.js'
import { hasRequestBody, shieldBody } from './body.js'
import type { ForwardingOptions, UpstreamRequestHeaders, UpstreamResponseHeaders } from './headers.js'
import { buildUpstreamHeaders, prepareResponseHeaders } from './headers.js'
import { failureKind, mapUpstreamError } from './map-error.js'
import { isIdempotentMethod } from './retry.js'
import { joinPath, type UpstreamTarget } from './target.js'

/** Retry settings of an upstream, resolved once at start-up. */
export interface ResolvedRetry {
  readonly attempts: number
  readonly backoff: number
  readonly maxBackoff: number
  readonly perTryTimeout: number
  readonly kinds: ReadonlySet<string>
  readonly statuses: ReadonlySet<number>
}

/** What an {@link UpstreamCall} needs from its upstream; built once per upstream. */
export interface CallHost {
  readonly name: string
  readonly clock: Clock
  readonly retry: ResolvedRetry
  readonly forwarding: ForwardingOptions
  /** The same for requests received over HTTP/2 (`Via: 2 gw`). */
  readonly forwardingH2: ForwardingOptions
  /** Picks a target (restoring expired ejections first), avoiding `tried`; undefined when none is available. */
  pick(ex: Exchange, tried: UpstreamTarget[] | undefined): UpstreamTarget | undefined
  /** The 503 for "no available target". */
  noTarget(): GatewayError
  /** Records a try's latency and outcome (EWMA, outlier detection). */
  observe(target: UpstreamTarget, started: number, success: boolean): void
  /** Counts a request against the retry budget. */
  recordRequest(): void
  /** Takes a retry from the budget; false when it is spent. */
  tryRetry(): boolean
  /** Backoff before retry number `attempt` (0-based), jittered and capped. */
  backoff(attempt: number): number
  /** Response headers arrived: the breaker learns the outcome. */
  responded(ticket: CircuitTicket, status: number): void
  /** The response body is over (complete, failed or abandoned): frees the pending slot. */
  released(): void
  /** The call failed before a response: frees the pending slot and tells the breaker (unless the client left). */
  failed(ticket: CircuitTicket, error: GatewayError): void
}

/** Per-call options of `forward`. */
export interface CallOptions {
  readonly retryNonIdempotent?: boolean
}

const WAITING = 0
const BACKOFF = 1
const STREAMING = 2
const DONE = 3
/** A response we aborted to retry on its status: the error undici reports for it is ours. */
const DISCARDING = 4

/** Body bytes held for a consumer that has not attached yet before the upstream is paused. */
const BUFFER_LIMIT = 64 * 1024

/**
 * One proxied request: the undici dispatch handler of every try and, once headers arrived, the
 * {@link GwResponse} the runner and policies see. Its body stays in undici's hands until someone needs it:
 * reading `body` creates a Readable fed by this handler (policies that buffer or transform bodies), while the
 * server's `[kSendBody](res)` writes each chunk straight into the client response, pausing the upstream
 * while the client is slow (the `undici.stream()` shape). Chunks arriving before either (the head and a small
 * body usually come in one read) are held, up to 64 KiB, then the upstream is paused. Client aborts arrive
 * through the exchange's abort hook, so no AbortController or listener is created per request; per-try
 * timeouts and backoff are plain timers given `this`, so no closure either.
 */
export class UpstreamCall implements DirectBodyResponse, ClientAbortHook, Dispatcher.DispatchHandler {
  status = 0
  headers: ResponseHeaders = {}

  readonly #host: CallHost
  readonly #ex: Exchange
  readonly #ticket: CircuitTicket
  readonly #method: string
  readonly #headers: UpstreamRequestHeaders
  readonly #body: Readable | Buffer | null
  readonly #retries: number
  readonly #replayable: boolean
  #attempt = 0
  #tried: UpstreamTarget[] | undefined = undefined
  #target: UpstreamTarget | undefined = undefined
  #started = 0
  #phase = WAITING
  #controller: Dispatcher.DispatchController | undefined = undefined
  #timer: NodeJS.Timeout | undefined = undefined
  #timedOut = false
  #resolve: ((response: GwResponse) => void) | undefined = undefined
  #reject: ((error: GatewayError) => void) | undefined = undefined
  #released = false

  #sink: BodySink | undefined = undefined
  #stream: UpstreamBody | undefined = undefined
  #replaced = false
  #replacement: ResponseBody = null
  #chunks: Buffer[] | undefined = undefined
  #buffered = 0
  #ended = false
  #error: Error | undefined = undefined
  #bytes = 0
  #onDrain: (() => void) | undefined = undefined
  #awaitingDrain = false

  constructor(host: CallHost, ex: Exchange, options: CallOptions | undefined, ticket: CircuitTicket) {
    this.#host = host
    this.#ex = ex
    this.#ticket = ticket
    const request = ex.request
    const forwarding = request.headers[':method'] === undefined ? host.forwarding : host.forwardingH2
    this.#headers = buildUpstreamHeaders(request, peerAddress(ex), ex.id, forwarding)
    const buffered = ex.bufferedBody
    if (buffered !== undefined) {
      this.#body = buffered
      this.#headers['content-length'] = String(buffered.length)
    } else this.#body = hasRequestBody(request.headers, request.body) ? shieldBody(request.body) : null
    this.#method = request.method
    this.#replayable = this.#body === null || buffered !== undefined
    const retry = host.retry
    this.#retries =
      this.#replayable && (isIdempotentMethod(this.#method) || options?.retryNonIdempotent === true)
        ? retry.attempts
        : 0
    if (this.#retries > 0) host.recordRequest()
  }

  /** Sends the first try; resolves at the response head, rejects with a {@link GatewayError}. */
  start(): Promise<GwResponse> {
    const promise = new Promise<GwResponse>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    this.#ex._onAbort(this)
    this.#dispatch()
    return promise
  }

  get body(): ResponseBody {
    if (this.#replaced) return this.#replacement
    return this.#stream ?? this.#materialize()
  }

  set body(value: ResponseBody) {
    if (!this.#replaced) {
      if (value === this.#stream && value !== undefined) return
      this.#replaced = true
      if (this.#stream === undefined && this.#sink === undefined) this.#abandon()
    }
    this.#replacement = value
  }

  get [kBytesSent](): number {
    return this.#bytes
  }

  [kSendBody](sink: BodySink): boolean {
    if (this.#replaced || this.#stream !== undefined || this.#sink !== undefined) return false
    this.#sink = sink
    const chunks = this.#chunks
    if (chunks !== undefined) {
      this.#chunks = undefined
      this.#buffered = 0
      const last = chunks.length - 1
      for (let i = 0; i < last; i++) this.#write(chunks[i]!)
      if (this.#ended && this.#error === undefined) {
        this.#bytes += chunks[last]!.length
        sink.end(chunks[last])
        return true
      }
      this.#write(chunks[last]!)
    }
    if (this.#error !== undefined) this.#sinkFailed(this.#error)
    else if (this.#ended) sink.end()
    else this.#controller?.resume()
    return true
  }

  onClientAbort(reason: Error): void {
    if (this.#phase === BACKOFF) {
      clearTimeout(this.#timer)
      this.#fail(this.#clientGone(undefined))
    } else if (this.#phase === WAITING || this.#phase === STREAMING) this.#controller?.abort(reason)
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller
    if (this.#ex.aborted) controller.abort(coreErrors.clientAborted.create())
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: UpstreamResponseHeaders,
  ): void {
    if (statusCode < 200 || this.#phase !== WAITING) return
    clearTimeout(this.#timer)
    const host = this.#host
    const target = this.#target!
    host.observe(target, this.#started, statusCode < 500)
    if (host.retry.statuses.has(statusCode) && this.#attempt < this.#retries && host.tryRetry()) {
      this.#phase = DISCARDING
      controller.abort(coreErrors.upstreamUnavailable.create('retrying'))
      this.#controller = undefined
      target.inflight--
      this.#ex.log.warn(
        {
          upstream: host.name,
          target: target.origin,
          status: statusCode,
          attempt: this.#attempt + 1,
          retries: this.#retries,
        },
        'upstream retry',
      )
      this.#retryLater(target)
      return
    }
    this.status = statusCode
    this.headers = prepareResponseHeaders(headers, host.forwarding.via) as ResponseHeaders
    this.#phase = STREAMING
    host.responded(this.#ticket, statusCode)
    this.#resolve!(this)
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#phase !== STREAMING) return
    if (this.#sink !== undefined) this.#write(chunk)
    else if (this.#stream !== undefined) {
      if (!this.#stream.push(chunk)) controller.pause()
    } else if (!this.#replaced) {
      if (this.#chunks === undefined) this.#chunks = [chunk]
      else this.#chunks.push(chunk)
      this.#buffered += chunk.length
      if (this.#buffered >= BUFFER_LIMIT) controller.pause()
    }
  }

  onResponseEnd(): void {
    if (this.#phase !== STREAMING) return
    this.#phase = DONE
    this.#ended = true
    this.#release()
    if (this.#sink !== undefined) this.#sink.end()
    else if (this.#stream !== undefined) this.#stream.push(null)
  }

  onResponseError(controller: Dispatcher.DispatchController | undefined, error: Error): void {
    // A late report about a try we already gave up on (aborted to retry) is not about the current one.
    if (controller !== undefined && this.#controller !== undefined && controller !== this.#controller) return
    const phase = this.#phase
    if (phase === WAITING) this.#tryFailed(error)
    else if (phase === STREAMING) {
      this.#phase = DONE
      this.#release()
      if (this.#replaced && this.#stream === undefined && this.#sink === undefined) return
      if (this.#sink !== undefined) this.#sinkFailed(error)
      else if (this.#stream !== undefined) this.#stream.destroy(error)
      else this.#error = error
    }
  }

  /** @internal The body stream wants more: resume a paused upstream. */
  _pull(): void {
    this.#controller?.resume()
  }

  /** @internal The body stream was destroyed: if the upstream is still sending, stop it. */
  _streamDestroyed(): void {
    if (this.#phase === STREAMING) this.#abandon()
  }

  /** @internal The per-try timeout fired. */
  _timedOut(): void {
    if (this.#phase !== WAITING) return
    this.#timedOut = true
    this.#controller?.abort(
      coreErrors.upstreamTimeout.create(`Upstream '${this.#host.name}' timed out (per-try timeout)`),
    )
  }

  /** @internal The backoff before a retry is over. */
  _retry(): void {
    if (this.#phase !== BACKOFF) return
    if (this.#ex.aborted) {
      this.#fail(this.#clientGone(undefined))
      return
    }
    this.#attempt++
    this.#phase = WAITING
    this.#dispatch()
  }

  #dispatch(): void {
    const host = this.#host
    const ex = this.#ex
    const target = host.pick(ex, this.#tried)
    if (target === undefined) {
      this.#fail(host.noTarget())
      return
    }
    if (target.hostHeader !== undefined && !host.forwarding.preserveHost)
      this.#headers.host = target.hostHeader
    this.#target = target
    this.#controller = undefined
    this.#timedOut = false
    this.#started = host.clock.now()
    target.inflight++
    const perTry = host.retry.perTryTimeout
    if (perTry > 0) this.#timer = setTimeout(onPerTryTimeout, perTry, this)
    target.pool.dispatch(
      {
        method: this.#method,
        path: joinPath(target.basePath, ex.upstreamPath),
        headers: this.#headers,
        body: this.#body,
      },
      this,
    )
  }

  #tryFailed(error: Error): void {
    clearTimeout(this.#timer)
    const host = this.#host
    const ex = this.#ex
    const target = this.#target!
    target.inflight--
    if (ex.aborted) {
      this.#fail(this.#clientGone(error))
      return
    }
    const failure = this.#timedOut
      ? {
          error: coreErrors.upstreamTimeout.create(`Upstream '${host.name}' timed out (per-try timeout)`, {
            cause: error,
          }),
          code: 'GW_ERR_UPSTREAM_TIMEOUT',
        }
      : mapUpstreamError(error, host.name)
    if (failure.error.code === 'GW_ERR_CLIENT_ABORTED') {
      this.#fail(this.#clientGone(failure.error))
      return
    }
    host.observe(target, this.#started, false)
    const kind = failureKind(failure.code)
    if (
      kind !== undefined &&
      host.retry.kinds.has(kind) &&
      this.#attempt < this.#retries &&
      this.#replayable &&
      host.tryRetry()
    ) {
      ex.log.warn(
        {
          upstream: host.name,
          target: target.origin,
          code: failure.code,
          attempt: this.#attempt + 1,
          retries: this.#retries,
        },
        'upstream retry',
      )
      this.#retryLater(target)
      return
    }
    ex.log.warn(
      {
        upstream: host.name,
        target: target.origin,
        code: failure.code,
        err: error,
        attempts: this.#attempt + 1,
      },
      'upstream failed',
    )
    this.#fail(failure.error)
  }

  #retryLater(target: UpstreamTarget): void {
    this.#phase = BACKOFF
    this.#tried ??= []
    this.#tried.push(target)
    this.#timer = setTimeout(onBackoffDone, this.#host.backoff(this.#attempt), this)
  }

  #fail(error: GatewayError): void {
    this.#phase = DONE
    this.#ex._offAbort(this)
    this.#host.failed(this.#ticket, error)
    this.#reject!(error)
  }

  #clientGone(cause: unknown): GatewayError {
    this.#ex.log.debug({ upstream: this.#host.name }, 'client went away before the upstream answered')
    if (cause instanceof GatewayError && cause.code === 'GW_ERR_CLIENT_ABORTED') return cause
    return coreErrors.clientAborted.create(undefined, cause === undefined ? undefined : { cause })
  }

  #release(): void {
    if (this.#released) return
    this.#released = true
    this.#target!.inflight--
    this.#ex._offAbort(this)
    this.#host.released()
  }

  /** Nobody will read the body: drop what is held and stop the upstream if it is still sending. */
  #abandon(): void {
    this.#chunks = undefined
    this.#buffered = 0
    if (this.#phase === STREAMING) {
      this.#controller?.abort(coreErrors.clientAborted.create('Response body discarded'))
      if (this.#phase === STREAMING) {
        this.#phase = DONE
        this.#release()
      }
    }
  }

  #materialize(): UpstreamBody {
    const stream = new UpstreamBody(this)
    this.#stream = stream
    const chunks = this.#chunks
    if (chunks !== undefined) {
      this.#chunks = undefined
      this.#buffered = 0
      for (const chunk of chunks) stream.push(chunk)
    }
    if (this.#error !== undefined) stream.destroy(this.#error)
    else if (this.#ended) stream.push(null)
    return stream
  }

  #write(chunk: Buffer): void {
    this.#bytes += chunk.length
    if (!this.#sink!.write(chunk) && !this.#ended) {
      this.#controller?.pause()
      if (this.#awaitingDrain) return
      this.#awaitingDrain = true
      this.#onDrain ??= () => {
        this.#awaitingDrain = false
        this.#controller?.resume()
      }
      this.#sink!.once('drain', this.#onDrain)
    }
  }

  #sinkFailed(error: Error): void {
    if (!this.#ex.aborted)
      this.#ex.log.warn({ err: error, code: (error as { code?: string }).code }, 'response stream failed')
    this.#sink!.destroy(error)
  }
}

/** The upstream response body as a stream, created when a policy reads `res.body`. */
class UpstreamBody extends Readable {
  readonly #call: UpstreamCall

  constructor(call: UpstreamCall) {
    super()
    this.#call = call
  }

  override _read(): void {
    this.#call._pull()
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#call._streamDestroyed()
    callback(error)
  }
}

function onPerTryTimeout(call: UpstreamCall): void {
  call._timedOut()
}

function onBackoffDone(call: UpstreamCall): void {
  call._retry()
}

function peerAddress(ex: Exchange): string {
  const request = ex.request
  const socket = (request.body as Readable & { socket?: { remoteAddress?: string } | null }).socket
  const address = socket?.remoteAddress
  return address === undefined ? request.ip : normaliseIp(address)
}
