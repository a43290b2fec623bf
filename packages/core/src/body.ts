import type { Readable } from 'node:stream'
import { coreErrors } from './errors.js'
import type { Exchange } from './exchange/exchange.js'

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /** Maximum body size in bytes; more -> `GW_ERR_BODY_TOO_LARGE` (413). Required: gw never buffers unbounded. */
  limit: number
}

/**
 * Buffers the request body up to a byte limit (checked against Content-Length first, then while reading).
 * The result is cached on the exchange, and later forwarding sends the buffered bytes. Over the limit it
 * rejects with `GW_ERR_BODY_TOO_LARGE` (413): the rest of the body is discarded unread and the connection is
 * closed after the response (`ex.closeConnection`), so the client still receives the 413.
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
  const stream = ex.request.body
  const declared = ex.request.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(refuse(ex, stream, limit))
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
        reject(refuse(ex, stream, limit))
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
      reject(coreErrors.badRequest.create('Request body could not be read', { cause: error }))
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

function refuse(ex: Exchange, stream: Readable, limit: number) {
  ex.closeConnection = true
  stream.on('error', () => {})
  stream.resume()
  return coreErrors.bodyTooLarge.create(`Request body exceeds ${limit} bytes`, { extensions: { limit } })
}
