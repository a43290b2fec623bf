import { Readable } from 'node:stream'
import { promisify } from 'node:util'
import { brotliDecompress, gunzip, inflate, type ZlibOptions } from 'node:zlib'
import type { ResponseBody } from '@gw/core'

const decoders = {
  gzip: promisify<Buffer, ZlibOptions, Buffer>(gunzip),
  'x-gzip': promisify<Buffer, ZlibOptions, Buffer>(gunzip),
  deflate: promisify<Buffer, ZlibOptions, Buffer>(inflate),
  br: promisify<Buffer, ZlibOptions, Buffer>(brotliDecompress),
} as const

/**
 * Why a body could not be buffered or decoded.
 *
 * @example
 * ```ts
 * const result = await decodeBody(bytes, ['gzip'], 1024) // Buffer | BodyFailure
 * ```
 */
export type BodyFailure = 'too-large' | 'unsupported-encoding' | 'corrupt'

/**
 * Buffers a response body up to `limit` bytes; `'too-large'` (and the stream destroyed) beyond it.
 *
 * @example
 * ```ts
 * const bytes = await readLimited(res.body, 1_048_576)
 * ```
 */
export async function readLimited(body: ResponseBody, limit: number): Promise<Buffer | 'too-large'> {
  if (body === null) return Buffer.alloc(0)
  if (typeof body === 'string') {
    const buf = Buffer.from(body)
    return buf.length > limit ? 'too-large' : buf
  }
  if (!(body instanceof Readable)) {
    const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    return buf.length > limit ? 'too-large' : buf
  }
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    size += buf.length
    if (size > limit) {
      body.destroy()
      return 'too-large'
    }
    chunks.push(buf)
  }
  return Buffer.concat(chunks, size)
}

/**
 * Lists the content codings of a `Content-Encoding` value, lowercase, in the order they were applied;
 * `identity` is dropped. Empty for none.
 *
 * @example
 * ```ts
 * contentCodings('gzip, br') // ['gzip', 'br']
 * ```
 */
export function contentCodings(value: string | string[] | number | undefined): string[] {
  if (value === undefined || typeof value === 'number') return []
  const raw = Array.isArray(value) ? value.join(',') : value
  const out: string[] = []
  for (const part of raw.split(',')) {
    const coding = part.trim().toLowerCase()
    if (coding !== '' && coding !== 'identity') out.push(coding)
  }
  return out
}

/**
 * Undoes content codings (gzip, x-gzip, deflate, br; last applied first), never producing more than `limit`
 * bytes.
 *
 * @example
 * ```ts
 * const plain = await decodeBody(bytes, ['gzip'], 1_048_576)
 * ```
 */
export async function decodeBody(
  bytes: Buffer,
  codings: readonly string[],
  limit: number,
): Promise<Buffer | BodyFailure> {
  let out = bytes
  for (let i = codings.length - 1; i >= 0; i--) {
    const coding = codings[i]!
    if (!Object.hasOwn(decoders, coding)) return 'unsupported-encoding'
    try {
      out = await decoders[coding as keyof typeof decoders](out, { maxOutputLength: limit })
    } catch (error) {
      return (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? 'too-large' : 'corrupt'
    }
  }
  return out
}

/**
 * Whether a Content-Type names JSON: `application/json` or any `+json` structured syntax suffix.
 *
 * @example
 * ```ts
 * isJsonType('application/problem+json; charset=utf-8') // true
 * ```
 */
export function isJsonType(value: string | string[] | number | undefined): boolean {
  if (typeof value !== 'string') return false
  const semi = value.indexOf(';')
  const type = (semi === -1 ? value : value.slice(0, semi)).trim().toLowerCase()
  if (type === 'application/json') return true
  const slash = type.indexOf('/')
  return slash > 0 && slash < type.length - 6 && type.endsWith('+json')
}
