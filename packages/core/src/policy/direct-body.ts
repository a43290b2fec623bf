import type { GwResponse } from './types.js'

/**
 * Where a response body can be written directly: node's `ServerResponse` (HTTP/1.1) and
 * `Http2ServerResponse` both fit.
 */
export interface BodySink {
  write(chunk: Buffer): boolean
  end(chunk?: Buffer): void
  destroy(error?: Error): void
  once(event: 'drain', listener: () => void): unknown
}

/** The key of {@link DirectBodyResponse}'s send method. */
export const kSendBody: unique symbol = Symbol('gw.sendBody')
/** The key of {@link DirectBodyResponse}'s sent-bytes count. */
export const kBytesSent: unique symbol = Symbol('gw.bytesSent')

/**
 * A response whose body is not a stream yet: the proxied upstream response. Reading `body` creates the stream
 * (for policies that transform or buffer it); when nothing did, the server hands its `ServerResponse` to
 * `[kSendBody]` and the upstream chunks are written straight into it, with backpressure, without a Readable in
 * between. This is how gw's proxy path costs what `undici.stream()` costs.
 *
 * @example
 * ```ts
 * if (isDirectBody(response) && response[kSendBody](res)) return // streaming straight into res
 * ```
 */
export interface DirectBodyResponse extends GwResponse {
  /** Writes the body into `sink` and ends it; false (and nothing done) when the body was read or replaced. */
  [kSendBody](sink: BodySink): boolean
  /** Body bytes written into the sink so far. */
  readonly [kBytesSent]: number
}

/**
 * Whether a response supports {@link DirectBodyResponse} (checked without reading `body`).
 *
 * @example
 * ```ts
 * isDirectBody(await upstream.forward(ex)) // true for proxied responses
 * ```
 */
export function isDirectBody(response: GwResponse): response is DirectBodyResponse {
  return typeof (response as Partial<DirectBodyResponse>)[kSendBody] === 'function'
}
