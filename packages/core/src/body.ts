import { coreErrors } from './errors.js'
import type { Exchange } from './exchange/exchange.js'

/** Options of {@link readBody}. */
export interface ReadBodyOptions {
  /** Maximum body size in bytes; more -> `GW_ERR_BODY_TOO_LARGE` (413). Required: gw never buffers unbounded. */
  limit: number
}

/**
 * Buffers the request body up to a byte limit (checked against Content-Length first, then while reading).
 * The result is cached on the exchange, and later forwarding sends the buffered bytes.
 *
 * @example
 * ```ts
 * onRequest: async (ex) => {
 *   const body = await readBody(ex, { limit: 1_048_576 })
 *   const json = JSON.parse(body.toString('utf8'))
 * }
 * ```
 */
export async function readBody(ex: Exchange, options: ReadBodyOptions): Promise<Buffer> {
  const cached = ex.bufferedBody
  if (cached !== undefined) return cached
  const declared = ex.request.headers['content-length']
  if (declared !== undefined && Number(declared) > options.limit) {
    throw tooLarge(options.limit)
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of ex.request.body) {
    const buf = chunk as Buffer
    size += buf.length
    if (size > options.limit) {
      ex.request.body.destroy()
      throw tooLarge(options.limit)
    }
    chunks.push(buf)
  }
  const body = Buffer.concat(chunks, size)
  ex.bufferedBody = body
  return body
}

function tooLarge(limit: number) {
  return coreErrors.bodyTooLarge.create(`Request body exceeds ${limit} bytes`, { extensions: { limit } })
}
