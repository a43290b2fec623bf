import type { IncomingHttpHeaders } from 'node:http'
import { PassThrough, type Readable } from 'node:stream'
import { coreErrors } from '../errors.js'

/**
 * Whether a request carries a body: a positive `Content-Length` or any `Transfer-Encoding`; on HTTP/2 (which
 * has neither necessarily) whether the client's HEADERS frame left the stream open (`body` is the
 * `Http2ServerRequest`).
 *
 * @example
 * ```ts
 * hasRequestBody({ 'content-length': '12' }) // true
 * hasRequestBody({ 'content-length': '0' }) // false
 * ```
 */
export function hasRequestBody(headers: IncomingHttpHeaders, body?: unknown): boolean {
  if (headers['transfer-encoding'] !== undefined) return true
  const length = headers['content-length']
  if (length !== undefined) return length !== '0' && Number(length) > 0
  if (headers[':method'] === undefined) return false
  return (body as { stream?: { endAfterHeaders?: boolean } } | undefined)?.stream?.endAfterHeaders === false
}

const noop = (): void => {}

/**
 * Streams a client body to the upstream through a PassThrough, so that an upstream failure (which makes the
 * HTTP client destroy the stream it was given) does not destroy the client's request and socket: the gateway
 * can still answer 502/504 and node discards the unread rest. A client that goes away mid-upload destroys the
 * returned stream with `GW_ERR_CLIENT_ABORTED`. Backpressure is kept; nothing is buffered beyond the
 * stream high-water marks. A no-op `error` listener stays on `source` (node emits a request's `error` only when
 * a listener exists, and may emit it after the upstream call ended), so a late client reset never crashes.
 *
 * @example
 * ```ts
 * const body = hasRequestBody(req.headers) ? shieldBody(req) : null
 * await pool.request({ path: '/', method: 'POST', headers, body })
 * ```
 */
export function shieldBody(source: Readable): Readable {
  const out = new PassThrough()
  const onClose = (): void => {
    if (!source.readableEnded) {
      out.destroy(
        coreErrors.clientAborted.create('Client closed the request while sending its body', {
          cause: source.errored ?? undefined,
        }),
      )
    }
  }
  source.on('error', noop)
  source.once('close', onClose)
  out.once('close', () => {
    source.off('close', onClose)
    source.unpipe(out)
  })
  if (source.readableEnded) out.end()
  else if (source.destroyed) onClose()
  else source.pipe(out)
  return out
}
