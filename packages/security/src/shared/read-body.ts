import type { Socket } from 'node:net'
import { coreErrors, createStateKey, type Exchange } from '@gw/core'

const closeAfterResponseKey = createStateKey<true>('security.close-after-response')

/**
 * Buffers the request body up to `limit` bytes, like core's `readBody`, but on overflow it stops reading without
 * destroying the request, so that the 413 problem response can still be written; the connection is then closed
 * after the response by {@link closeIfBodyUnread} (the rest of the body is never read). The bytes read so far are
 * put back into the stream, so that in report mode the request is forwarded intact.
 *
 * @example
 * ```ts
 * const body = await readBoundedBody(ex, 65_536)
 * ```
 */
export function readBoundedBody(ex: Exchange, limit: number): Promise<Buffer> {
  const cached = ex.bufferedBody
  if (cached !== undefined) return Promise.resolve(cached)
  const declared = ex.request.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge(ex, limit))
  const body = ex.request.body
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      body.off('data', onData)
      body.off('end', onEnd)
      body.off('error', onError)
      body.off('close', onClose)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        body.pause()
        chunks.push(chunk)
        body.unshift(Buffer.concat(chunks))
        reject(tooLarge(ex, limit))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      const buffer = Buffer.concat(chunks, size)
      ex.bufferedBody = buffer
      resolve(buffer)
    }
    const onError = (error: Error): void => {
      cleanup()
      reject(coreErrors.clientAborted.create('Client failed while sending its body', { cause: error }))
    }
    const onClose = (): void => {
      cleanup()
      reject(coreErrors.clientAborted.create('Client closed the request while sending its body'))
    }
    body.on('data', onData)
    body.once('end', onEnd)
    body.once('error', onError)
    body.once('close', onClose)
  })
}

/**
 * Marks the exchange so that its connection is closed once the response is sent: used when a request is refused
 * before its body was read, so the gateway never reads (or keeps the connection for) the rest of it.
 *
 * @example
 * ```ts
 * markCloseAfterResponse(ex)
 * throw coreErrors.bodyTooLarge.create('too large')
 * ```
 */
export function markCloseAfterResponse(ex: Exchange): void {
  ex.set(closeAfterResponseKey, true)
}

/**
 * From `onComplete`: closes the client connection (after the response bytes were flushed) when the exchange was
 * marked by {@link markCloseAfterResponse} and its body was not read to the end (in report mode it was forwarded).
 *
 * @example
 * ```ts
 * onComplete: (ex) => closeIfBodyUnread(ex)
 * ```
 */
export function closeIfBodyUnread(ex: Exchange): void {
  if (!ex.has(closeAfterResponseKey) || ex.request.body.readableEnded) return
  const socket = (ex.request.body as { socket?: Socket | null }).socket
  if (socket && !socket.destroyed) socket.destroySoon()
}

function tooLarge(ex: Exchange, limit: number) {
  markCloseAfterResponse(ex)
  return coreErrors.bodyTooLarge.create(`Request body exceeds ${limit} bytes`, { extensions: { limit } })
}
