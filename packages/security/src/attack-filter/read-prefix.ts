import type { Exchange } from '@gw/core'

/**
 * Reads at most `limit` bytes of the request body for inspection without consuming the rest: when the body
 * is longer, the bytes read are put back (`unshift`) so the proxy forwards the complete body; when it ends
 * within the limit, the whole body is kept as `ex.bufferedBody` (as `readBody` does).
 *
 * @example
 * ```ts
 * const { body, truncated } = await readPrefix(ex, 131_072)
 * ```
 */
export function readPrefix(ex: Exchange, limit: number): Promise<{ body: Buffer; truncated: boolean }> {
  const cached = ex.bufferedBody
  if (cached !== undefined)
    return Promise.resolve({ body: cached.subarray(0, limit), truncated: cached.length > limit })
  const stream = ex.request.body
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = (): void => {
      stream.off('readable', onReadable)
      stream.off('end', onEnd)
      stream.off('error', onError)
    }
    const onReadable = (): void => {
      while (size <= limit) {
        const chunk = stream.read() as Buffer | null
        if (chunk === null) break
        chunks.push(chunk)
        size += chunk.length
      }
      if (size > limit) {
        cleanup()
        const all = Buffer.concat(chunks, size)
        stream.unshift(all)
        resolve({ body: all.subarray(0, limit), truncated: true })
      }
    }
    const onEnd = (): void => {
      cleanup()
      const body = Buffer.concat(chunks, size)
      ex.bufferedBody = body
      resolve({ body, truncated: false })
    }
    const onError = (error: Error): void => {
      cleanup()
      reject(error)
    }
    stream.on('readable', onReadable)
    stream.once('end', onEnd)
    stream.once('error', onError)
  })
}
