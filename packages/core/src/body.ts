import type { Readable } from 'node:stream'
import { coreErrors } from './errors.js'
import type { Exchange } from './exchange/exchange.js'

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /** Maximum body size in bytes; more -> `GW_ERR_BODY_TOO_LARGE` (413). Required: gw never buffers unbounded. */
  limit: number
  /**
   * What happens to the body over the limit; the connection closes after the response either way.
   * `'discard'` (default): the rest is read and dropped, so that a client still sending receives the 413 rather
   * than a reset (bounded by `server.requestTimeout`). `'keep'`: reading stops at the limit (a 10 GB upload costs
   * the limit, not 10 GB) and the bytes read so far are put back into the paused stream, so that when the 413 is
   * not enforced (a policy in report mode) the request is forwarded with its body intact.
   */
  overflow?: 'discard' | 'keep'
}

/**
 * Buffers the request body up to a byte limit (checked against Content-Length first, then while reading).
 * The result is cached on the exchange, and later forwarding sends the buffered bytes. Over the limit it
 * rejects with `GW_ERR_BODY_TOO_LARGE` (413) and the connection is closed after the response
 * (`ex.closeConnection`); `overflow` chooses between reading the rest (default) and keeping it forwardable.
 * A client that fails or goes away while sending rejects with `GW_ERR_CLIENT_ABORTED`.
 *
 * @example
 * ```ts
 * onRequest: async (ex) => {
 *   const body = await readBody(ex, { limit: 1_048_576 })
 *   const json = JSON.parse(body.toString('utf8'))
 * }
 * ```
 */
export function readBody(ex: Exchange, options: ReadBodyOptions): Promise<Buffer> {
  const cached = ex.bufferedBody
  if (cached !== undefined) return Promise.resolve(cached)
  const { limit } = options
  const keep = options.overflow === 'keep'
  const stream = ex.request.body
  const declared = ex.request.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(refuse(ex, limit, keep))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('error', onError)
      stream.off('close', onClose)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        if (keep) {
          stream.pause()
          chunks.push(chunk)
          stream.unshift(Buffer.concat(chunks))
        }
        reject(refuse(ex, limit, keep))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      const body = Buffer.concat(chunks, size)
      ex.bufferedBody = body
      resolve(body)
    }
    const onError = (error: Error): void => {
      cleanup()
      reject(coreErrors.clientAborted.create('Client failed while sending its body', { cause: error }))
    }
    const onClose = (): void => {
      if (stream.readableEnded) return
      cleanup()
      reject(coreErrors.clientAborted.create('Client closed the request while sending its body'))
    }
    stream.on('data', onData)
    stream.once('end', onEnd)
    stream.once('error', onError)
    stream.once('close', onClose)
  })
}

function refuse(ex: Exchange, limit: number, keep: boolean) {
  ex.closeConnection = true
  if (!keep) {
    const stream: Readable = ex.request.body
    stream.on('error', ignore)
    stream.resume()
  }
  return coreErrors.bodyTooLarge.create(`Request body exceeds ${limit} bytes`, { extensions: { limit } })
}

function ignore(): void {}
